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
//
// The channel's buffer is a fixed single slot (OneSlot) instead of Asio's default std::deque: a
// deque that is pushed and popped forever allocates a new block every 21 elements, and a bell is
// rung for nearly every frame (bench/alloc_bench.cpp found it).

#include <cstddef>
#include <optional>
#include <utility>

#include "wireframe/detail/asio.hpp"

namespace wireframe::detail {

// The container interface Asio's channel uses for its buffer, for at most one element.
template <class T>
class OneSlot {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return slot_.has_value() ? 1 : 0; }
  void push_back(T&& value) { slot_.emplace(std::move(value)); }
  void push_back(const T& value) { slot_.emplace(value); }
  T& front() noexcept { return *slot_; }
  void pop_front() noexcept { slot_.reset(); }
  void clear() noexcept { slot_.reset(); }

 private:
  std::optional<T> slot_;
};

struct DoorbellTraits : asio::experimental::channel_traits<void(asio::error_code, bool)> {
  template <class... Signatures>
  struct rebind {
    using other = DoorbellTraits;
  };
  template <class Element>
  struct container {
    using type = OneSlot<Element>;
  };
};

// What a connection's push queues ring when a frame arrives: the actor's writer wake-up, or (in
// tests and benchmarks) a ConcurrentDoorbell. Called from any thread.
class Wake {
 public:
  virtual void ring() noexcept = 0;

 protected:
  ~Wake() = default;
};

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

using Doorbell = BasicDoorbell<
    asio::experimental::basic_channel<asio::any_io_executor, DoorbellTraits, void(asio::error_code, bool)>>;
class ConcurrentDoorbell final
    : public BasicDoorbell<asio::experimental::basic_concurrent_channel<asio::any_io_executor, DoorbellTraits,
                                                                          void(asio::error_code, bool)>>,
      public Wake {
 public:
  using BasicDoorbell::BasicDoorbell;
  void ring() noexcept override { BasicDoorbell::ring(); }
};

}  // namespace wireframe::detail
