#include "runtime/thread_pool.h"

#include "runtime/cpu_topology.h"
#include "runtime/wait.h"

#include <utility>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#include <immintrin.h>
#define NIBBLE_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define NIBBLE_PAUSE() asm volatile("yield")
#else
#define NIBBLE_PAUSE() ((void)0)
#endif

namespace nibble {
namespace {
// Spin iterations before sleeping: a few tens of microseconds, long enough to cover the gap
// between two ops of a forward pass, short enough not to burn a core between tokens.
constexpr int kSpin = 1 << 11;

void wait_change(const std::atomic<uint32_t>& a, uint32_t old) {
  for (int i = 0; i < kSpin; ++i) {
    if (a.load(std::memory_order_acquire) != old) return;
    NIBBLE_PAUSE();
  }
  while (a.load(std::memory_order_acquire) == old) wait_while_equal(a, old);
}
}  // namespace

int ThreadPool::physical_cores() { return default_thread_count(); }

ThreadPool::ThreadPool(int n_threads) : n_(n_threads > 0 ? n_threads : physical_cores()) {
  threads_.reserve(static_cast<size_t>(n_ - 1));
  for (int i = 1; i < n_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  wake_all(generation_);
  for (auto& t : threads_) t.join();
}

void ThreadPool::worker(int index) {
  uint32_t seen = 0;
  for (;;) {
    wait_change(generation_, seen);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    (*fn_)(index);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<uint32_t>(n_ - 1))
      wake_one(done_);
  }
}

void ThreadPool::run(const std::function<void(int)>& fn) {
  if (n_ == 1) {
    fn(0);
    return;
  }
  fn_ = &fn;
  done_.store(0, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  wake_all(generation_);
  fn(0);
  for (uint32_t d = done_.load(std::memory_order_acquire); d != static_cast<uint32_t>(n_ - 1);
       d = done_.load(std::memory_order_acquire))
    wait_change(done_, d);
  fn_ = nullptr;
}

void ThreadPool::barrier() {
  if (n_ == 1) return;
  uint32_t phase = barrier_phase_.load(std::memory_order_acquire);
  if (barrier_count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
    barrier_count_.store(0, std::memory_order_relaxed);
    barrier_phase_.fetch_add(1, std::memory_order_acq_rel);
    wake_all(barrier_phase_);
    return;
  }
  wait_change(barrier_phase_, phase);
}

}  // namespace nibble
