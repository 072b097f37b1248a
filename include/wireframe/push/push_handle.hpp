#pragma once
// PushHandle<F>: sends frames to one connection from anywhere: its own handlers, another
// connection's handler, a timer, or a thread that is not an Asio thread. Cheap to copy (one
// shared_ptr), safe to use from any thread, and it does not keep the connection alive: once the
// connection has ended every push fails fast with errc::connection_closed.
//
//   PushResult<F> r = handle.try_push(std::move(frame));        // never waits
//   if (!r.ok()) retry_later(*r.take_frame());                  // a refused frame comes back
//   co_await handle.try_push_for(frame, 100ms);                 // waits for room, bounded
//   co_await handle.push(frame);                                // waits for room
//   handle.push_with_policy(frame, PushPriority::low, PushPolicy::drop_to_dlq);
//   handle.close(CloseMode::immediate);                         // ends the connection
//
// Who keeps a frame that was not queued (docs/duplex-messaging.md, "push, try_push, ..."):
//   - a call that returns PushResult hands it back (try_push, try_push_for,
//     push_with_policy(return_error_if_full)); it never goes to the dead letter queue;
//   - push_with_policy(drop_if_full / warn_and_drop_if_full) drops it on a full queue, by request;
//   - push_with_policy(drop_to_dlq) hands it to the app's dead letter queue;
//   - push() owns its frame while it waits, so it returns a plain error code and hands a frame it
//     finally could not queue (connection ended) to the dead letter queue.
//
// Pushed frames are server-initiated: the connection sends them with correlation id 0.
//
// push() and try_push_for() wait on a doorbell of their own, on the caller's io_context; the
// connection's queues keep only a weak reference to it, so that io_context may be destroyed
// under a waiting push (the wait then simply never resumes).

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "wireframe/actor/doorbell.hpp"
#include "wireframe/detail/asio.hpp"
#include "wireframe/log/log.hpp"
#include "wireframe/push/push_queues.hpp"

namespace wireframe {

// What push_with_policy does when the queue is full (or the rate limit has no token). A closed
// connection is always an error (errc::connection_closed), whatever the policy.
enum class PushPolicy {
  return_error_if_full,   // errc::queue_full (or rate_limited); the frame is handed back
  drop_if_full,           // the frame is dropped; success is reported
  warn_and_drop_if_full,  // as drop_if_full, with a warning in the log
  drop_to_dlq,            // the frame goes to the dead letter queue (also when the connection
                          // has ended); success is reported for a full queue
};

// The outcome of a push that does not take ownership of a refused frame: success, or the error
// and (unless a policy disposed of it) the frame itself, so the caller can retry it, keep it or
// send it elsewhere, as Rust's try_send returns the item.
//
// Deliberately no conversion to bool: std::error_code reads true as failure, std::optional and
// std::expected read true as success, and code written for either reading (including every
// caller of the old `std::error_code try_push`) would compile and silently do the opposite.
// Say what you mean: ok() or error().
template <class F>
class [[nodiscard]] PushResult {
 public:
  PushResult() = default;  // success
  PushResult(std::error_code error, std::optional<F> frame)
      : error_(error), frame_(std::move(frame)) {}

  // True when the frame was queued (or dropped on purpose by a drop policy).
  [[nodiscard]] bool ok() const noexcept { return !error_; }
  // errc::queue_full, errc::rate_limited or errc::connection_closed; empty on success.
  [[nodiscard]] std::error_code error() const noexcept { return error_; }
  // Whether the refused frame is here to take.
  [[nodiscard]] bool has_frame() const noexcept { return frame_.has_value(); }
  // The refused frame, moved out (empty on success, when a policy disposed of it, or once taken).
  [[nodiscard]] std::optional<F> take_frame() noexcept(std::is_nothrow_move_constructible_v<F>) {
    return std::exchange(frame_, std::nullopt);
  }

  explicit operator bool() const = delete;  // see above: ok() or error()

 private:
  std::error_code error_;
  std::optional<F> frame_;
};

template <class F>
class PushHandle {
  using clock = std::chrono::steady_clock;  // as detail::PushQueues<F>::clock

