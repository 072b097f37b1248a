#pragma once
// RespCodec: a wireframe FrameCodec for RESP2 (the Redis protocol), in place of the default
// length-prefixed framing. A "frame" is one complete request, headers included (RESP has no
// outer envelope): decode() finds where it ends, RespPacket::decode_from() reads its arguments.
// Replies carry their own RESP framing, so encode() writes the body as it is (max_overhead()
// is 0).
//
// decode() never allocates and refuses, as soon as the offending header is readable:
//   - a bulk string longer than max_bulk_length           (Errc::bulk_too_large)
//   - an array of more than max_array_elements             (Errc::too_many_elements)
//   - a request longer than max_request_length in all      (Errc::request_too_large)
//   - an inline line longer than max_inline_length         (Errc::inline_too_long)
//   - anything that is not RESP2 request syntax            (the other resp::Errc values)
// The connection is then closed by wireframe (unlike Redis, no "-ERR Protocol error" reply is
// sent first: a codec error has no reply path).
//
// The codec is stateless (wireframe shares one const copy between all connections and gives
// decode() no per-connection state), so a request that arrives in many reads is rescanned from
// its start on each read. The scan jumps over bulk bodies by their declared length, so one scan
// costs O(arguments so far), not O(bytes); but a request of A arguments arriving in R reads
// costs O(A * R) in all, which is why max_array_elements is capped (resp_protocol.hpp).

#include <wireframe/buffer/byte_buffer.hpp>
#include <wireframe/codec/frame_codec.hpp>
#include <wireframe/codec/unframed.hpp>
#include <wireframe/error/errc.hpp>

#include <concepts>
#include <cstddef>
#include <utility>
#include <span>
#include <stdexcept>
#include <system_error>

#include "resp_protocol.hpp"

namespace resp {

class RespCodec {
 public:
  RespCodec() = default;
  // Throws std::invalid_argument for limits that cannot work together.
  explicit RespCodec(Limits limits) : limits_(limits) {
    if (limits_.max_bulk_length == 0 || limits_.max_array_elements == 0 ||
        limits_.max_inline_length == 0 || limits_.max_request_length < limits_.max_inline_length) {
      throw std::invalid_argument(
          "RespCodec: limits must be positive and max_request_length >= max_inline_length");
    }
  }

  [[nodiscard]] wireframe::DecodeResult decode(std::span<const std::byte> input) const noexcept {
    const auto* in = reinterpret_cast<const char*>(input.data());
    DiscardArgs sink;
    const ScanResult r = scan_request(in, input.size(), limits_, sink);
    switch (r.status) {
      case ScanStatus::complete: return wireframe::DecodeResult::ok(input.first(r.size), r.size);
      case ScanStatus::need_more: return wireframe::DecodeResult::need_more();
      case ScanStatus::error: break;
    }
    return wireframe::DecodeResult::failed(make_error_code(r.error));
  }

  // The body is a complete RESP reply already: written as it is, in place.
  template <class Fill>
    requires std::invocable<Fill&, std::span<std::byte>>
  [[nodiscard]] std::error_code encode(std::size_t body_len, wireframe::ByteBuffer& out, Fill&& fill) const {
    return wireframe::encode_unframed(body_len, out, std::forward<Fill>(fill));
  }

  [[nodiscard]] std::size_t max_frame_length() const noexcept { return limits_.max_request_length; }
  [[nodiscard]] std::size_t max_overhead() const noexcept { return 0; }
  [[nodiscard]] const Limits& limits() const noexcept { return limits_; }

 private:
  Limits limits_{};
};

static_assert(wireframe::FrameCodec<RespCodec>);

}  // namespace resp
