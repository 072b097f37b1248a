#pragma once
// PushHandle<F>: sends frames to one connection from anywhere: its own handlers, another
// connection's handler, a timer, or a thread that is not an Asio thread. Cheap to copy (one
// shared_ptr), safe to use from any thread, and it does not keep the connection alive: once the
// connection has ended every push fails fast with errc::connection_closed.
//
//   handle.try_push(frame, PushPriority::high);               // never waits
//   co_await handle.push(frame);                              // waits for queue space
//   handle.push_with_policy(frame, PushPriority::low, PushPolicy::drop_if_full);
//
// Frames that are not queued (full, rate limited, connection ended) also go to the app's dead
// letter queue when it has one (dead_letter_queue.hpp).
//
// Pushed frames are server-initiated: the connection sends them with correlation id 0.

#include <memory>
#include <system_error>
#include <utility>

#include "wireframe/actor/doorbell.hpp"
#include "wireframe/detail/asio.hpp"
#include "wireframe/log/log.hpp"
#include "wireframe/push/push_queues.hpp"

namespace wireframe {

// What push_with_policy does when the queue is full (or the rate limit has no token).
enum class PushPolicy {
  return_error_if_full,   // errc::queue_full, the frame is not sent
  drop_if_full,           // the frame is dropped; success is reported
  warn_and_drop_if_full,  // as drop_if_full, with a warning in the log
};

template <class F>
class PushHandle {
 public:
  PushHandle() = default;
  explicit PushHandle(std::shared_ptr<detail::PushQueues<F>> queues) : queues_(std::move(queues)) {}

  // Queues the frame, waiting (on the caller's executor) while the queue is full or the rate
  // limit has no token. Fails with errc::connection_closed if the connection ends first.
  asio::awaitable<std::error_code> push(F frame, PushPriority priority = PushPriority::low) {
    if (!queues_) co_return make_error_code(errc::connection_closed);
    std::shared_ptr<detail::ConcurrentDoorbell> waiter;
    for (;;) {
      typename detail::PushQueues<F>::clock::duration retry_after{};
      const std::error_code ec = queues_->try_push(frame, priority, &retry_after);
      if (!ec) co_return ec;
      if (ec == errc::rate_limited) {  // a timer, not polling: wake when the token is there
        asio::steady_timer timer(co_await asio::this_coro::executor, retry_after);
        (void)co_await timer.async_wait(detail::use_nothrow);
        continue;
      }
      if (ec != errc::queue_full) {
        queues_->dead_letter(std::move(frame), ec);
        co_return ec;
      }
      if (!waiter) {
        waiter = std::make_shared<detail::ConcurrentDoorbell>(co_await asio::this_coro::executor);
      }
      if (queues_->wait_for_room(priority, waiter)) co_await waiter->wait();
    }
  }

  // Queues the frame if there is room and a token; never waits. A refused frame goes to the
  // dead letter queue, if the app has one.
  std::error_code try_push(F frame, PushPriority priority = PushPriority::low) {
    if (!queues_) return errc::connection_closed;
    const std::error_code ec = queues_->try_push(frame, priority);
    if (ec) queues_->dead_letter(std::move(frame), ec);
    return ec;
  }

  // As try_push, but a full queue or an exhausted rate limit is handled by `policy`; a closed
  // connection is always an error.
  std::error_code push_with_policy(F frame, PushPriority priority, PushPolicy policy) {
    const std::error_code ec = try_push(std::move(frame), priority);
    const bool no_room = ec == errc::queue_full || ec == errc::rate_limited;
    if (!no_room || policy == PushPolicy::return_error_if_full) return ec;
    if (policy == PushPolicy::warn_and_drop_if_full) {
      detail::log(LogLevel::warn, "connection {}: push refused ({}), frame dropped",
                  queues_->connection_id(), ec.message());
    }
    return {};
  }

  [[nodiscard]] ConnectionId connection_id() const noexcept {
    return queues_ ? queues_->connection_id() : 0;
  }
  // True once the connection has ended (or is shutting down and accepts no more pushes).
  [[nodiscard]] bool is_closed() const { return !queues_ || queues_->closed(); }

 private:
  std::shared_ptr<detail::PushQueues<F>> queues_;
};

}  // namespace wireframe
