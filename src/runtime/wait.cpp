#include "runtime/wait.h"

#if defined(_WIN32)
#include "runtime/win32.h"
#endif

namespace nibble {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));

#if defined(_WIN32)
void wait_while_equal(const std::atomic<uint32_t>& a, uint32_t old) {
  WaitOnAddress(const_cast<std::atomic<uint32_t>*>(&a), &old, sizeof(old), INFINITE);
}
void wake_all(std::atomic<uint32_t>& a) { WakeByAddressAll(&a); }
void wake_one(std::atomic<uint32_t>& a) { WakeByAddressSingle(&a); }
#else
void wait_while_equal(const std::atomic<uint32_t>& a, uint32_t old) {
  a.wait(old, std::memory_order_acquire);
}
void wake_all(std::atomic<uint32_t>& a) { a.notify_all(); }
void wake_one(std::atomic<uint32_t>& a) { a.notify_one(); }
#endif

}  // namespace nibble
