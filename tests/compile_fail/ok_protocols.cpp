// Must compile (with the project's warnings as errors): correct protocols, so that the
// compile_fail tests are known to fail for their mistake and not for the harness.
#include <cstddef>
#include <optional>
#include <span>

#include "wireframe/app/wireframe_app.hpp"

using namespace wireframe;

// Every hook, with per-connection state, and the parameter conversions the contract allows
// (const P&, a const span).
struct Full {
  using hooks = protocol_hooks<hook::on_connection_setup, hook::before_send, hook::on_command_end,
                               hook::handle_error, hook::stream_end_frame, hook::on_eof>;
  struct connection_state {
    int commands = 0;
  };
  using Ctx = ProtocolContext<connection_state>;

  void on_connection_setup(PushHandle<Envelope> handle, Ctx&) { (void)handle; }
  void before_send(const Envelope& frame, Ctx&) { (void)frame; }
  void on_command_end(Ctx& ctx) { ++ctx.state().commands; }
  void handle_error(const WireframeError<NoProtocolError>& error, Ctx&) { (void)error; }
  std::optional<Envelope> stream_end_frame(Ctx&) { return std::nullopt; }
  void on_eof(const std::span<const std::byte> partial, Ctx&) { (void)partial; }
  void helper() {}  // not named like a hook: no need to list it
};

// No hooks at all: still a valid protocol (every hook a no-op), with or without an empty list.
struct Silent {};
struct SilentListed {
  using hooks = protocol_hooks<>;
};

// Templates and overloads count as long as the documented call resolves.
struct Generic {
  using hooks = protocol_hooks<hook::before_send>;
  template <class Frame, class Ctx>
  void before_send(Frame& frame, Ctx&) { (void)frame; }
};

void use() {
  (void)WireframeApp<>().with_protocol(Full{});
  (void)WireframeApp<>().with_protocol(Silent{});
  (void)WireframeApp<>().with_protocol(SilentListed{});
  (void)WireframeApp<>().with_protocol(Generic{});
}
