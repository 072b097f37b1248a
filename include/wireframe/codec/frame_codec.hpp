#pragma once
// FrameCodec: the layer between raw bytes and frames. A codec only finds frame boundaries and
// writes frame headers; what a frame's bytes mean is the Packet's business (packet/).
//
// decode() looks at the readable bytes of the connection's read buffer and reports one of:
//   - a frame: `frame` views its body inside `input` (valid until the buffer is consumed) and
//     `consumed` is the whole frame's length including its header;
//   - need_more: no complete frame yet (and the header, if complete, was within limits);
//   - error: the bytes can never become a valid frame (e.g. a prefix above the maximum). The
//     connection is then closed; nothing is allocated for the announced size.
// encode() appends one frame to `out`: the codec's header, then exactly `body_len` bytes that it
// obtains by calling `fill(span)` with the destination, then any trailer. The body is written in
// place, so a packet is serialised straight into the write buffer without a temporary.
// Neither operation may allocate per frame in steady state (`out` is reused by the caller).

#include <concepts>
#include <cstddef>
#include <span>
#include <system_error>

#include "wireframe/buffer/byte_buffer.hpp"

namespace wireframe {

enum class DecodeStatus { frame, need_more, error };

struct DecodeResult {
  DecodeStatus status = DecodeStatus::need_more;
  std::size_t consumed = 0;               // bytes of `input` the frame occupies (status == frame)
  std::span<const std::byte> frame{};     // the frame body (status == frame)
  std::error_code error{};                // why (status == error)

  static DecodeResult need_more() { return {}; }
  static DecodeResult failed(std::error_code ec) { return {DecodeStatus::error, 0, {}, ec}; }
  static DecodeResult ok(std::span<const std::byte> body, std::size_t consumed) {
    return {DecodeStatus::frame, consumed, body, {}};
  }
};

namespace detail {
// Stand-in body writer used only to check the concept.
struct FillProbe {
  void operator()(std::span<std::byte>) const noexcept {}
};
}  // namespace detail

template <class C>
concept FrameCodec = std::copy_constructible<C> &&
    requires(const C& c, std::span<const std::byte> input, std::size_t n, ByteBuffer& out) {
      { c.decode(input) } -> std::same_as<DecodeResult>;
      { c.encode(n, out, detail::FillProbe{}) } -> std::same_as<std::error_code>;
      // Largest body decode() accepts; used to size the read buffer's cap.
      { c.max_frame_length() } -> std::convertible_to<std::size_t>;
      // Header + trailer bytes around a body: lets the writer reserve exactly.
      { c.max_overhead() } -> std::convertible_to<std::size_t>;
    };

// Optional capability: a codec whose frame is exactly a header followed by the untouched body
// (no trailer, no escaping) can write the header alone: encode_prefix(body_len, out) appends
// the header for a body of `body_len` bytes that the caller then appends itself, possibly as a
// borrowed slice of a gathered write (GatherBuffer). The fragment layer uses it to send fragment
// payloads without copying them. Same errors as encode(); on error nothing is appended.
template <class C>
concept PrefixFrameCodec = FrameCodec<C> && requires(const C& c, std::size_t n, ByteBuffer& out) {
  { c.encode_prefix(n, out) } -> std::same_as<std::error_code>;
};

}  // namespace wireframe
