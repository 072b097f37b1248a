#pragma once
// Doorbell: how a parked coroutine is woken without ever racing receives (which Asio 1.22's
// operator|| on channels gets wrong: it drops the losing side's message).
//
// A one-slot channel. A producer enqueues its item somewhere first, then ring()s; ringing a bell
// that already rings fails silently, which is fine because the consumer re-polls every source
// before it parks again. The consumer's wait() is the only receive on the channel.
//
// ConcurrentDoorbell may be rung from any thread (push handles, issue 3); Doorbell only from the
// connection's own thread, which is cheaper.

#include "wireframe/detail/asio.hpp"

namespace wireframe::detail {

template <class Channel>
class BasicDoorbell {
 public:
  explicit BasicDoorbell(const asio::any_io_executor& ex) : channel_(ex, 1) {}

  void ring() noexcept { (void)channel_.try_send(asio::error_code{}, true); }

  // Completes when rung (at once if it already rang since the last wait) or cancelled.
  asio::awaitable<void> wait() { (void)co_await channel_.async_receive(use_nothrow); }

 private:
  Channel channel_;
};

using Doorbell = BasicDoorbell<asio::experimental::channel<void(asio::error_code, bool)>>;
using ConcurrentDoorbell =
    BasicDoorbell<asio::experimental::concurrent_channel<void(asio::error_code, bool)>>;

}  // namespace wireframe::detail
