// Must not compile: hook::on_command_end is listed, but the member takes the app hook's
// ConnectionContext& instead of a ProtocolContext<S>&.
#include "wireframe/app/wireframe_app.hpp"

using namespace wireframe;

struct WrongArgs {
  using hooks = protocol_hooks<hook::on_command_end>;
  void on_command_end(ConnectionContext& ctx) { (void)ctx; }
};

void use() { (void)WireframeApp<>().with_protocol(WrongArgs{}); }
