// Zero-filled, page-aligned memory for big long-lived buffers (the KV cache): the one place
// that asks the OS for huge pages.
//
// POSIX: an anonymous mmap, 2 MiB-aligned when at least 2 MiB, with madvise(MADV_HUGEPAGE)
// where the OS has it (Linux: transparent huge pages in "madvise" mode back it with 2 MiB pages,
// so a long cache costs far fewer TLB misses). Pages are faulted in on first touch, so only the
// part of the cache in use is resident. Windows: VirtualAlloc (committed, zero-filled).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nibble {

class LargeBuffer {
 public:
  LargeBuffer() = default;
  // bytes zero bytes; throws std::bad_alloc when the OS refuses.
  explicit LargeBuffer(size_t bytes);
  LargeBuffer(LargeBuffer&& o) noexcept;
  LargeBuffer& operator=(LargeBuffer&& o) noexcept;
  LargeBuffer(const LargeBuffer&) = delete;
  LargeBuffer& operator=(const LargeBuffer&) = delete;
  ~LargeBuffer();

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* base_ = nullptr;  // what the OS returned (data_ may be aligned up from it)
  size_t mapped_ = 0;     // bytes mapped at base_
};

}  // namespace nibble
