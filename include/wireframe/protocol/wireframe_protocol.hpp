#pragma once
// WireframeProtocol: one type that holds a protocol's connection-level logic, set with
// WireframeApp::with_protocol(MyProtocol{}). Every hook is optional, and the type says which
// ones it implements in a `hooks` list, which with_protocol checks at compile time:
//
//   struct MyProtocol {
//     using hooks = wireframe::protocol_hooks<wireframe::hook::before_send,
//                                             wireframe::hook::on_command_end>;
//     struct connection_state { int commands = 0; };          // optional, one per connection
//     void before_send(Envelope& frame, ProtocolContext<connection_state>&);   // every frame out
//     void on_command_end(ProtocolContext<connection_state>&);
//   };
//
// The hooks and their signatures (P: the app's packet type, E: its protocol error type, S: the
// protocol's connection_state, or NoConnectionState when it declares none):
//   void on_connection_setup(PushHandle<P>, ProtocolContext<S>&);
//   void before_send(P& frame, ProtocolContext<S>&);
//   void on_command_end(ProtocolContext<S>&);
//   void handle_error(const WireframeError<E>&, ProtocolContext<S>&);
//   std::optional<P> stream_end_frame(ProtocolContext<S>&);
//   void on_eof(std::span<const std::byte> partial, ProtocolContext<S>&);
// Parameters may be anything these arguments convert to (e.g. `const P&`). Returns are checked
// too: void hooks must return void (a `bool before_send` would have its result ignored), and
// stream_end_frame something convertible to std::optional<P>.
//
// Why a list: C++ cannot tell "no hook" from "a hook with a typo", so without it a misspelled
// or mis-typed hook silently became a no-op. Now, at compile time:
//   - every listed hook must be callable as above;
//   - a member named like a hook must be listed (also when there is no list at all);
//   - a type with neither a list nor hook-named members is a valid protocol with no hooks.
// A misspelled list entry does not name a hook:: tag and fails to compile. A misspelled member
// that is not listed either cannot be seen (there is no reflection): it is simply not a hook.
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
// default-constructible. Its hooks are checked where it is used (ProtocolInstance below), with
// static_asserts: a concept could only say "not satisfied", not which hook is wrong and why.
template <class Proto, class P, class E>
concept WireframeProtocol = std::copy_constructible<Proto> &&
                            std::default_initializable<protocol_state_t<Proto>>;

// The hooks a protocol can list in `using hooks = protocol_hooks<...>`. Tags, not strings or
// flags, so that a misspelled entry is an ordinary "no such name" compile error.
namespace hook {
struct on_connection_setup {};
struct before_send {};
struct on_command_end {};
struct handle_error {};
struct stream_end_frame {};
struct on_eof {};
}  // namespace hook

template <class T>
concept hook_tag =
    std::same_as<T, hook::on_connection_setup> || std::same_as<T, hook::before_send> ||
    std::same_as<T, hook::on_command_end> || std::same_as<T, hook::handle_error> ||
    std::same_as<T, hook::stream_end_frame> || std::same_as<T, hook::on_eof>;

template <hook_tag... Hooks>
struct protocol_hooks {
  template <class H>
  static constexpr bool lists = (std::same_as<H, Hooks> || ...);
};

namespace detail {

template <class T>
inline constexpr bool is_protocol_hooks = false;
template <class... Hooks>
inline constexpr bool is_protocol_hooks<protocol_hooks<Hooks...>> = true;

// Proto::hooks, or an empty list when it declares none.
template <class Proto>
struct declared_hooks {
  using type = protocol_hooks<>;
};
template <class Proto>
  requires requires { typename Proto::hooks; }
struct declared_hooks<Proto> {
  using type = typename Proto::hooks;
};

// Finds members named like a hook whatever they are (any signature, overloaded, a template, a
// data member, private): mixed into a class that has a member of the same name, the lookup of
// that name in hook_name_probe is ambiguous. A final class cannot be derived from; for it only
// plain (non-overloaded, accessible) members are found, through &Proto::name.
struct hook_names {
  int on_connection_setup, before_send, on_command_end, handle_error, stream_end_frame, on_eof;
};
template <class Proto, bool = std::is_class_v<Proto> && !std::is_final_v<Proto>>
struct hook_name_probe : Proto, hook_names {};
template <class Proto>
struct hook_name_probe<Proto, false> : hook_names {};

// What Proto lists, names and can be called with, hook by hook. The call expressions are the
// ones ProtocolInstance makes, so "callable" here means "ProtocolInstance compiles".
template <class Proto, class P, class E>
struct hook_check {
  using hooks = typename declared_hooks<Proto>::type;
  using probe = hook_name_probe<Proto>;
  using Ctx = ProtocolContext<protocol_state_t<Proto>>;

