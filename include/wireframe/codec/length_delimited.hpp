#pragma once
// LengthDelimitedCodec: the default FrameCodec. Every frame is a length prefix followed by that
// many body bytes (docs/wire-format.md):
//
//   +-----------------------------+----------------------+
//   | body length (prefix_width)  | body (length bytes)  |
//   +-----------------------------+----------------------+
//
// The prefix counts the body only, never itself. Width (1, 2, 4 or 8 bytes) and byte order are
// configurable; the default is 4 bytes, big-endian, with bodies of at most 8 MiB (the same
// default as tokio-util's LengthDelimitedCodec). A prefix announcing more than the maximum is
// rejected as soon as the prefix itself is readable, so a peer cannot make the read buffer grow
// by announcing a huge frame: the connection is closed instead.
//
// Both directions work on caller-owned buffers and never allocate.

#include <algorithm>
#include <concepts>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/codec/frame_codec.hpp"
#include "wireframe/detail/byte_order.hpp"
#include "wireframe/error/errc.hpp"

namespace wireframe {

enum class Endian { big, little };

class LengthDelimitedCodec {
 public:
  // 8 MiB: large enough for any sane request, small enough that a hostile prefix cannot make a
  // connection pin much memory. Raise it explicitly if the protocol needs bigger frames.
  static constexpr std::size_t default_max_frame_length = 8 * 1024 * 1024;

  struct Options {
    std::size_t prefix_width = 4;  // bytes: 1, 2, 4 or 8
    Endian endian = Endian::big;
    // Largest accepted body; clamped to what prefix_width can express.
    std::size_t max_frame_length = default_max_frame_length;
  };

  // 4-byte big-endian prefix, 8 MiB maximum body.
  LengthDelimitedCodec() : LengthDelimitedCodec(Options{}) {}

  // Throws std::invalid_argument for a prefix width other than 1, 2, 4 or 8: that is a
  // configuration mistake, caught once. On the I/O path decode() never throws, and encode() only
  // if `fill` or the buffer's growth does; limits are reported as error codes.
  explicit LengthDelimitedCodec(Options options)
      : width_(checked_width(options.prefix_width)),
        endian_(options.endian),
        max_frame_length_(std::min(options.max_frame_length, prefix_limit(width_))) {}

  // Finds the first frame in `input`. See FrameCodec (frame_codec.hpp) for the contract.
  [[nodiscard]] DecodeResult decode(std::span<const std::byte> input) const noexcept {
    if (input.size() < width_) return DecodeResult::need_more();
    const std::uint64_t announced = read_prefix(input.data());
    // Checked before the body arrives: the caller must never grow a buffer for this frame.
    if (announced > max_frame_length_) return DecodeResult::failed(errc::frame_too_large);
    const auto body_len = static_cast<std::size_t>(announced);
    // Written as a subtraction so that width_ + body_len cannot overflow.
    if (input.size() - width_ < body_len) return DecodeResult::need_more();
    return DecodeResult::ok(input.subspan(width_, body_len), width_ + body_len);
  }

  // Appends prefix + body to `out`; `fill` writes the body into exactly `body_len` bytes in
  // place. On error nothing is appended (and `fill` is not called). If `fill` throws, nothing is
  // committed either.
  template <class Fill>
    requires std::invocable<Fill&, std::span<std::byte>>
  [[nodiscard]] std::error_code encode(std::size_t body_len, ByteBuffer& out, Fill&& fill) const {
    if (body_len > max_frame_length_) return errc::frame_too_large;
    // max_frame_length_ may be SIZE_MAX with an 8-byte prefix; keep the total representable.
    if (body_len > std::numeric_limits<std::size_t>::max() - width_) return errc::frame_too_large;
    const std::size_t total = width_ + body_len;
    const std::span<std::byte> dst = out.prepare(total);
    if (dst.size() < total) return errc::frame_too_large;  // the buffer's cap is reached
    write_prefix(dst.data(), body_len);
    std::invoke(fill, dst.subspan(width_, body_len));
    out.commit(total);
    return {};
  }

  // Appends the prefix alone for a body of `body_len` bytes that the caller appends next
  // (PrefixFrameCodec, frame_codec.hpp). Same checks as encode().
  [[nodiscard]] std::error_code encode_prefix(std::size_t body_len, ByteBuffer& out) const {
    if (body_len > max_frame_length_) return errc::frame_too_large;
    const std::span<std::byte> dst = out.prepare(width_);
    if (dst.size() < width_) return errc::frame_too_large;
    write_prefix(dst.data(), body_len);
    out.commit(width_);
    return {};
  }

  [[nodiscard]] std::size_t max_frame_length() const noexcept { return max_frame_length_; }
  [[nodiscard]] std::size_t max_overhead() const noexcept { return width_; }
  [[nodiscard]] std::size_t prefix_width() const noexcept { return width_; }
  [[nodiscard]] Endian endian() const noexcept { return endian_; }

 private:
  static std::size_t checked_width(std::size_t width) {
    if (width != 1 && width != 2 && width != 4 && width != 8) {
      throw std::invalid_argument("LengthDelimitedCodec: prefix_width must be 1, 2, 4 or 8");
    }
    return width;
  }

  // Largest body length a prefix of `width` bytes can express (as a size_t).
  static constexpr std::size_t prefix_limit(std::size_t width) noexcept {
    if (width >= sizeof(std::uint64_t)) return std::numeric_limits<std::size_t>::max();
    const std::uint64_t limit = (std::uint64_t{1} << (8 * width)) - 1;
    constexpr auto size_max = std::numeric_limits<std::size_t>::max();
    return limit > size_max ? size_max : static_cast<std::size_t>(limit);
  }

  // One load or store per prefix (detail/byte_order.hpp); `v` fits the width (checked above).
  [[nodiscard]] std::uint64_t read_prefix(const std::byte* p) const noexcept {
    return endian_ == Endian::big ? read_as<std::endian::big>(p) : read_as<std::endian::little>(p);
  }
  void write_prefix(std::byte* p, std::uint64_t v) const noexcept {
    if (endian_ == Endian::big) write_as<std::endian::big>(p, v);
    else write_as<std::endian::little>(p, v);
  }

  template <std::endian Order>
  [[nodiscard]] std::uint64_t read_as(const std::byte* p) const noexcept {
    switch (width_) {
      case 1: return detail::load<std::uint8_t, Order>(p);
      case 2: return detail::load<std::uint16_t, Order>(p);
      case 4: return detail::load<std::uint32_t, Order>(p);
      default: return detail::load<std::uint64_t, Order>(p);
    }
  }
  template <std::endian Order>
  void write_as(std::byte* p, std::uint64_t v) const noexcept {
    switch (width_) {
      case 1: return detail::store<std::uint8_t, Order>(p, static_cast<std::uint8_t>(v));
      case 2: return detail::store<std::uint16_t, Order>(p, static_cast<std::uint16_t>(v));
      case 4: return detail::store<std::uint32_t, Order>(p, static_cast<std::uint32_t>(v));
      default: return detail::store<std::uint64_t, Order>(p, v);
    }
  }

  std::size_t width_;
  Endian endian_;
  std::size_t max_frame_length_;
};

static_assert(FrameCodec<LengthDelimitedCodec>);

}  // namespace wireframe
