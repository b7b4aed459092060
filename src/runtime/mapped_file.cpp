#include "runtime/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <utility>

#if defined(_WIN32)
#include "runtime/win32.h"
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace nibble {

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      handle_(std::exchange(o.handle_, nullptr)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    handle_ = std::exchange(o.handle_, nullptr);
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

#if defined(_WIN32)

namespace {

std::string last_error_text() {
  const DWORD code = GetLastError();
  char buf[256] = {0};
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                           code, 0, buf, sizeof(buf), nullptr);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == '.')) buf[--n] = 0;
  return n ? std::string(buf) : "Windows error " + std::to_string(code);
}

// UTF-8 path -> UTF-16 for the wide API (paths with non-ASCII characters work).
std::wstring widen(const std::string& s) {
  if (s.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring w(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::string& path) {
  HANDLE f = CreateFileW(widen(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE)
    return Error(ErrorCode::io_error, path + ": cannot open: " + last_error_text());
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(f, &info) ||
      (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    CloseHandle(f);
    return Error(ErrorCode::io_error, path + ": not a regular file");
  }
  MappedFile m;
  m.size_ = (static_cast<uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
  if (m.size_ > 0) {
    HANDLE map = CreateFileMappingW(f, nullptr, PAGE_READONLY, 0, 0, nullptr);
    if (!map) {
      std::string why = last_error_text();
      CloseHandle(f);
      return Error(ErrorCode::io_error, path + ": mapping failed: " + why);
    }
    void* p = MapViewOfFile(map, FILE_MAP_READ, 0, 0, 0);
    if (!p) {
      std::string why = last_error_text();
      CloseHandle(map);
      CloseHandle(f);
      return Error(ErrorCode::io_error, path + ": mapping failed: " + why);
    }
    m.handle_ = map;
    m.data_ = static_cast<const uint8_t*>(p);
  }
  CloseHandle(f);  // the mapping keeps the file open
  return m;
}

void MappedFile::drop_pages(const void*, uint64_t) const {}

void MappedFile::release() {
  if (data_) UnmapViewOfFile(data_);
  if (handle_) CloseHandle(static_cast<HANDLE>(handle_));
  data_ = nullptr;
  handle_ = nullptr;
  size_ = 0;
}

#else

Result<MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Error(ErrorCode::io_error, path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(fd);
    return Error(ErrorCode::io_error,
                 path + ": " + (S_ISREG(st.st_mode) ? std::strerror(err) : "not a regular file"));
  }
  MappedFile m;
  m.size_ = static_cast<uint64_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return Error(ErrorCode::io_error, path + ": mmap failed: " + std::strerror(err));
    }
    m.data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return m;
}

void MappedFile::drop_pages(const void* p, uint64_t n) const {
  if (!data_ || n == 0) return;
  const auto lo = reinterpret_cast<uintptr_t>(p), map_lo = reinterpret_cast<uintptr_t>(data_);
  if (lo < map_lo || lo - map_lo > size_ || n > size_ - (lo - map_lo)) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t start = (lo + page - 1) / page * page;  // only whole pages inside the range
  const uintptr_t end = (lo + n) / page * page;
  if (end <= start) return;
  ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
#if defined(MADV_RANDOM)
  ::madvise(reinterpret_cast<void*>(start), end - start, MADV_RANDOM);
#endif
}

void MappedFile::release() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

#endif

}  // namespace nibble