  template <class H>
  static constexpr bool listed = [] {
    if constexpr (is_protocol_hooks<hooks>) return hooks::template lists<H>;
    return false;
  }();

  // Named: the lookup in the probe is ambiguous, or (final classes) &Proto::name is valid.
  static constexpr bool names_on_connection_setup =
      !requires { &probe::on_connection_setup; } || requires { &Proto::on_connection_setup; };
  static constexpr bool names_before_send =
      !requires { &probe::before_send; } || requires { &Proto::before_send; };
  static constexpr bool names_on_command_end =
      !requires { &probe::on_command_end; } || requires { &Proto::on_command_end; };
  static constexpr bool names_handle_error =
      !requires { &probe::handle_error; } || requires { &Proto::handle_error; };
  static constexpr bool names_stream_end_frame =
      !requires { &probe::stream_end_frame; } || requires { &Proto::stream_end_frame; };
  static constexpr bool names_on_eof =
      !requires { &probe::on_eof; } || requires { &Proto::on_eof; };

  static constexpr bool calls_on_connection_setup = requires(Proto& p, PushHandle<P> h, Ctx& c) {
    { p.on_connection_setup(std::move(h), c) } -> std::same_as<void>;
  };
  static constexpr bool calls_before_send = requires(Proto& p, P& frame, Ctx& c) {
    { p.before_send(frame, c) } -> std::same_as<void>;
  };
  static constexpr bool calls_on_command_end = requires(Proto& p, Ctx& c) {
    { p.on_command_end(c) } -> std::same_as<void>;
  };
  static constexpr bool calls_handle_error = requires(Proto& p, const WireframeError<E>& e,
                                                      Ctx& c) {
    { p.handle_error(e, c) } -> std::same_as<void>;
  };
  static constexpr bool calls_stream_end_frame = requires(Proto& p, std::optional<P>& out,
                                                          Ctx& c) {
    out = p.stream_end_frame(c);
  };
  static constexpr bool calls_on_eof = requires(Proto& p, std::span<const std::byte> partial,
                                                Ctx& c) {
    { p.on_eof(partial, c) } -> std::same_as<void>;
  };

  // A hook runs when listed and callable. Callable is redundant once the static_asserts in
  // ProtocolInstance pass; it keeps a failed one from cascading into errors in the calls.
  static constexpr bool on_connection_setup =
      listed<hook::on_connection_setup> && calls_on_connection_setup;
  static constexpr bool before_send = listed<hook::before_send> && calls_before_send;
  static constexpr bool on_command_end = listed<hook::on_command_end> && calls_on_command_end;
  static constexpr bool handle_error = listed<hook::handle_error> && calls_handle_error;
  static constexpr bool stream_end_frame =
      listed<hook::stream_end_frame> && calls_stream_end_frame;
  static constexpr bool on_eof = listed<hook::on_eof> && calls_on_eof;
};

// A connection's protocol: its copy of the protocol object, its connection_state, and the hooks
// as the actor calls them (a hook the protocol does not list is an empty function).
template <class Proto, class P, class E>
class ProtocolInstance final {
  using S = protocol_state_t<Proto>;
  using Ctx = ProtocolContext<S>;
  using check = hook_check<Proto, P, E>;

