// SlotPool: the slot with the longest cached prefix wins (ties: least recently used), the
// queue is FIFO and bounded (queue_full past it), waiters time out or are woken by shutdown,
// and a lease always gives its slot back.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "slots.h"

namespace nibble::serve {
namespace {

using std::chrono::milliseconds;

TEST(ServeSlots, PrefersTheLongestPrefixThenLeastRecentlyUsed) {
  SlotPool pool(3, 0);
  { auto a = pool.acquire(nullptr, milliseconds(0)); EXPECT_EQ(a.lease->slot(), 0); }
  { auto a = pool.acquire(nullptr, milliseconds(0)); EXPECT_EQ(a.lease->slot(), 1); }
  auto scored = pool.acquire([](int s) { return s == 0 ? size_t{9} : size_t{2}; }, milliseconds(0));
  EXPECT_EQ(scored.lease->slot(), 0);
  auto other = pool.acquire([](int s) { return size_t{0}; }, milliseconds(0));
  EXPECT_EQ(other.lease->slot(), 2);  // never used, so least recently used
  EXPECT_EQ(pool.counts().busy, 2);
}

TEST(ServeSlots, BoundedQueueRefusesAtOnce) {
  SlotPool pool(1, 1);
  auto held = pool.acquire(nullptr, milliseconds(0));
  ASSERT_TRUE(held.lease);
  std::atomic<bool> waiter_got{false};
  std::thread waiter([&] {
    auto w = pool.acquire(nullptr, milliseconds(10000));
    waiter_got = static_cast<bool>(w.lease);
  });
  while (pool.counts().waiting == 0) std::this_thread::yield();
  auto refused = pool.acquire(nullptr, milliseconds(10000));  // queue full: no waiting
  EXPECT_FALSE(refused.lease);
  EXPECT_EQ(refused.refusal, SlotPool::Refusal::queue_full);
  EXPECT_EQ(pool.counts().rejected, 1u);
  held.lease.reset();  // the waiter gets the slot
  waiter.join();
  EXPECT_TRUE(waiter_got);
  EXPECT_EQ(pool.counts().busy, 0);
  EXPECT_EQ(pool.counts().served, 2u);
}

TEST(ServeSlots, WaitersAreServedInArrivalOrder) {
  SlotPool pool(1, 8);
  auto held = pool.acquire(nullptr, milliseconds(0));
  std::vector<int> order;
  std::mutex mu;
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&, i] {
      auto l = pool.acquire(nullptr, milliseconds(10000));
      std::lock_guard lock(mu);
      order.push_back(i);
    });
    while (pool.counts().waiting != i + 1) std::this_thread::yield();
  }
  held.lease.reset();
  for (auto& t : ts) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(pool.counts().busy, 0);
}

TEST(ServeSlots, TimeoutAndShutdown) {
  SlotPool pool(1, 4);
  auto held = pool.acquire(nullptr, milliseconds(0));
  auto late = pool.acquire(nullptr, milliseconds(20));
  EXPECT_EQ(late.refusal, SlotPool::Refusal::timeout);
  EXPECT_EQ(pool.counts().waiting, 0);
  SlotPool::Refusal seen = SlotPool::Refusal::none;
  std::thread waiter([&] { seen = pool.acquire(nullptr, milliseconds(60000)).refusal; });
  while (pool.counts().waiting == 0) std::this_thread::yield();
  pool.shutdown();
  waiter.join();
  EXPECT_EQ(seen, SlotPool::Refusal::shutting_down);
  EXPECT_EQ(pool.acquire(nullptr, milliseconds(0)).refusal, SlotPool::Refusal::shutting_down);
}

}  // namespace
}  // namespace nibble::serve
