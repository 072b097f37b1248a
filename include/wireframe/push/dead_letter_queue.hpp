#pragma once
// DeadLetterQueue<F>: where pushed frames go that were not sent and that no caller got back, so
// they never vanish silently. Optional: give one to WireframeApp::with_dead_letter_queue(). It
// receives (push_handle.hpp has the whole rule):
//   - frames still queued when a connection closed hard (errc::connection_closed);
//   - a frame a blocking push() finally could not queue: the connection ended (connection_closed);
//   - frames refused under PushPolicy::drop_to_dlq (queue_full, rate_limited, connection_closed).
//   - queued frames the codec refused when the writer encoded them (the codec's error, such as
//     errc::frame_too_large).
// try_push() and the other policies never put frames here: they hand a refused frame back, or
// drop it on request. If the DLQ itself is full the frame is counted in lost() instead.
//
// Receive with `co_await dlq->receive()` or `dlq->try_receive()` from any thread. (Asio 1.22: a
// cancelled receive leaves the channel refusing offers until the next receive parks; offers made
// meanwhile count as lost.) Lifetime: every connection of the app, and every PushHandle kept
// after its connection ended, holds the DLQ; the io_context whose executor it was built with
// must outlive the DLQ (an Asio channel must not outlive its context).

#include <atomic>
#include <cstdint>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>

#include "wireframe/app/connection_id.hpp"
#include "wireframe/detail/asio.hpp"

namespace wireframe {

template <class F>
struct DeadLetter {
  F frame;
  std::error_code reason;  // errc::connection_closed, (drop_to_dlq) queue_full / rate_limited, or
                           // the codec's refusal (frame_too_large)
  ConnectionId connection = 0;
};

template <class F>
class DeadLetterQueue {
 public:
  DeadLetterQueue(const asio::any_io_executor& ex, std::size_t capacity) : channel_(ex, capacity) {}

  // Never blocks; thread-safe.
  void offer(F frame, std::error_code reason, ConnectionId connection) noexcept {
    bool sent = false;
    try {
      sent = channel_.try_send(asio::error_code{}, DeadLetter<F>{std::move(frame), reason, connection});
    } catch (...) {
    }
    if (!sent) lost_.fetch_add(1, std::memory_order_relaxed);
  }

  asio::awaitable<std::tuple<asio::error_code, DeadLetter<F>>> receive() {
    co_return co_await channel_.async_receive(detail::use_nothrow);
  }

  std::optional<DeadLetter<F>> try_receive() {
    std::optional<DeadLetter<F>> out;
    (void)channel_.try_receive([&out](asio::error_code, DeadLetter<F> d) { out.emplace(std::move(d)); });
    return out;
  }

  // Frames that could not even be put in the DLQ (it was full).
  [[nodiscard]] std::uint64_t lost() const noexcept { return lost_.load(std::memory_order_relaxed); }

 private:
  asio::experimental::concurrent_channel<void(asio::error_code, DeadLetter<F>)> channel_;
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace wireframe
