#pragma once
// The inbound path of one frame, shared by the server's connection actor and WireframeClient:
// codec -> frame processors (FrameStages) -> reassembly (when the connection fragments) ->
// the bytes of one whole message, ready for Packet::decode_from. Each side reads its socket its
// own way (the actor through completion handlers, the client in a coroutine) and decides what a
// step means for it (the actor serves or defers a request, the client returns a reply); the
// decoding itself is this one piece of code.
//
//   InboundStep step;  // reused from frame to frame
//   next_inbound(codec, stages, rbuf.readable(), ctx, admit, reassemble, step);
//
// `admit(frame_size)` may refuse a frame before anything else sees it (the actor's inbound byte
// budget). `reassemble(body, consumed, step)` is reassemble_into(layer, now) for a fragment layer,
// or whole_message() without one. The step is filled in, not returned: kind, consumed and message
// always, the error fields only on their paths, so that the common path writes three fields and
// constructs no std::error_code (whose default constructor is a call into libstdc++); this is the
// hot path of every frame.

#include <chrono>
#include <cstddef>
#include <span>
#include <system_error>

#include "wireframe/codec/frame_codec.hpp"
#include "wireframe/fragment/reassembler.hpp"
#include "wireframe/processor/frame_processor.hpp"

namespace wireframe::detail {

struct InboundStep {
  enum class Kind {
    need_more,       // no complete frame in the bytes: read more
    refused,         // admit() said no: nothing consumed, come back later
    held,            // a processor or the reassembly kept the frame: consume it, nothing goes up
    message,         // `message` is a whole message: decode it, then consume the frame
    fragment_error,  // the reassembly dropped a message (`fragment`): consume the frame, report it
    error,           // the bytes are bad (`error`, `where`): the connection stops reading
  };
  Kind kind = Kind::need_more;
  std::size_t consumed = 0;             // bytes of the read buffer the frame occupies
  std::span<const std::byte> message{};  // Kind::message (may view the read buffer itself)
  std::error_code error{};              // Kind::error
  const char* where = "";               // Kind::error: which stage refused the bytes
  ReassemblyResult fragment{};          // Kind::fragment_error
};

// A frame body that is a whole message (no fragmentation).
struct WholeMessage {
  void operator()(std::span<const std::byte> body, InboundStep& step) const noexcept {
    step.kind = InboundStep::Kind::message;
    step.message = body;
  }
};
inline WholeMessage whole_message() noexcept { return {}; }

// A frame body that is a fragment, fed to `layer` (anything with FragmentLayer's
// feed(body, now)); a whole message once its last fragment is in.
template <class Layer>
auto reassemble_into(Layer& layer, std::chrono::steady_clock::time_point now) noexcept {
  return [&layer, now](std::span<const std::byte> body, InboundStep& step) noexcept {
    const ReassemblyResult r = layer.feed(body, now);
    if (r.status == ReassemblyStatus::complete) {
      step.kind = InboundStep::Kind::message;
      step.message = r.message;
    } else if (r.status == ReassemblyStatus::error) {
      step.kind = InboundStep::Kind::fragment_error;
      step.fragment = r;
    } else {
      step.kind = InboundStep::Kind::held;
    }
  };
}

template <FrameCodec C, class Stages, class Admit, class Reassemble>
void next_inbound(const C& codec, Stages& stages, std::span<const std::byte> readable, const FrameContext& ctx,
                  Admit&& admit, Reassemble&& reassemble, InboundStep& step) {
  const DecodeResult res = codec.decode(readable);
  step.consumed = res.consumed;
  if (res.status == DecodeStatus::need_more) {
    step.kind = InboundStep::Kind::need_more;
    return;
  }
  if (res.status == DecodeStatus::error) {
    step.kind = InboundStep::Kind::error;
    step.error = res.error;
    step.where = "while decoding a frame";
    return;
  }
  if (!admit(res.frame.size())) {
    step.kind = InboundStep::Kind::refused;
    return;
  }
  std::span<const std::byte> body = res.frame;
  if constexpr (!Stages::empty) {  // the frame processors, codec side first
    const InboundFrame in = stages.inbound(body, ctx);
    if (in.status == InboundFrame::Status::fail) {
      step.kind = InboundStep::Kind::error;
      step.error = in.error;
      step.where = "in a frame processor";
      return;
    }
    if (in.status == InboundFrame::Status::hold) {
      step.kind = InboundStep::Kind::held;
      return;
    }
    body = in.frame;
  }
  reassemble(body, step);
}

// For callers that admit every frame.
inline constexpr auto admit_all = [](std::size_t) noexcept { return true; };

}  // namespace wireframe::detail
