// Must not compile: a frame processor added after with_fragmentation() would sit above the
// fragment layer, where it cannot see wire frames.
#include <cstddef>
#include <span>

#include "wireframe/app/wireframe_app.hpp"
#include "wireframe/fragment/len_flag_32k.hpp"

using namespace wireframe;

struct Passthrough {
  InboundFrame inbound(std::span<const std::byte> frame, const FrameContext&) {
    return InboundFrame::pass(frame);
  }
  FrameOverhead overhead() const noexcept { return {}; }
  void outbound(std::span<std::byte>) noexcept {}
};

void use() {
  (void)WireframeApp<>().with_fragmentation(LenFlag32K()).with_processor(Passthrough{});
}
