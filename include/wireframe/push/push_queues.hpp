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
#include "wireframe/log/event_log.hpp"
#include "wireframe/observe/connection_metrics.hpp"
#include "wireframe/observe/tracer.hpp"
#include "wireframe/push/dead_letter_queue.hpp"

namespace wireframe {

enum class PushPriority { high, low };

// How PushHandle::close() ends a connection (errc::closed_by_request either way).
enum class CloseMode {
  graceful,   // as a graceful shutdown: stop reading, finish the command in flight, write what
              // is queued (a write that stalls is bounded by write_timeout)
  immediate,  // as a hard close: now; what is queued goes to the dead letter queue
};

// A token bucket: `rate` pushes per second on average, bursts up to `burst`. rate 0 = no limit.
struct PushRateLimit {
  double rate = 0;
  std::size_t burst = 1;
};

// The connection's outbound byte budget (ConnectionSettings: outbound_low_watermark,
// outbound_high_watermark, max_outbound_bytes). Counted over pushed frames still queued plus
// what the connection's actor holds (responses queued, the write in flight).
struct OutboundBudget {
  std::size_t low = static_cast<std::size_t>(-1);
  std::size_t high = static_cast<std::size_t>(-1);
  std::size_t hard = static_cast<std::size_t>(-1);
};

namespace detail {

template <class F>
class PushQueues {
 public:
  using clock = std::chrono::steady_clock;

  // `writer_wake` belongs to the connection actor and must outlive the queues' open state: the
  // actor calls close() (or close_and_take()) before it goes. The queues themselves
  // may live on in PushHandles long after the connection (and its io_context) are gone, so they
  // own no Asio object bound to the connection's executor.
  PushQueues(Wake& writer_wake, ConnectionId id, std::size_t high_capacity,
             std::size_t low_capacity, PushRateLimit limit = {},
             std::shared_ptr<DeadLetterQueue<F>> dead_letters = {}, OutboundBudget budget = {})
      : bell_(&writer_wake),
        id_(id),
        budget_(budget),
        limit_(limit),
        tokens_(static_cast<double>(std::max<std::size_t>(limit.burst, 1))),
        refilled_(clock::now()),
        dead_letters_(std::move(dead_letters)),
        high_(high_capacity),
        low_(low_capacity) {}

  [[nodiscard]] ConnectionId connection_id() const noexcept { return id_; }

  // The app's metrics (null: none), before any producer has the queues. Shared: the queues may
  // outlive the app's last connection.
  void set_metrics(std::shared_ptr<const ConnectionMetrics> metrics) noexcept { metrics_ = std::move(metrics); }
  // The connection's events: opened by the actor before any producer has the queues.
  [[nodiscard]] EventLog& events() noexcept { return events_; }
  [[nodiscard]] const EventLog& events() const noexcept { return events_; }

  // The app's tracer (null: none) and the connection's span, the parent of its pushes' spans:
  // set by the actor before any producer has the queues. Shared: the queues may outlive the app.
  void set_tracer(std::shared_ptr<Tracer> tracer, std::uint64_t connection_span) noexcept {
    tracer_ = std::move(tracer);
    connection_span_ = connection_span;
  }
  // A push's span, started now (inactive without a tracer).
  [[nodiscard]] SpanTimer push_span(std::uint32_t message_id) const noexcept {
    return tracer_ ? SpanTimer(tracer_.get(), SpanKind::push, connection_span_, id_, message_id) : SpanTimer();
  }

  // A producer was handed its frame back (PushHandle): counted as refused.
  void count_refused(PushPriority priority) const noexcept {
    if (metrics_) metrics_->push(priority == PushPriority::high, PushOutcome::refused).add();
  }

  // Producer side (any thread). Never blocks. Moves `frame` in only on success. When the rate
  // limit refuses, `*retry_after` (if given) says when a token will be there.
  std::error_code try_push(F& frame, PushPriority priority, clock::duration* retry_after = nullptr) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return errc::connection_closed;
      auto& ring = ring_for(priority);
      const std::size_t size = frame.encoded_size();
      // Room is checked first, in frames and in bytes: a refused frame spends no token.
      if (ring.full() || !bytes_allow(size)) return errc::queue_full;
      if (!take_token(retry_after)) return errc::rate_limited;
      ring.push(std::move(frame));
      if (metrics_) metrics_->push(priority == PushPriority::high, PushOutcome::queued).add();
      push_bytes_ += size;
      push_bytes_seen_.store(push_bytes_, std::memory_order_relaxed);
      queued_.fetch_add(1, std::memory_order_release);
      // Under the lock: once close() has run, nobody touches the actor's bell any more.
      // (A ring only posts, never runs the writer inline, so this cannot re-enter us.)
      bell_->ring();
    }
    return {};
  }

