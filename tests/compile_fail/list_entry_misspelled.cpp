// Must not compile: the hooks list names a hook that does not exist (hook::befor_send). The
// tags are types, so this is the compiler's own "no such name" error.
#include "wireframe/app/wireframe_app.hpp"

using namespace wireframe;

struct Typo {
  using hooks = protocol_hooks<hook::befor_send>;
  void before_send(Envelope& frame, ProtocolContext<NoConnectionState>&) { (void)frame; }
};

void use() { (void)WireframeApp<>().with_protocol(Typo{}); }
