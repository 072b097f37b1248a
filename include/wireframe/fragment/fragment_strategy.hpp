#pragma once
// FragmentStrategy: how a fragment header is laid out, and how large fragments may be.
//
// On a fragmenting connection EVERY codec frame body is one fragment:
//
//   +------------------------------+-------------------------------------------+
//   | fragment header (strategy)   | payload (a slice of the logical message)  |
//   +------------------------------+-------------------------------------------+
//
// There is no in-band marker that an ordinary payload could imitate: a message that fits in one
// fragment is sent as a single final fragment, so the receiver never has to guess whether a
// frame is fragmented.
//
// A strategy is a small value type (copyable, no per-connection state) with:
//
//   decode_header(frame)  -> FragmentHeaderDecode
//       Parses the header at the start of `frame` (one whole codec frame body).
//       ok:        `meta` and `header_length` are set; a strategy that carries a payload length
//                  guarantees header_length + meta.payload_length == frame.size().
//       need_more: `frame` is shorter than the header. Inside one frame this cannot improve, so
//                  the Reassembler reports it as fragment_errc::bad_header.
//       error:     the header is invalid (`error` says why, normally fragment_errc::bad_header).
//   header_size(meta, logical_frame)  -> bytes encode_header() will write for this meta.
//   encode_header(meta, logical_frame, out) -> bytes written (== header_size(meta, frame)).
//       `out` has at least header_size() bytes. `logical_frame` is the message being split
//       (context-aware strategies may vary their rules with it, roadmap 3.6).
//   max_header_size()      -> the largest header the strategy ever writes or accepts.
//   max_fragment_payload(logical_frame) -> payload bytes per fragment for that message (>= 1).
//
// All of them are noexcept: the I/O path reports errors as values.
//
// The concept is split in two because the inbound side never sees the logical frame:
// `FragmentDecoder<S>` is what the Reassembler needs, `FragmentStrategy<S, F>` adds the
// outbound operations for logical frames of type F (the connection passes its Packet type, e.g.
// Envelope; any type works, a strategy that ignores the frame takes it as a template).

#include <concepts>
#include <cstddef>
#include <span>
#include <system_error>

#include "wireframe/fragment/fragment_error.hpp"
#include "wireframe/fragment/fragment_meta.hpp"

namespace wireframe {

enum class FragmentHeaderStatus { ok, need_more, error };

struct FragmentHeaderDecode {
  FragmentHeaderStatus status = FragmentHeaderStatus::need_more;
  FragmentMeta meta{};
  std::size_t header_length = 0;  // bytes of the frame the header occupies (status == ok)
  std::error_code error{};        // why (status == error)

  static FragmentHeaderDecode need_more() noexcept { return {}; }
  static FragmentHeaderDecode failed(std::error_code ec) noexcept {
    return {FragmentHeaderStatus::error, {}, 0, ec};
  }
  static FragmentHeaderDecode ok(const FragmentMeta& meta, std::size_t header_length) noexcept {
    return {FragmentHeaderStatus::ok, meta, header_length, {}};
  }
};

// Whether fragments of different messages may interleave on the wire: a strategy opts in with
// `static constexpr bool interleaves = true;` (its headers must then carry a message id). The
// connection's writer then lets other frames (an urgent push) go out between the fragments of a
// large message; otherwise a message's fragments are written back to back.
template <class S>
inline constexpr bool fragment_interleaving_v = [] {
  if constexpr (requires { S::interleaves; }) {
    return static_cast<bool>(S::interleaves);
  } else {
    return false;
  }
}();

template <class S>
concept FragmentDecoder = std::copy_constructible<S> &&
    requires(const S& s, std::span<const std::byte> frame) {
      { s.decode_header(frame) } noexcept -> std::same_as<FragmentHeaderDecode>;
      { s.max_header_size() } noexcept -> std::convertible_to<std::size_t>;
    };

template <class S, class F>
concept FragmentStrategy = FragmentDecoder<S> &&
    requires(const S& s, const FragmentMeta& meta, const F& logical_frame, std::span<std::byte> out) {
      { s.header_size(meta, logical_frame) } noexcept -> std::convertible_to<std::size_t>;
      { s.encode_header(meta, logical_frame, out) } noexcept -> std::convertible_to<std::size_t>;
      { s.max_fragment_payload(logical_frame) } noexcept -> std::convertible_to<std::size_t>;
    };

}  // namespace wireframe
