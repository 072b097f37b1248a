// Must not compile: the protocol has a hooks list, and an on_eof member that is not in it.
#include <cstddef>
#include <span>

#include "wireframe/app/wireframe_app.hpp"

using namespace wireframe;

struct Unlisted {
  using hooks = protocol_hooks<hook::before_send>;
  void before_send(Envelope& frame, ProtocolContext<NoConnectionState>&) { (void)frame; }
  void on_eof(std::span<const std::byte> partial, ProtocolContext<NoConnectionState>&) {
    (void)partial;
  }
};

void use() { (void)WireframeApp<>().with_protocol(Unlisted{}); }
