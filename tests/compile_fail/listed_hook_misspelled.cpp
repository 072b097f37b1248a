// Must not compile: hook::before_send is listed, but the member is misspelled (befor_send).
// Before the hooks list this was a protocol whose before_send silently never ran.
#include "wireframe/app/wireframe_app.hpp"

using namespace wireframe;

struct Typo {
  using hooks = protocol_hooks<hook::before_send>;
  void befor_send(Envelope& frame, ProtocolContext<NoConnectionState>&) { (void)frame; }
};

void use() { (void)WireframeApp<>().with_protocol(Typo{}); }
