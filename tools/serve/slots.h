// Slots of `nibble serve`: N sessions, each serving one request at a time. Requests that find
// every slot busy wait in a FIFO queue of bounded length; past the bound acquire() refuses at
// once (the server answers 429). A lease gives its slot back when destroyed, whatever path the
// request took (finished, failed, client gone), so a slot cannot leak.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace nibble::serve {

class SlotPool {
 public:
  SlotPool(int n_slots, int max_queue);

  class Lease {
   public:
    Lease(SlotPool* pool, int slot) : pool_(pool), slot_(slot) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_->release(slot_); }
    int slot() const { return slot_; }

   private:
    SlotPool* pool_;
    int slot_;
  };

  enum class Refusal { none, queue_full, timeout, shutting_down };
  struct Acquired {
    std::unique_ptr<Lease> lease;  // null when refused
    Refusal refusal = Refusal::none;
  };
  // A free slot, the one with the highest score(slot) (ties: the least recently used), waiting
  // in line up to max_wait when none is free. score runs under the pool's lock, only on free
  // slots (their sessions are not in use).
  Acquired acquire(const std::function<size_t(int slot)>& score,
                   std::chrono::milliseconds max_wait);
  // Wakes every waiter with shutting_down; later acquire() calls are refused the same way.
  void shutdown();

  struct Counts {
    int slots = 0;
    int busy = 0;
    int waiting = 0;
    int max_queue = 0;
    uint64_t served = 0;    // leases handed out
    uint64_t rejected = 0;  // refused with queue_full
  };
  Counts counts() const;

 private:
  void release(int slot);
  int pick(const std::function<size_t(int)>& score) const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> busy_;
  std::vector<uint64_t> last_used_;
  std::deque<uint64_t> queue_;  // tickets of waiting requests, in arrival order
  uint64_t next_ticket_ = 0;
  uint64_t clock_ = 0;
  int max_queue_;
  int n_busy_ = 0;
  bool shutdown_ = false;
  uint64_t served_ = 0, rejected_ = 0;
};

}  // namespace nibble::serve
