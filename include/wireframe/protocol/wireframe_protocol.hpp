#pragma once
// WireframeProtocol: one type that holds a protocol's connection-level logic, set with
// WireframeApp::with_protocol(MyProtocol{}). Every hook is optional (a missing one is a no-op):
//
//   struct MyProtocol {
//     struct connection_state { int commands = 0; };          // optional, one per connection
//     void on_connection_setup(PushHandle<Envelope>, ProtocolContext<connection_state>&);
//     void before_send(Envelope& frame, ProtocolContext<connection_state>&);   // every frame out
//     void on_command_end(ProtocolContext<connection_state>&);
//     void handle_error(const WireframeError<E>&, ProtocolContext<connection_state>&);
//     std::optional<Envelope> stream_end_frame(ProtocolContext<connection_state>&);
//     void on_eof(std::span<const std::byte> partial, ProtocolContext<connection_state>&);
//   };
//
// When each fires (all on the connection's thread):
//   on_connection_setup  once, before the first request is read; the handle may push at once.
//   before_send          for every outbound frame: responses, stream frames, pushes, stream
//                        terminators and error frames, just before it is encoded.
//   on_command_end       once per request, after its response was queued or its stream ended,
//                        also when the handler failed, the id was unknown or the connection closed.
//   handle_error         a handler threw or its response failed, or the peer sent bytes that are
//                        not a valid frame or packet (the connection then closes). Not for plain
//                        disconnects.
//   stream_end_frame     after a stream ended normally: a frame to send as its terminator (with
//                        the request's correlation id), or nullopt.
//   on_eof               the peer closed its side; `partial` holds the bytes of an unfinished
//                        frame (empty when it closed between frames).
// Each connection gets its own copy of the protocol object (so it must be copyable) and, if the
// type declares one, its own default-constructed connection_state. A hook that throws is logged
// and otherwise ignored: it cannot take the connection down.

#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "wireframe/app/connection_context.hpp"
#include "wireframe/error/wireframe_error.hpp"
#include "wireframe/log/log.hpp"
#include "wireframe/push/push_handle.hpp"

namespace wireframe {

struct NoConnectionState {};

namespace detail {
template <class Proto>
struct protocol_state {
  using type = NoConnectionState;
};
template <class Proto>
  requires requires { typename Proto::connection_state; }
struct protocol_state<Proto> {
  using type = typename Proto::connection_state;
};
std::string describe_exception(const std::exception_ptr& e);
}  // namespace detail

template <class Proto>
using protocol_state_t = typename detail::protocol_state<Proto>::type;

// What a hook knows: the connection (id, peer, executor, user data) and the protocol's own
// per-connection state.
template <class S>
class ProtocolContext {
 public:
  ProtocolContext(ConnectionContext& connection, S& state) : connection_(&connection), state_(&state) {}

  [[nodiscard]] ConnectionContext& connection() const noexcept { return *connection_; }
  [[nodiscard]] S& state() const noexcept { return *state_; }
  [[nodiscard]] ConnectionId id() const noexcept { return connection_->id(); }
  [[nodiscard]] const asio::ip::tcp::endpoint& peer() const noexcept { return connection_->peer(); }

 private:
  ConnectionContext* connection_;
  S* state_;
};

// A protocol for packets P and protocol errors E: copyable, and its connection_state (if any)
// default-constructible. The hooks themselves are optional.
template <class Proto, class P, class E>
concept WireframeProtocol = std::copy_constructible<Proto> &&
                            std::default_initializable<protocol_state_t<Proto>>;

namespace detail {

// The connection's view of its protocol instance: type-erased so the app's type (and the
// precompiled default actor) does not depend on the protocol.
template <class P, class E>
class ProtocolHooks {
 public:
  virtual ~ProtocolHooks() = default;
  virtual void on_connection_setup(PushHandle<P> handle) = 0;
  virtual void before_send(P& frame) = 0;
  virtual void on_command_end() = 0;
  virtual void handle_error(const WireframeError<E>& error) = 0;
  virtual std::optional<P> stream_end_frame() = 0;
  virtual void on_eof(std::span<const std::byte> partial) = 0;
  // False when the protocol has no before_send: the writer then skips the call per frame.
  [[nodiscard]] virtual bool sees_frames() const noexcept = 0;
};

template <class Proto, class P, class E>
class ProtocolInstance final : public ProtocolHooks<P, E> {
  using S = protocol_state_t<Proto>;
  using Ctx = ProtocolContext<S>;

 public:
  ProtocolInstance(const Proto& proto, ConnectionContext& connection)
      : proto_(proto), ctx_(connection, state_) {}

  void on_connection_setup(PushHandle<P> handle) override {
    if constexpr (requires { proto_.on_connection_setup(handle, ctx_); }) {
      guarded("on_connection_setup", [&] { proto_.on_connection_setup(std::move(handle), ctx_); });
    }
  }
  void before_send(P& frame) override {
    if constexpr (requires { proto_.before_send(frame, ctx_); }) {
      guarded("before_send", [&] { proto_.before_send(frame, ctx_); });
    }
  }
  void on_command_end() override {
    if constexpr (requires { proto_.on_command_end(ctx_); }) {
      guarded("on_command_end", [&] { proto_.on_command_end(ctx_); });
    }
  }
  void handle_error(const WireframeError<E>& error) override {
    if constexpr (requires { proto_.handle_error(error, ctx_); }) {
      guarded("handle_error", [&] { proto_.handle_error(error, ctx_); });
    }
  }
  std::optional<P> stream_end_frame() override {
    std::optional<P> frame;
    if constexpr (requires { { proto_.stream_end_frame(ctx_) } -> std::convertible_to<std::optional<P>>; }) {
      guarded("stream_end_frame", [&] { frame = proto_.stream_end_frame(ctx_); });
    }
    return frame;
  }
  void on_eof(std::span<const std::byte> partial) override {
    if constexpr (requires { proto_.on_eof(partial, ctx_); }) {
      guarded("on_eof", [&] { proto_.on_eof(partial, ctx_); });
    }
  }
  [[nodiscard]] bool sees_frames() const noexcept override {
    // On the types, not on members: in this const function proto_ is const.
    return requires(Proto& proto, P& frame, Ctx& ctx) { proto.before_send(frame, ctx); };
  }

 private:
  template <class Fn>
  void guarded(const char* hook, Fn&& fn) noexcept {
    try {
      fn();
    } catch (...) {
      log(LogLevel::error, "connection {}: protocol hook {} threw: {}", ctx_.id(), hook,
          describe_exception(std::current_exception()));
    }
  }

  Proto proto_;
  S state_{};
  Ctx ctx_;
};

// Stored in the built app: makes each connection's instance.
template <class P, class E>
using ProtocolFactory =
    std::function<std::unique_ptr<ProtocolHooks<P, E>>(ConnectionContext& connection)>;

}  // namespace detail
}  // namespace wireframe