  // Producer side: registers `waiter` to be rung when a slot frees (or the queues close).
  // Returns false when there is room already or the queues are closed: retry at once. Only a
  // weak reference is kept: the waiter's doorbell lives in the producer's coroutine, on the
  // producer's io_context, and must not be rung (nor kept alive) once that is gone.
  bool wait_for_room(PushPriority priority, const std::shared_ptr<ConcurrentDoorbell>& waiter) {
    std::lock_guard lock(mutex_);
    const bool no_room = ring_for(priority).full() || (paused_.load(std::memory_order_relaxed) && held() != 0);
    if (closed_ || !no_room) return false;
    waiters_.push_back(waiter);
    return true;
  }

  // --- the outbound byte budget (the actor's side, on the connection's thread) ---------------

  // Bytes the actor holds now: responses queued, the write in flight, fragments in progress.
  void set_actor_bytes(std::size_t bytes) noexcept { actor_bytes_.store(bytes, std::memory_order_relaxed); }
  // Every outbound byte of the connection: pushed and queued, plus the actor's.
  [[nodiscard]] std::size_t outbound_bytes() const noexcept {
    return push_bytes_seen_.load(std::memory_order_relaxed) + actor_bytes_.load(std::memory_order_relaxed);
  }
  // Above the high watermark since it was last below the low one.
  [[nodiscard]] bool paused() const noexcept { return paused_.load(std::memory_order_relaxed); }
  [[nodiscard]] const OutboundBudget& budget() const noexcept { return budget_; }
  // The actor queued bytes: past the high watermark, everything pauses.
  void pause_if_above_high() noexcept {
    if (outbound_bytes() > budget_.high) paused_.store(true, std::memory_order_relaxed);
  }
  // The actor wrote bytes: at or below the low watermark, everything resumes and the producers
  // parked in push() are woken. True when it resumed.
  bool resume_if_below_low() {
    if (!paused() || outbound_bytes() > budget_.low) return false;
    std::vector<std::weak_ptr<ConcurrentDoorbell>> waiters;
    {
      std::lock_guard lock(mutex_);  // a producer registering a waiter sees the flag and the list together
      paused_.store(false, std::memory_order_relaxed);
      waiters.swap(waiters_);
    }
    ring_all(waiters);
    return true;
  }

  [[nodiscard]] bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  // Producer side (any thread): asks the connection to end (PushHandle::close). Keeps the
  // strongest request until the actor takes it, and wakes the actor as a push does. False when
  // the queues are closed already: the connection is ending anyway.
  bool request_close(CloseMode mode) {
    const int wanted = mode == CloseMode::immediate ? close_immediate : close_graceful;
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    if (close_request_.load(std::memory_order_relaxed) < wanted) {
      close_request_.store(wanted, std::memory_order_seq_cst);  // see ConnectionActor::ring()
    }
    bell_->ring();
    return true;
  }

  // Consumer side (the actor's wake-up): the request made since the last call, if any. One
  // atomic load when there is none.
  std::optional<CloseMode> take_close_request() noexcept {
    if (close_request_.load(std::memory_order_seq_cst) == 0) return std::nullopt;
    const int r = close_request_.exchange(0, std::memory_order_seq_cst);
    if (r == 0) return std::nullopt;
    return r == close_immediate ? CloseMode::immediate : CloseMode::graceful;
  }

