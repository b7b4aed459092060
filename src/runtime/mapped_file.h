// A read-only memory mapping of a whole file: the one place that knows the OS's mapping API
// (POSIX mmap, Windows CreateFileMapping/MapViewOfFile).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "nibble/result.h"

namespace nibble {

class MappedFile {
 public:
  // Maps `path` read-only. io_error naming the path and the OS's reason when it cannot be
  // opened, is not a regular file, or cannot be mapped. An empty file maps to size 0.
  static Result<MappedFile> open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  // Tells the OS that the whole pages inside [p, p + n) (a range of this mapping; anything
  // else is ignored) are not needed now: they leave resident memory and are read again from
  // the file if touched. POSIX: madvise(MADV_DONTNEED), then MADV_RANDOM: a later touch (the
  // embedding rows a tied output head's released source still serves) maps only its own page,
  // not a fault-around window or a large page-cache folio (1B models: 16-22 MiB of resident
  // file pages after 64 generated tokens without it). Windows: nothing (clean file pages are
  // reclaimed by the OS's standby list anyway).
  void drop_pages(const void* p, uint64_t n) const;

 private:
  void release();
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  void* handle_ = nullptr;  // Windows: the mapping object
};

}  // namespace nibble
