#pragma once
// FrameProcessor: a stage of your own between the codec and the packet, run on every wire frame
// of a connection (docs/architecture.md, "The processor stack"). Add one with
// WireframeApp::with_processor(p) (and give the client the same type: WireframeClient<C, P, T>);
// each connection gets its own copy of `p`, used only on that connection's thread.
//
//   struct Crc32cCheck {
//     // Inbound: the frame body as the codec (or the stage below) found it. Return
//     //   InboundFrame::pass(view)  the frame for the stage above: a subspan of `frame`, or a
//     //                             view of this stage's own storage (valid until its next call)
//     //   InboundFrame::hold()      nothing for the stages above (the frame was taken in)
//     //   InboundFrame::fail(ec)    the connection ends, as for a malformed frame
//     InboundFrame inbound(std::span<const std::byte> frame, const FrameContext& ctx);
//     // Outbound: bytes this stage adds before and after every frame body (the same for the
//     // connection's whole life), then the call that fills them in: `frame` holds prefix, the
//     // body of the stages above (already written) and suffix.
//     FrameOverhead overhead() const noexcept;
//     void outbound(std::span<std::byte> frame) noexcept;
//   };
//
// Stages nest like envelopes: the one added first is nearest the codec, so it sees an inbound
// frame first and writes the outermost prefix and suffix. Neither direction copies the body,
// and neither may allocate per frame in steady state.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "wireframe/app/connection_id.hpp"

namespace wireframe {

// What an inbound stage makes of one frame.
struct InboundFrame {
  enum class Status : std::uint8_t { pass, hold, fail };
  Status status = Status::pass;
  std::span<const std::byte> frame{};  // status == pass
  std::error_code error{};             // status == fail

  static InboundFrame pass(std::span<const std::byte> frame) noexcept {
    return {Status::pass, frame, {}};
  }
  static InboundFrame hold() noexcept { return {Status::hold, {}, {}}; }
  static InboundFrame fail(std::error_code ec) noexcept { return {Status::fail, {}, ec}; }
};

// Bytes a stage adds around every outbound frame body.
struct FrameOverhead {
  std::size_t prefix = 0;
  std::size_t suffix = 0;
  friend bool operator==(const FrameOverhead&, const FrameOverhead&) = default;
};

// What an inbound stage knows besides the frame: which connection, and when the bytes were read
// (one clock read per socket read, not per frame).
struct FrameContext {
  ConnectionId connection{};
  std::chrono::steady_clock::time_point read_at{};
};

// (clang-format 14 splits `noexcept ->` apart.)
// clang-format off
template <class T>
concept FrameProcessor = std::copy_constructible<T> &&
    requires(T& t, const T& ct, std::span<const std::byte> in, std::span<std::byte> out,
             const FrameContext& ctx) {
      { t.inbound(in, ctx) } -> std::same_as<InboundFrame>;
      { ct.overhead() } noexcept -> std::same_as<FrameOverhead>;
      { t.outbound(out) } noexcept -> std::same_as<void>;
    };
// clang-format on

}  // namespace wireframe
