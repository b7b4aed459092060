#include "slots.h"

#include <algorithm>

namespace nibble::serve {

SlotPool::SlotPool(int n_slots, int max_queue)
    : busy_(static_cast<size_t>(std::max(1, n_slots)), false),
      last_used_(busy_.size(), 0),
      max_queue_(std::max(0, max_queue)) {}

int SlotPool::pick(const std::function<size_t(int)>& score) const {
  int best = -1;
  size_t best_score = 0;
  for (int s = 0; s < static_cast<int>(busy_.size()); ++s) {
    if (busy_[s]) continue;
    const size_t sc = score ? score(s) : 0;
    if (best < 0 || sc > best_score ||
        (sc == best_score && last_used_[s] < last_used_[best])) {
      best = s;
      best_score = sc;
    }
  }
  return best;
}

SlotPool::Acquired SlotPool::acquire(const std::function<size_t(int)>& score,
                                     std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mu_);
  if (shutdown_) return {nullptr, Refusal::shutting_down};
  const bool free_now = n_busy_ < static_cast<int>(busy_.size());
  if (!(free_now && queue_.empty())) {
    if (static_cast<int>(queue_.size()) >= max_queue_) {
      ++rejected_;
      return {nullptr, Refusal::queue_full};
    }
    const uint64_t ticket = next_ticket_++;
    queue_.push_back(ticket);
    const bool ready = cv_.wait_for(lock, max_wait, [&] {
      return shutdown_ ||
             (queue_.front() == ticket && n_busy_ < static_cast<int>(busy_.size()));
    });
    queue_.erase(std::find(queue_.begin(), queue_.end(), ticket));
    if (!ready || shutdown_) {
      cv_.notify_all();  // the next in line may be ready now
      return {nullptr, shutdown_ ? Refusal::shutting_down : Refusal::timeout};
    }
  }
  const int slot = pick(score);
  busy_[slot] = true;
  ++n_busy_;
  ++served_;
  last_used_[slot] = ++clock_;
  cv_.notify_all();  // another slot may still be free for the next in line
  return {std::make_unique<Lease>(this, slot), Refusal::none};
}

void SlotPool::release(int slot) {
  {
    std::lock_guard lock(mu_);
    busy_[slot] = false;
    --n_busy_;
  }
  cv_.notify_all();
}

void SlotPool::shutdown() {
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

SlotPool::Counts SlotPool::counts() const {
  std::lock_guard lock(mu_);
  Counts c;
  c.slots = static_cast<int>(busy_.size());
  c.busy = n_busy_;
  c.waiting = static_cast<int>(queue_.size());
  c.max_queue = max_queue_;
  c.served = served_;
  c.rejected = rejected_;
  return c;
}

}  // namespace nibble::serve