 public:
  PushHandle() = default;
  explicit PushHandle(std::shared_ptr<detail::PushQueues<F>> queues) : queues_(std::move(queues)) {}

  // Queues the frame if there is room and a token; never waits. On refusal the frame is handed
  // back in the result (it is not sent and does not go to the dead letter queue).
  PushResult<F> try_push(F frame, PushPriority priority = PushPriority::low) {
    return try_queue(std::move(frame), priority, true);
  }

  // Queues the frame, waiting (on the caller's executor) while the queue is full or the rate
  // limit has no token. Fails with errc::connection_closed if the connection ends first; the
  // frame then goes to the dead letter queue (push owns it, and the caller may have waited long).
  asio::awaitable<std::error_code> push(F frame, PushPriority priority = PushPriority::low) {
    if (!queues_) co_return make_error_code(errc::connection_closed);
    detail::SpanTimer span = queues_->push_span(frame.id());
    const std::error_code ec = co_await queue_waiting(frame, priority, std::nullopt);
    end_span(span, ec);
    if (ec) queues_->dead_letter(std::move(frame), ec);  // only ever connection_closed here
    co_return ec;
  }

  // As push, but waits at most `timeout` for room or a token; then the frame is handed back with
  // errc::queue_full (or rate_limited). A closed connection hands it back at once. For fan-out:
  // a prompt reader gets every frame, a stalled one costs the producer at most `timeout`.
  asio::awaitable<PushResult<F>> try_push_for(F frame, clock::duration timeout,
                                              PushPriority priority = PushPriority::low) {
    if (!queues_) co_return refused(errc::connection_closed, std::move(frame));
    detail::SpanTimer span = queues_->push_span(frame.id());
    const std::error_code ec = co_await queue_waiting(frame, priority, clock::now() + timeout);
    end_span(span, ec);
    if (ec) co_return refused(ec, std::move(frame), priority);
    co_return PushResult<F>{};
  }

  // As try_push, but a full queue or an exhausted rate limit is handled by `policy` (above).
  PushResult<F> push_with_policy(F frame, PushPriority priority, PushPolicy policy) {
    // warn_and_drop_if_full says what became of a refused frame itself (one line, not two).
    PushResult<F> result = try_queue(std::move(frame), priority, policy != PushPolicy::warn_and_drop_if_full);
    if (result.ok() || policy == PushPolicy::return_error_if_full) return result;
    const std::error_code ec = result.error();
    if (policy == PushPolicy::drop_to_dlq) return to_dead_letters(std::move(result));
    if (ec == errc::connection_closed) {  // an error for every policy
      if (policy == PushPolicy::warn_and_drop_if_full && queues_) log_refused(ec, priority);
      return result;
    }
    if (policy == PushPolicy::warn_and_drop_if_full) {
      queues_->events().template emit<LogLevel::warn>(Event::push_refused, "priority={} reason={} dropped=true",
                                                      priority_name(priority), detail::ConnectionMetrics::reason_name(ec));
    }
    return {};
  }

  [[nodiscard]] ConnectionId connection_id() const noexcept {
    return queues_ ? queues_->connection_id() : 0;
  }
  // True once the connection has ended (or is shutting down and accepts no more pushes).
  [[nodiscard]] bool is_closed() const { return !queues_ || queues_->closed(); }

  // Asks the connection to end, from any thread: gracefully (what is queued is still written)
  // or at once (push_queues.hpp, CloseMode). Returns at once; the connection ends on its own
  // thread with errc::closed_by_request (its teardown hook sees that reason). For a broker
  // taking over a client id, or a subscriber too slow for its queue. False when the connection
  // is ending already (or the handle is empty): nothing was asked.
  bool close(CloseMode mode = CloseMode::graceful) { return queues_ && queues_->request_close(mode); }

