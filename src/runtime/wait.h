// Sleeping until a 32-bit atomic changes, and waking the sleepers: the futex of each OS.
// Linux and Apple: std::atomic::wait / notify (futex, ulock). Windows: WaitOnAddress /
// WakeByAddress*, because libstdc++'s generic fallback for std::atomic::wait (MinGW) was seen
// to miss wake-ups under load (a thread-pool hang in the Windows tests).
#pragma once

#include <atomic>
#include <cstdint>

namespace nibble {

// Returns once a.load() != old, or spuriously; callers re-check in a loop.
void wait_while_equal(const std::atomic<uint32_t>& a, uint32_t old);
void wake_all(std::atomic<uint32_t>& a);
void wake_one(std::atomic<uint32_t>& a);

}  // namespace nibble