  // The compile-time contract of the header comment. One message per mistake, naming the hook
  // and its signature (C++20 static_assert messages must be literals, hence no loop). The
  // compiler's "in instantiation of" note names the protocol type.
  static_assert(
      is_protocol_hooks<typename check::hooks>,
      "WireframeProtocol: `hooks` must be wireframe::protocol_hooks<wireframe::hook::...>");
  static_assert(
      !check::template listed<hook::on_connection_setup> || check::calls_on_connection_setup,
      "WireframeProtocol: hook::on_connection_setup is listed but not callable as `void "
      "on_connection_setup(PushHandle<P>, ProtocolContext<S>&)` (misspelled? wrong signature?)");
  static_assert(
      check::template listed<hook::on_connection_setup> || !check::names_on_connection_setup,
      "WireframeProtocol: member on_connection_setup is not in the protocol's hooks list: add "
      "hook::on_connection_setup to `using hooks = wireframe::protocol_hooks<...>;`");
  static_assert(
      !check::template listed<hook::before_send> || check::calls_before_send,
      "WireframeProtocol: hook::before_send is listed but not callable as `void before_send(P& "
      "frame, ProtocolContext<S>&)` (misspelled? wrong signature?)");
  static_assert(
      check::template listed<hook::before_send> || !check::names_before_send,
      "WireframeProtocol: member before_send is not in the protocol's hooks list: add "
      "hook::before_send to `using hooks = wireframe::protocol_hooks<...>;`");
  static_assert(
      !check::template listed<hook::on_command_end> || check::calls_on_command_end,
      "WireframeProtocol: hook::on_command_end is listed but not callable as `void "
      "on_command_end(ProtocolContext<S>&)` (misspelled? wrong signature?)");
  static_assert(
      check::template listed<hook::on_command_end> || !check::names_on_command_end,
      "WireframeProtocol: member on_command_end is not in the protocol's hooks list: add "
      "hook::on_command_end to `using hooks = wireframe::protocol_hooks<...>;`");
  static_assert(
      !check::template listed<hook::handle_error> || check::calls_handle_error,
      "WireframeProtocol: hook::handle_error is listed but not callable as `void "
      "handle_error(const WireframeError<E>&, ProtocolContext<S>&)` (misspelled? wrong "
      "signature?)");
  static_assert(
      check::template listed<hook::handle_error> || !check::names_handle_error,
      "WireframeProtocol: member handle_error is not in the protocol's hooks list: add "
      "hook::handle_error to `using hooks = wireframe::protocol_hooks<...>;`");
  static_assert(
      !check::template listed<hook::stream_end_frame> || check::calls_stream_end_frame,
      "WireframeProtocol: hook::stream_end_frame is listed but not callable as `std::optional<P> "
      "stream_end_frame(ProtocolContext<S>&)` (misspelled? wrong signature?)");
  static_assert(
      check::template listed<hook::stream_end_frame> || !check::names_stream_end_frame,
      "WireframeProtocol: member stream_end_frame is not in the protocol's hooks list: add "
      "hook::stream_end_frame to `using hooks = wireframe::protocol_hooks<...>;`");
  static_assert(
      !check::template listed<hook::on_eof> || check::calls_on_eof,
      "WireframeProtocol: hook::on_eof is listed but not callable as `void on_eof(std::span<const "
      "std::byte>, ProtocolContext<S>&)` (misspelled? wrong signature?)");
  static_assert(
      check::template listed<hook::on_eof> || !check::names_on_eof,
      "WireframeProtocol: member on_eof is not in the protocol's hooks list: add hook::on_eof to "
      "`using hooks = wireframe::protocol_hooks<...>;`");

 public:
  ProtocolInstance(const Proto& proto, ConnectionContext& connection)
      : proto_(proto), ctx_(connection, state_) {}

  static constexpr bool sees_frames = check::before_send;  // the writer skips before_send otherwise

  ProtocolInstance(const ProtocolInstance&) = delete;  // ctx_ points at state_
  ProtocolInstance& operator=(const ProtocolInstance&) = delete;

  void on_connection_setup(PushHandle<P> handle) {
    if constexpr (check::on_connection_setup) {
      guarded("on_connection_setup", [&] { proto_.on_connection_setup(std::move(handle), ctx_); });
    }
  }
  void before_send(P& frame) {
    if constexpr (check::before_send) {
      guarded("before_send", [&] { proto_.before_send(frame, ctx_); });
    }
  }
  void on_command_end() {
    if constexpr (check::on_command_end) {
      guarded("on_command_end", [&] { proto_.on_command_end(ctx_); });
    }
  }
  void handle_error(const WireframeError<E>& error) {
    if constexpr (check::handle_error) {
      guarded("handle_error", [&] { proto_.handle_error(error, ctx_); });
    }
  }
  std::optional<P> stream_end_frame() {
    std::optional<P> frame;
    if constexpr (check::stream_end_frame) {
      guarded("stream_end_frame", [&] { frame = proto_.stream_end_frame(ctx_); });
    }
    return frame;
  }
  void on_eof(std::span<const std::byte> partial) {
    if constexpr (check::on_eof) {
      guarded("on_eof", [&] { proto_.on_eof(partial, ctx_); });
    }
  }

 private:
  template <class Fn>
  void guarded(const char* hook, Fn&& fn) noexcept {
    try {
      fn();
    } catch (...) {
      ctx_.connection().events().template emit_noexcept<LogLevel::error>(
          Event::hook_failed, "hook={} error=\"{}\"", hook, describe_exception(std::current_exception()));
    }
  }

  Proto proto_;
  S state_{};
  Ctx ctx_;
};

}  // namespace detail
}  // namespace wireframe
