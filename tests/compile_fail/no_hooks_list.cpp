// Must not compile: a protocol written before hooks lists existed (a hook-named member, no
// `hooks`). The error says which hook to list.
#include "wireframe/app/wireframe_app.hpp"

using namespace wireframe;

struct Legacy {
  void handle_error(const WireframeError<NoProtocolError>& error,
                    ProtocolContext<NoConnectionState>&) {
    (void)error;
  }
};

void use() { (void)WireframeApp<>().with_protocol(Legacy{}); }