  // Consumer side (the connection's writer).
  // Wakes every blocked producer when it frees a slot: they race for it and the losers park
  // again. Waking only one could strand the others if the woken one gave up meanwhile. Waiters
  // exist only under back-pressure, so the wake-ups cost nothing in steady state.
  std::optional<F> try_pop(PushPriority priority) {
    std::vector<std::weak_ptr<ConcurrentDoorbell>> waiters;
    std::optional<F> frame;
    {
      std::lock_guard lock(mutex_);
      auto& ring = ring_for(priority);
      if (ring.empty()) return std::nullopt;
      frame.emplace(ring.pop());
      push_bytes_ -= frame->encoded_size();
      push_bytes_seen_.store(push_bytes_, std::memory_order_relaxed);
      queued_.fetch_sub(1, std::memory_order_relaxed);
      waiters.swap(waiters_);
    }
    ring_all(waiters);  // outside the lock: ringing may post to another thread
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
    std::vector<std::weak_ptr<ConcurrentDoorbell>> waiters;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      bell_ = nullptr;
      waiters.swap(waiters_);
    }
    ring_all(waiters);
  }

  // Closes and hands back whatever is still queued (the connection is ending: these are lost).
  std::vector<F> close_and_take() {
    close();
    std::vector<F> lost;
    std::lock_guard lock(mutex_);
    while (!high_.empty()) lost.push_back(high_.pop());
    while (!low_.empty()) lost.push_back(low_.pop());
    queued_.store(0, std::memory_order_relaxed);
    push_bytes_ = 0;
    push_bytes_seen_.store(0, std::memory_order_relaxed);
    return lost;
  }

  // Hands a frame wireframe could not queue to the dead letter queue, if there is one.
  void dead_letter(F frame, std::error_code reason) {
    if (metrics_) metrics_->dead_lettered.add();
    if (dead_letters_) dead_letters_->offer(std::move(frame), reason, id_);
  }

 private:
  RingQueue<F>& ring_for(PushPriority p) noexcept { return p == PushPriority::high ? high_ : low_; }
  const RingQueue<F>& ring_for(PushPriority p) const noexcept {
    return p == PushPriority::high ? high_ : low_;
  }

  // Outside the lock: ringing may post to another thread.
  static void ring_all(const std::vector<std::weak_ptr<ConcurrentDoorbell>>& waiters) {
    for (const auto& w : waiters) {
      if (auto bell = w.lock()) bell->ring();
    }
  }

  // Under mutex_. Bytes the queues and the actor hold.
  [[nodiscard]] std::size_t held() const noexcept {
    return push_bytes_ + actor_bytes_.load(std::memory_order_relaxed);
  }

  // Under mutex_. A frame of `size` bytes may be queued: not while paused, never past the hard
  // cap, but always when nothing at all is held (a budget never blocks a legal frame). Admitting
  // it may cross the high watermark: that pauses.
  bool bytes_allow(std::size_t size) noexcept {
    const std::size_t h = held();
    if (h == 0) return true;
    if (paused_.load(std::memory_order_relaxed)) return false;
    if (h > budget_.hard || size > budget_.hard - h) {
      // Past the hard cap: pause, so that a producer that waits for room (wait_for_room) parks
      // until the writer has brought the bytes down to the low watermark, instead of retrying.
      paused_.store(true, std::memory_order_relaxed);
      return false;
    }
    if (h + size > budget_.high) paused_.store(true, std::memory_order_relaxed);
    return true;
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

  static constexpr int close_graceful = 1;
  static constexpr int close_immediate = 2;

  Wake* bell_;                  // the actor's; null once closed
  ConnectionId id_;
  OutboundBudget budget_;
  std::size_t push_bytes_ = 0;                      // under mutex_: encoded bytes in both rings
  std::atomic<std::size_t> push_bytes_seen_{0};     // a copy the actor reads without the lock
  std::atomic<std::size_t> actor_bytes_{0};         // set by the actor
  std::atomic<bool> paused_{false};                 // above high, not yet back to low
  PushRateLimit limit_;
  double tokens_;
  clock::time_point refilled_;
  std::shared_ptr<DeadLetterQueue<F>> dead_letters_;
  std::shared_ptr<const ConnectionMetrics> metrics_;
  EventLog events_;
  std::shared_ptr<Tracer> tracer_;
  std::uint64_t connection_span_ = 0;
  mutable std::mutex mutex_;
  bool closed_ = false;
  std::atomic<std::size_t> queued_{0};  // frames in both rings
  std::atomic<int> close_request_{0};   // 0, close_graceful or close_immediate (request_close)
  RingQueue<F> high_;
  RingQueue<F> low_;
  // A vector, not a deque: try_pop swaps it out on every pop, and an empty vector (unlike
  // libstdc++'s deque) costs no allocation.
  std::vector<std::weak_ptr<ConcurrentDoorbell>> waiters_;
};

}  // namespace detail
}  // namespace wireframe
