#include "runtime/thread_pool.h"

#include "runtime/cpu_topology.h"
#include "runtime/wait.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

using Clock = std::chrono::steady_clock;

// Spin this long before giving the core away: longer than the gap between two steps when every
// thread runs (a chunk's worth of work), far shorter than an OS time slice (milliseconds), which
// is how long a descheduled thread keeps the others waiting.
constexpr auto kSpinTime = std::chrono::microseconds(30);
// Workers waiting for the next region spin longer: between two decode steps the caller samples
// a token (tens of microseconds), and a sleeping worker costs a wake-up per token.
constexpr auto kHandOffSpin = std::chrono::microseconds(100);
// Then yield this many times (a late thread queued on this core runs) before sleeping.
constexpr int kYields = 4;

// Spins until ready() or kSpinTime has passed, then yields kYields times; true once ready().
template <class Ready>
bool spin_then_yield(Clock::duration spin, Ready&& ready) {
  if (ready()) return true;
  const auto until = Clock::now() + spin;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      NIBBLE_PAUSE();
      if (ready()) return true;
    }
    if (Clock::now() >= until) break;
  }
  for (int i = 0; i < kYields; ++i) {
    std::this_thread::yield();
    if (ready()) return true;
  }
  return false;
}

// Returns once a != old. Who changes `a` wakes every sleeper on it (wake_all).
void wait_change(const std::atomic<uint32_t>& a, uint32_t old,
                 Clock::duration spin = kSpinTime) {
  if (spin_then_yield(spin, [&] { return a.load(std::memory_order_acquire) != old; })) return;
  while (a.load(std::memory_order_acquire) == old) wait_while_equal(a, old);
}
}  // namespace

int ThreadPool::physical_cores() { return default_thread_count(); }

ThreadPool::ThreadPool(int n_threads)
    : n_(n_threads > 0 ? n_threads : physical_cores()),
      blocks_(new std::atomic<Step*>[kMaxBlocks]),
      cursors_(static_cast<size_t>(n_)) {
  for (uint32_t b = 0; b < kMaxBlocks; ++b) blocks_[b].store(nullptr, std::memory_order_relaxed);
  threads_.reserve(static_cast<size_t>(n_ - 1));
  for (int i = 1; i < n_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  wake_all(generation_);
  for (auto& t : threads_) t.join();
  for (uint32_t b = 0; b < kMaxBlocks; ++b) delete[] blocks_[b].load(std::memory_order_relaxed);
}

void ThreadPool::worker(int index) {
  uint32_t seen = 0;
  for (;;) {
    wait_change(generation_, seen, kHandOffSpin);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    (*fn_)(index);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<uint32_t>(n_ - 1))
      wake_all(done_);
  }
}

void ThreadPool::run(const std::function<void(int)>& fn) {
  if (n_ == 1) {
    fn(0);
    return;
  }
  // Clear the steps the previous region used (its threads have all returned).
  for (uint32_t i = 0; i < used_steps_; ++i) {
    Step& s = blocks_[i / kBlockSteps].load(std::memory_order_relaxed)[i % kBlockSteps];
    s.next.store(0, std::memory_order_relaxed);
    s.done.store(0, std::memory_order_relaxed);
  }
  for (Cursor& c : cursors_) c.step = 0;
  fn_ = &fn;
  in_region_ = true;
  done_.store(0, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);  // publishes all of the above
  wake_all(generation_);
  fn(0);
  if (done_.load(std::memory_order_acquire) != static_cast<uint32_t>(n_ - 1)) {
    const auto w0 = Clock::now();
    for (uint32_t d = done_.load(std::memory_order_acquire); d != static_cast<uint32_t>(n_ - 1);
         d = done_.load(std::memory_order_acquire))
      wait_change(done_, d);
    main_wait_ += Clock::now() - w0;
  }
  fn_ = nullptr;
  in_region_ = false;
  used_steps_ = 0;
  for (const Cursor& c : cursors_) used_steps_ = std::max(used_steps_, c.step);
}

void ThreadPool::run_shared(const std::function<void(int)>& fn) {
  const auto t0 = Clock::now();
  if (n_ == 1 || t0 < solo_until_) {  // outside a region: for_each runs every unit here
    solo_regions_ += n_ > 1;
    fn(0);
    return;
  }
  main_wait_ = Clock::duration::zero();
  run(fn);
  const auto t1 = Clock::now();
  if (main_wait_ > std::chrono::microseconds(200) && 3 * main_wait_ > t1 - t0) {
    solo_until_ = t1 + solo_span_;
    solo_span_ = std::min<Clock::duration>(2 * solo_span_, kSoloMax);
  } else {
    solo_span_ = kSoloMin;
  }
}

ThreadPool::Step& ThreadPool::next_step(int tid) {
  const uint32_t i = cursors_[static_cast<size_t>(tid)].step++;
  const uint32_t b = i / kBlockSteps;
  if (b >= kMaxBlocks) {
    std::fprintf(stderr, "nibble: ThreadPool: more than %u steps in one region\n",
                 kBlockSteps * kMaxBlocks);
    std::abort();
  }
  Step* blk = blocks_[b].load(std::memory_order_acquire);
  if (!blk) {
    // First region this long: the first thread here allocates the block, the others use it.
    Step* fresh = new Step[kBlockSteps];
    if (blocks_[b].compare_exchange_strong(blk, fresh, std::memory_order_acq_rel))
      blk = fresh;
    else
      delete[] fresh;
  }
  return blk[i % kBlockSteps];
}

void ThreadPool::units_done(Step& s, int64_t count, int64_t n) {
  // seq_cst pairs with the sleeper's seq_cst increment of sleepers_ in wait_step: either the
  // sleeper sees the final count, or this thread sees the sleeper and wakes it.
  const auto c = static_cast<uint32_t>(count);
  if (s.done.fetch_add(c, std::memory_order_seq_cst) + c == static_cast<uint32_t>(n) &&
      sleepers_.load(std::memory_order_seq_cst) != 0)
    wake_all(s.done);
}

void ThreadPool::wait_step(Step& s, int64_t n, int tid) {
  const auto all = static_cast<uint32_t>(n);
  if (s.done.load(std::memory_order_acquire) == all) return;
  const auto w0 = tid == 0 ? Clock::now() : Clock::time_point{};
  if (!spin_then_yield(kSpinTime,
                       [&] { return s.done.load(std::memory_order_acquire) == all; })) {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    for (uint32_t d = s.done.load(std::memory_order_seq_cst); d != all;
         d = s.done.load(std::memory_order_seq_cst))
      wait_while_equal(s.done, d);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (tid == 0) main_wait_ += Clock::now() - w0;
}

void ThreadPool::barrier() {
  if (n_ == 1 || !in_region_) return;
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
