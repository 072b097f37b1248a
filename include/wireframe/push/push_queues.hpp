#pragma once
// PushQueues<F>: the two bounded queues (high and low priority) through which any thread pushes
// frames to one connection, shared by the connection's actor and every PushHandle of it.
//
// One mutex guards both rings, the closed flag and the list of blocked producers. That makes
// closing airtight (docs/architecture.md): a frame is either taken by the writer, handed back as
// lost when the connection ends, or refused to its producer. Plain Asio channels cannot promise
// that in 1.22 (close() discards buffered items and strands parked senders).

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "wireframe/actor/doorbell.hpp"
#include "wireframe/actor/ring_queue.hpp"
#include "wireframe/app/connection_id.hpp"
#include "wireframe/error/errc.hpp"

namespace wireframe {

enum class PushPriority { high, low };

namespace detail {

template <class F>
class PushQueues {
 public:
  PushQueues(const asio::any_io_executor& ex, ConnectionId id, std::size_t high_capacity,
             std::size_t low_capacity)
      : bell_(ex), id_(id), high_(high_capacity), low_(low_capacity) {}

  [[nodiscard]] ConnectionId connection_id() const noexcept { return id_; }

  // Producer side (any thread). Never blocks.
  std::error_code try_push(F& frame, PushPriority priority) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return errc::connection_closed;
      auto& ring = ring_for(priority);
      if (ring.full()) return errc::queue_full;
      ring.push(std::move(frame));
      queued_.fetch_add(1, std::memory_order_release);
    }
    bell_.ring();
    return {};
  }

  // Producer side: registers `waiter` to be rung when a slot frees (or the queues close).
  // Returns false when there is room already or the queues are closed: retry at once.
  bool wait_for_room(PushPriority priority, const std::shared_ptr<ConcurrentDoorbell>& waiter) {
    std::lock_guard lock(mutex_);
    if (closed_ || !ring_for(priority).full()) return false;
    waiters_.push_back(waiter);
    return true;
  }

  [[nodiscard]] bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  // Consumer side (the connection's writer).
  // Wakes every blocked producer when it frees a slot: they race for it and the losers park
  // again. Waking only one could strand the others if the woken one gave up meanwhile. Waiters
  // exist only under back-pressure, so the wake-ups cost nothing in steady state.
  std::optional<F> try_pop(PushPriority priority) {
    std::vector<std::shared_ptr<ConcurrentDoorbell>> waiters;
    std::optional<F> frame;
    {
      std::lock_guard lock(mutex_);
      auto& ring = ring_for(priority);
      if (ring.empty()) return std::nullopt;
      frame.emplace(ring.pop());
      queued_.fetch_sub(1, std::memory_order_relaxed);
      waiters.swap(waiters_);
    }
    for (auto& w : waiters) w->ring();  // outside the lock: ringing may post to another thread
    return frame;
  }

  // Lock-free hint for the writer's hot path: false means both queues were empty a moment ago.
  // A frame counted just after that is not lost: its producer rings the bell after counting, so
  // the writer polls again.
  [[nodiscard]] bool maybe_nonempty() const noexcept {
    return queued_.load(std::memory_order_acquire) != 0;
  }

  // Refuses further pushes and wakes every blocked producer (they then fail). Frames already
  // queued stay for the writer to drain (graceful shutdown writes them).
  void close() {
    std::vector<std::shared_ptr<ConcurrentDoorbell>> waiters;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      waiters.swap(waiters_);
    }
    for (auto& w : waiters) w->ring();
  }

  // Closes and hands back whatever is still queued (the connection is ending: these are lost).
  std::vector<F> close_and_take() {
    close();
    std::vector<F> lost;
    std::lock_guard lock(mutex_);
    while (!high_.empty()) lost.push_back(high_.pop());
    while (!low_.empty()) lost.push_back(low_.pop());
    queued_.store(0, std::memory_order_relaxed);
    return lost;
  }

  // The writer parks on this; producers ring it after enqueuing.
  [[nodiscard]] ConcurrentDoorbell& bell() noexcept { return bell_; }

 private:
  RingQueue<F>& ring_for(PushPriority p) noexcept { return p == PushPriority::high ? high_ : low_; }
  const RingQueue<F>& ring_for(PushPriority p) const noexcept {
    return p == PushPriority::high ? high_ : low_;
  }

  ConcurrentDoorbell bell_;
  ConnectionId id_;
  mutable std::mutex mutex_;
  bool closed_ = false;
  std::atomic<std::size_t> queued_{0};  // frames in both rings
  RingQueue<F> high_;
  RingQueue<F> low_;
  // A vector, not a deque: try_pop swaps it out on every pop, and an empty vector (unlike
  // libstdc++'s deque) costs no allocation.
  std::vector<std::shared_ptr<ConcurrentDoorbell>> waiters_;
};

}  // namespace detail
}  // namespace wireframe
