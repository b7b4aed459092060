// A fixed pool of worker threads for the graph executor. One parallel region per forward pass:
// run(fn) starts fn(thread_index) on every thread (the caller is thread 0) and returns when all
// are done; inside, barrier() separates dependent ops. Hand-off and barriers spin first (a
// spinning thread sees the change within ~100 ns) and sleep on the OS's futex
// (runtime/wait.h) after a bounded spin, so an idle pool burns no CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace nibble {

class ThreadPool {
 public:
  // n_threads >= 1 (0 = physical cores).
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_; }
  // Runs fn(i) for i in [0, size()) concurrently; the calling thread runs fn(0). Not reentrant.
  void run(const std::function<void(int)>& fn);
  // All threads of the current region wait here until every one has arrived.
  void barrier();

  // The default thread count: physical performance cores (runtime/cpu_topology.h).
  static int physical_cores();

 private:
  void worker(int index);

  int n_;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* fn_ = nullptr;
  alignas(64) std::atomic<uint32_t> generation_{0};
  alignas(64) std::atomic<uint32_t> done_{0};
  alignas(64) std::atomic<int> barrier_count_{0};
  alignas(64) std::atomic<uint32_t> barrier_phase_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace nibble