 private:
  // try_push, with its refusal logged (the caller has the frame back) or not (push_with_policy's
  // policy logs what it did with it).
  PushResult<F> try_queue(F frame, PushPriority priority, bool log_refusal) {
    if (!queues_) return refused(errc::connection_closed, std::move(frame));
    detail::SpanTimer span = queues_->push_span(frame.id());
    const std::error_code ec = queues_->try_push(frame, priority);  // moves `frame` only on success
    end_span(span, ec);
    if (ec) return refused(ec, std::move(frame), priority, log_refusal);
    return {};
  }
  static PushResult<F> refused(std::error_code ec, F&& frame) { return {ec, std::move(frame)}; }
  // The queues refused it (counted in the app's metrics, if any).
  PushResult<F> refused(std::error_code ec, F&& frame, PushPriority priority, bool log = true) {
    queues_->count_refused(priority);
    if (log) log_refused(ec, priority);
    return {ec, std::move(frame)};
  }
  void log_refused(std::error_code ec, PushPriority priority) {
    queues_->events().template emit<LogLevel::debug>(
        ec == errc::rate_limited ? Event::push_rate_limited : Event::push_refused, "priority={} reason={}",
        priority_name(priority), detail::ConnectionMetrics::reason_name(ec));
  }
  static void end_span(detail::SpanTimer& span, const std::error_code& ec) noexcept {
    if (span.active()) span.end(ec ? detail::ConnectionMetrics::reason_name(ec) : "queued");
  }
  static const char* priority_name(PushPriority p) noexcept { return p == PushPriority::high ? "high" : "low"; }

  // drop_to_dlq: the refused frame goes to the DLQ; a full queue then counts as success. A
  // default-constructed handle has no DLQ to give it to, so it hands the frame back.
  PushResult<F> to_dead_letters(PushResult<F> result) {
    if (!queues_) return result;
    const std::error_code ec = result.error();
    queues_->dead_letter(std::move(*result.take_frame()), ec);
    queues_->events().template emit<LogLevel::debug>(Event::push_dead_lettered, "count=1 reason={}",
                                                     detail::ConnectionMetrics::reason_name(ec));
    if (ec == errc::connection_closed) return {ec, std::nullopt};
    return {};
  }

  // Tries to queue `frame` (moved from only on success) until it is queued, the connection ends
  // or `deadline` passes; returns the last refusal. Waits for a slot on a doorbell the writer
  // rings (no polling), for a token on a timer; a deadline is an alarm that rings the same bell.
  asio::awaitable<std::error_code> queue_waiting(F& frame, PushPriority priority,
                                                 std::optional<clock::time_point> deadline) {
    std::shared_ptr<detail::ConcurrentDoorbell> waiter;
    std::optional<asio::steady_timer> alarm;
    for (;;) {
      clock::duration retry_after{};
      const std::error_code ec = queues_->try_push(frame, priority, &retry_after);
      const bool no_room = ec == errc::queue_full || ec == errc::rate_limited;
      if (!no_room || (deadline && clock::now() >= *deadline)) co_return ec;
      if (ec == errc::rate_limited) {
        co_await sleep_until(clock::now() + retry_after, deadline);
        continue;
      }
      const auto ex = co_await asio::this_coro::executor;
      if (!waiter) {
        waiter = std::make_shared<detail::ConcurrentDoorbell>(ex);
        if (deadline) ring_at(alarm.emplace(ex, *deadline), waiter);
      }
      if (queues_->wait_for_room(priority, waiter)) {
        co_await waiter->wait();
      } else {
        // "Room now" (or closed): retry, but yield first. Should the queues' idea of room ever
        // differ from try_push's, this stays a slow retry instead of a spin that starves a
        // writer on this very thread.
        co_await asio::post(ex, asio::use_awaitable);
      }
    }
  }

  // The alarm holds the bell, so it may fire after the push has returned: it only rings it.
  static void ring_at(asio::steady_timer& alarm, std::shared_ptr<detail::ConcurrentDoorbell> bell) {
    alarm.async_wait([bell = std::move(bell)](const asio::error_code& ec) {
      if (!ec) bell->ring();
    });
  }

  static asio::awaitable<void> sleep_until(clock::time_point when, std::optional<clock::time_point> deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor, deadline ? std::min(when, *deadline) : when);
    (void)co_await timer.async_wait(detail::use_nothrow);
  }

  std::shared_ptr<detail::PushQueues<F>> queues_;
};

}  // namespace wireframe
