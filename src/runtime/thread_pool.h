// A fixed pool of worker threads for the graph executor. One parallel region per forward pass:
// run(fn) starts fn(thread_index) on every thread (the caller is thread 0) and returns when all
// are done. Inside a region, work is shared in steps (for_each): the units of a step are claimed
// in chunks from a shared counter, so a thread the OS has descheduled holds up nobody but the
// chunk it is in — the others take the rest and move on; a late thread finds the step's work
// gone and skips ahead. barrier() is the older rendezvous of every thread (each waits for the
// slowest), kept for code that needs one.
//
// Waiting (hand-off, step completion, barrier) spins for tens of microseconds (the gap between
// two steps when nobody is descheduled), then yields the core a few times (a thread late on
// this core runs), then sleeps on the OS's futex (runtime/wait.h; the idle core lets the OS
// move a late thread onto it). An idle pool burns no CPU.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace nibble {

class ThreadPool {
 public:
  // n_threads >= 1 (0 = default_thread_count(): physical performance cores).
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_; }
  // Runs fn(i) for i in [0, size()) concurrently; the calling thread runs fn(0). Not reentrant.
  void run(const std::function<void(int)>& fn);
  // Like run(fn), for regions whose work is all in for_each steps (fn(i) does nothing a
  // thread must do itself). When the other threads kept the caller waiting for over a third of
  // such a region (a busy core: the OS runs them late), the next regions run fn(0) alone on the
  // calling thread, every step's units on it, for kSoloMin (doubling up to kSoloMax while
  // the probe region that follows is late again), then all threads are tried again. Results
  // are the same either way when a unit's result does not depend on its chunk (decision 20).
  void run_shared(const std::function<void(int)>& fn);
  // Regions run_shared has run on the calling thread alone (statistics, tests).
  uint64_t solo_regions() const { return solo_regions_; }
  // All threads of the current region wait here until every one has arrived (returns at once
  // outside a region, e.g. in a region run_shared runs alone).
  void barrier();

  // One step of work sharing inside run(): every thread of the region calls it (tid = its
  // index) with the same n and min_chunk, steps in the same order on every thread. Units
  // [0, n) (n < 2^32) are claimed in chunks from a shared counter by whichever thread asks
  // first and run as fn(begin, end) on that thread; a claim takes a quarter of what remains per
  // thread, at least min_chunk units (guided: large chunks while much remains, small ones at
  // the end, so threads finish together). Returns once every unit of the step is done, so the
  // step's results are visible to the caller. Chunk bounds and the thread that runs a unit
  // vary from run to run: fn must give the same result for a unit whatever the chunk. Outside
  // a region, or with one thread, fn(0, n) runs directly.
  template <class F>
  void for_each(int tid, int64_t n, int64_t min_chunk, F&& fn) {
    if (n <= 0) return;
    if (n_ == 1 || !in_region_) {
      fn(int64_t{0}, n);
      return;
    }
    Step& s = next_step(tid);
    if (min_chunk < 1) min_chunk = 1;
    const int64_t divisor = 4 * static_cast<int64_t>(n_);
    for (int64_t b = s.next.load(std::memory_order_relaxed); b < n;) {
      const int64_t want = (n - b) / divisor;
      const int64_t e = b + (want > min_chunk ? want : min_chunk) < n
                            ? b + (want > min_chunk ? want : min_chunk)
                            : n;
      if (!s.next.compare_exchange_weak(b, e, std::memory_order_relaxed)) continue;
      fn(b, e);
      units_done(s, e - b, n);
      b = s.next.load(std::memory_order_relaxed);
    }
    wait_step(s, n, tid);
  }

  // The default thread count: physical performance cores (runtime/cpu_topology.h).
  static int physical_cores();

 private:
  struct alignas(64) Step {
    std::atomic<int64_t> next{0};   // first unit not yet claimed
    std::atomic<uint32_t> done{0};  // units finished
  };
  struct alignas(64) Cursor {
    uint32_t step = 0;  // steps this thread has entered in the current region
  };
  static constexpr uint32_t kBlockSteps = 256, kMaxBlocks = 256;

  void worker(int index);
  Step& next_step(int tid);
  void units_done(Step& s, int64_t count, int64_t n);
  void wait_step(Step& s, int64_t n, int tid);

  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kSoloMin = std::chrono::milliseconds(20);
  static constexpr Clock::duration kSoloMax = std::chrono::milliseconds(640);

  int n_;
  // run_shared's state, touched by the calling thread only (main_wait_ also by thread 0 inside
  // run(), which is that thread): its waits for the others in the current region.
  Clock::duration main_wait_{};
  Clock::time_point solo_until_{};
  Clock::duration solo_span_ = kSoloMin;
  uint64_t solo_regions_ = 0;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* fn_ = nullptr;
  bool in_region_ = false;
  alignas(64) std::atomic<uint32_t> generation_{0};
  alignas(64) std::atomic<uint32_t> done_{0};
  alignas(64) std::atomic<int> barrier_count_{0};
  alignas(64) std::atomic<uint32_t> barrier_phase_{0};
  alignas(64) std::atomic<uint32_t> sleepers_{0};  // threads asleep on a step's done counter
  std::atomic<bool> stop_{false};
  // Steps in blocks allocated on first use (the first region of a given length allocates;
  // later ones do not); run() clears the steps the previous region used.
  std::unique_ptr<std::atomic<Step*>[]> blocks_;
  std::vector<Cursor> cursors_;
  uint32_t used_steps_ = 0;
};

}  // namespace nibble
