#include "runtime/large_buffer.h"

#include <new>
#include <utility>

#if defined(_WIN32)
#include "runtime/win32.h"
#else
#include <sys/mman.h>
#endif

namespace nibble {

namespace {
constexpr size_t kHuge = size_t{2} << 20;  // 2 MiB: the x86-64 and arm64 (4 KiB granule) huge page
}

LargeBuffer::LargeBuffer(LargeBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      base_(std::exchange(o.base_, nullptr)),
      mapped_(std::exchange(o.mapped_, 0)) {}

LargeBuffer& LargeBuffer::operator=(LargeBuffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    base_ = std::exchange(o.base_, nullptr);
    mapped_ = std::exchange(o.mapped_, 0);
  }
  return *this;
}

LargeBuffer::~LargeBuffer() { release(); }

#if defined(_WIN32)

LargeBuffer::LargeBuffer(size_t bytes) {
  if (bytes == 0) return;
  void* p = VirtualAlloc(nullptr, bytes, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
  if (!p) throw std::bad_alloc();
  base_ = p, mapped_ = bytes;
  data_ = static_cast<uint8_t*>(p), size_ = bytes;
}

void LargeBuffer::release() {
  if (base_) VirtualFree(base_, 0, MEM_RELEASE);
  base_ = nullptr, data_ = nullptr, size_ = mapped_ = 0;
}

#else

LargeBuffer::LargeBuffer(size_t bytes) {
  if (bytes == 0) return;
  // Big buffers: map 2 MiB more, so that a 2 MiB-aligned range of `bytes` fits inside.
  const bool huge = bytes >= kHuge;
  const size_t len = huge ? bytes + kHuge : bytes;
  if (len < bytes) throw std::bad_alloc();
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = p, mapped_ = len;
  const auto addr = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = huge ? (addr + kHuge - 1) & ~(uintptr_t{kHuge} - 1) : addr;
  data_ = reinterpret_cast<uint8_t*>(start), size_ = bytes;
#if defined(MADV_HUGEPAGE)
  // Advice only: where THP is off or unsupported the buffer stays on small pages.
  if (huge) ::madvise(data_, bytes, MADV_HUGEPAGE);
#endif
}

void LargeBuffer::release() {
  if (base_) ::munmap(base_, mapped_);
  base_ = nullptr, data_ = nullptr, size_ = mapped_ = 0;
}

#endif

}  // namespace nibble
