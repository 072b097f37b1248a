// Must not compile: hook::before_send is listed, but returns bool. The library ignores what a
// void hook returns, so "return false to drop the frame" would silently do nothing.
#include "wireframe/app/wireframe_app.hpp"

using namespace wireframe;

struct WrongReturn {
  using hooks = protocol_hooks<hook::before_send>;
  bool before_send(Envelope& frame, ProtocolContext<NoConnectionState>&) {
    return frame.payload().empty();
  }
};

void use() { (void)WireframeApp<>().with_protocol(WrongReturn{}); }
