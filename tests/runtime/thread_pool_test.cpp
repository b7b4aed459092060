// ThreadPool: every index runs once per region, barriers order phases, regions repeat; for_each
// runs every unit once, makes a step's results visible to every thread, and lets a thread that
// is held up fall behind without holding up the others.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <thread>
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

TEST(ThreadPool, ForEachRunsEveryUnitOnceAndPublishesTheStep) {
  for (int n : {1, 2, 3, 4}) {
    ThreadPool pool(n);
    for (int rep = 0; rep < 5; ++rep) {
      // 600 steps (several step blocks); each reads the whole previous step's output.
      std::vector<int64_t> a(97, 0), b(97, 0);
      std::vector<std::atomic<int>> hits(97);
      pool.run([&](int tid) {
        for (int step = 0; step < 600; ++step) {
          std::vector<int64_t>& src = step % 2 ? a : b;
          std::vector<int64_t>& dst = step % 2 ? b : a;
          const int64_t chunk = 1 + step % 7;
          pool.for_each(tid, 97, chunk, [&](int64_t begin, int64_t end) {
            if (n > 1) {
              ASSERT_TRUE(end - begin >= chunk || end == 97) << begin << " " << end;
            }
            for (int64_t u = begin; u < end; ++u) {
              const int64_t sum = std::accumulate(src.begin(), src.end(), int64_t{0});
              dst[u] = sum % 1000003 + u;
              if (step == 0) hits[u].fetch_add(1);
            }
          });
        }
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
      // The same recurrence on one thread.
      std::vector<int64_t> ra(97, 0), rb(97, 0);
      for (int step = 0; step < 600; ++step) {
        std::vector<int64_t>& src = step % 2 ? ra : rb;
        std::vector<int64_t>& dst = step % 2 ? rb : ra;
        const int64_t sum = std::accumulate(src.begin(), src.end(), int64_t{0});
        for (int64_t u = 0; u < 97; ++u) dst[u] = sum % 1000003 + u;
      }
      ASSERT_EQ(a, ra) << n << " threads";
      ASSERT_EQ(b, rb) << n << " threads";
    }
  }
}

TEST(ThreadPool, ForEachDoesNotWaitForAThreadHeldUp) {
  // Thread 1 is held up before its first step until thread 0 has finished all of them: with
  // dynamic claiming thread 0 does every chunk alone (a rendezvous would never get there).
  ThreadPool pool(2);
  std::atomic<bool> zero_done{false};
  std::atomic<int> units{0};
  bool late_saw_done = false;
  pool.run([&](int tid) {
    if (tid == 1) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!zero_done.load() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      late_saw_done = zero_done.load();
    }
    for (int step = 0; step < 50; ++step)
      pool.for_each(tid, 10, 3, [&](int64_t b, int64_t e) { units.fetch_add(int(e - b)); });
    if (tid == 0) zero_done.store(true);
  });
  EXPECT_TRUE(late_saw_done);
  EXPECT_EQ(units.load(), 500);
}

TEST(ThreadPool, ForEachOutsideARegionRunsDirectly) {
  ThreadPool pool(3);
  int64_t b = -1, e = -1;
  pool.for_each(0, 5, 2, [&](int64_t begin, int64_t end) { b = begin, e = end; });
  EXPECT_EQ(b, 0);
  EXPECT_EQ(e, 5);
}

TEST(ThreadPool, ForEachAfterASleepingWaiterWakes) {
  // One thread finishes its share and sleeps on the step (past the spin); the other ends the
  // step much later and must wake it.
  ThreadPool pool(2);
  std::atomic<int> units{0};
  for (int rep = 0; rep < 5; ++rep) {
    pool.run([&](int tid) {
      pool.for_each(tid, 2, 1, [&](int64_t b, int64_t) {
        if (b == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        units.fetch_add(1);
      });
      pool.for_each(tid, 2, 1, [&](int64_t, int64_t) { units.fetch_add(1); });
    });
  }
  EXPECT_EQ(units.load(), 20);
}

// A run_shared region whose second thread is held up (asleep) makes the caller wait for most
// of the region; the regions right after run on the caller alone (fn(0) only, every unit of
// every step on it, nothing lost), run() keeps every thread meanwhile, and once the solo
// period has passed run_shared uses every thread again.
TEST(ThreadPool, RunSharedRunsAloneAfterALateRegionThenTriesAllAgain) {
  ThreadPool pool(2);
  std::atomic<int> calls[2] = {0, 0};
  std::atomic<int64_t> units{0};
  auto region = [&](int hold_ms) {
    return [&, hold_ms](int tid) {
      calls[tid].fetch_add(1);
      if (tid == 1 && hold_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
      for (int step = 0; step < 20; ++step)
        pool.for_each(tid, 8, 1, [&](int64_t b, int64_t e) { units.fetch_add(e - b); });
    };
  };
  // Up to 5 tries (a loaded machine may deschedule the caller past the solo period).
  bool solo_seen = false;
  for (int attempt = 0; attempt < 5 && !solo_seen; ++attempt) {
    pool.run_shared(region(10));
    const uint64_t before = pool.solo_regions();
    const int ones = calls[1].load();
    units.store(0);
    pool.run_shared(region(0));
    EXPECT_EQ(units.load(), 20 * 8);
    if (pool.solo_regions() == before + 1) {
      solo_seen = true;
      EXPECT_EQ(calls[1].load(), ones) << "a solo region ran fn(1)";
      // run() is not adaptive: both threads run even now.
      pool.run([&](int tid) { calls[tid].fetch_add(1); });
      EXPECT_EQ(calls[1].load(), ones + 1);
    }
  }
  EXPECT_TRUE(solo_seen) << "a region late by 10 ms of ~10 ms did not make the next one solo";
  // After the solo period (20 ms; longer only if the probes are late again) all threads run.
  bool both = false;
  for (int attempt = 0; attempt < 30 && !both; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int ones = calls[1].load();
    units.store(0);
    pool.run_shared(region(0));
    EXPECT_EQ(units.load(), 20 * 8);
    both = calls[1].load() == ones + 1;
  }
  EXPECT_TRUE(both) << "run_shared never used the second thread again";
}

}  // namespace
}  // namespace nibble
