#pragma once
// PushQueues<F>: the two bounded queues (high and low priority) through which any thread pushes
// frames to one connection, shared by the connection's actor and every PushHandle of it.
//
// One mutex guards both rings, the closed flag and the list of blocked producers. That makes
// closing airtight (docs/architecture.md): a frame is either taken by the writer, handed back as
// lost when the connection ends, or refused to its producer. Plain Asio channels cannot promise
// that in 1.22 (close() discards buffered items and strands parked senders).

#include <algorithm>
#include <atomic>
#include <chrono>
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
#include "wireframe/push/dead_letter_queue.hpp"

namespace wireframe {

enum class PushPriority { high, low };

// A token bucket: `rate` pushes per second on average, bursts up to `burst`. rate 0 = no limit.
struct PushRateLimit {
  double rate = 0;
  std::size_t burst = 1;
};

namespace detail {

template <class F>
class PushQueues {
 public:
  using clock = std::chrono::steady_clock;

  // `writer_bell` belongs to the connection actor and must outlive the queues' open state: the
  // actor calls close() (or close_and_take()) before it destroys the bell. The queues themselves
  // may live on in PushHandles long after the connection (and its io_context) are gone, so they
  // own no Asio object bound to the connection's executor.
  PushQueues(ConcurrentDoorbell& writer_bell, ConnectionId id, std::size_t high_capacity,
             std::size_t low_capacity, PushRateLimit limit = {},
             std::shared_ptr<DeadLetterQueue<F>> dead_letters = {})
      : bell_(&writer_bell),
        id_(id),
        limit_(limit),
        tokens_(static_cast<double>(std::max<std::size_t>(limit.burst, 1))),
        refilled_(clock::now()),
        dead_letters_(std::move(dead_letters)),
        high_(high_capacity),
        low_(low_capacity) {}

  [[nodiscard]] ConnectionId connection_id() const noexcept { return id_; }

  // Producer side (any thread). Never blocks. Moves `frame` in only on success. When the rate
  // limit refuses, `*retry_after` (if given) says when a token will be there.
  std::error_code try_push(F& frame, PushPriority priority, clock::duration* retry_after = nullptr) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return errc::connection_closed;
      auto& ring = ring_for(priority);
      if (ring.full()) return errc::queue_full;  // checked first: a full queue spends no token
      if (!take_token(retry_after)) return errc::rate_limited;
      ring.push(std::move(frame));
      queued_.fetch_add(1, std::memory_order_release);
      // Under the lock: once close() has run, nobody touches the actor's bell any more.
      // (Channel completions are posted, never run inline, so this cannot re-enter us.)
      bell_->ring();
    }
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
  // queued stay for the writer to drain (graceful shutdown writes them). After this the queues
  // never ring the writer's bell again.
  void close() {
    std::vector<std::shared_ptr<ConcurrentDoorbell>> waiters;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      bell_ = nullptr;
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

  // Hands a frame wireframe could not queue to the dead letter queue, if there is one.
  void dead_letter(F frame, std::error_code reason) {
    if (dead_letters_) dead_letters_->offer(std::move(frame), reason, id_);
  }

 private:
  RingQueue<F>& ring_for(PushPriority p) noexcept { return p == PushPriority::high ? high_ : low_; }
  const RingQueue<F>& ring_for(PushPriority p) const noexcept {
    return p == PushPriority::high ? high_ : low_;
  }

  // Under mutex_. Refills by elapsed time, then takes one token if there is one.
  bool take_token(clock::duration* retry_after) {
    if (limit_.rate <= 0) return true;
    const auto now = clock::now();
    const double burst = static_cast<double>(std::max<std::size_t>(limit_.burst, 1));
    tokens_ = std::min(burst, tokens_ + std::chrono::duration<double>(now - refilled_).count() * limit_.rate);
    refilled_ = now;
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return true;
    }
    if (retry_after != nullptr) {
      *retry_after = std::chrono::duration_cast<clock::duration>(
          std::chrono::duration<double>((1.0 - tokens_) / limit_.rate));
    }
    return false;
  }

  ConcurrentDoorbell* bell_;  // the actor's; null once closed
  ConnectionId id_;
  PushRateLimit limit_;
  double tokens_;
  clock::time_point refilled_;
  std::shared_ptr<DeadLetterQueue<F>> dead_letters_;
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
