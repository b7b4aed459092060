// ThreadPool: every index runs once per region, barriers order phases, regions repeat.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "runtime/thread_pool.h"

namespace nibble {
namespace {

TEST(ThreadPool, EveryIndexRunsOnce) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    ASSERT_EQ(pool.size(), n);
    for (int rep = 0; rep < 200; ++rep) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.run([&](int i) { hits[i].fetch_add(1); });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPool, BarrierSeparatesPhases) {
  ThreadPool pool(4);
  std::vector<int> a(4), b(4);
  for (int rep = 0; rep < 20; ++rep) {
    pool.run([&](int i) {
      for (int phase = 0; phase < 10; ++phase) {
        a[i] = rep * 100 + phase;
        pool.barrier();
        // Every thread sees every other thread's write of this phase.
        int sum = 0;
        for (int j = 0; j < 4; ++j) sum += (a[j] == rep * 100 + phase);
        b[i] = sum;
        pool.barrier();
        ASSERT_EQ(b[(i + 1) % 4], 4);
        pool.barrier();
      }
    });
  }
}

TEST(ThreadPool, IdleAfterSleepStillWakes) {
  ThreadPool pool(3);
  std::atomic<int> n{0};
  pool.run([&](int) { n.fetch_add(1); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // workers fall asleep
  pool.run([&](int) { n.fetch_add(1); });
  EXPECT_EQ(n.load(), 6);
  EXPECT_GE(ThreadPool::physical_cores(), 1);
}

}  // namespace
}  // namespace nibble
