#pragma once
// PgCodec: a wireframe FrameCodec for the PostgreSQL protocol's typed messages: a type byte and
// a 32-bit big-endian length that counts itself and the body, not the type byte. A frame is the
// whole message (PgPacket::decode_from reads the type from it). Backend messages carry their own
// headers (MessageWriter writes them), so encode() writes a reply's bytes as they are.
//
// decode() never allocates and refuses, as soon as the header is readable:
//   - a length below 4 (it counts itself)                   (Errc::invalid_message_length)
//   - a message longer than max_message_length              (Errc::message_too_large)
// The connection then closes; PgProtocol (pg_session.hpp) first sends the client a FATAL
// ErrorResponse (08P01), as PostgreSQL does for a message it cannot frame.
//
// The untyped startup packets (StartupMessage, SSLRequest, CancelRequest) come before any of
// these and are read by the preamble (pg_startup.hpp), not by this codec.

#include <wireframe/buffer/byte_buffer.hpp>
#include <wireframe/codec/frame_codec.hpp>
#include <wireframe/codec/unframed.hpp>
#include <wireframe/error/errc.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <span>
#include <string>
#include <system_error>

namespace pg {

inline constexpr std::size_t header_size = 5;  // type byte + length

enum class Errc { invalid_message_length = 1, message_too_large, malformed_message };

class ErrcCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "pg"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::invalid_message_length: return "invalid message length";
      case Errc::message_too_large: return "message too large";
      case Errc::malformed_message: return "malformed message";
    }
    return "unknown pg error";
  }
};

inline const std::error_category& errc_category() noexcept {
  static const ErrcCategory category;
  return category;
}
inline std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), errc_category()}; }

class PgCodec {
 public:
  // PostgreSQL takes queries of up to 1 GiB; a mock database has no use for more than a few MiB.
  explicit PgCodec(std::size_t max_message_length = 4 * 1024 * 1024) : max_(max_message_length) {}

  // [snippet decode]
  [[nodiscard]] wireframe::DecodeResult decode(std::span<const std::byte> input) const noexcept {
    if (input.size() < header_size) return wireframe::DecodeResult::need_more();
    std::uint32_t len = 0;
    for (std::size_t i = 1; i < header_size; ++i) len = (len << 8) | std::to_integer<std::uint32_t>(input[i]);
    if (len < 4) return wireframe::DecodeResult::failed(make_error_code(Errc::invalid_message_length));
    if (len - 4 > max_) return wireframe::DecodeResult::failed(make_error_code(Errc::message_too_large));
    const std::size_t total = 1 + static_cast<std::size_t>(len);
    if (input.size() < total) return wireframe::DecodeResult::need_more();
    return wireframe::DecodeResult::ok(input.first(total), total);
  // [end snippet decode]
  }

  // The body is complete backend messages already: written as it is, in place.
  template <class Fill>
    requires std::invocable<Fill&, std::span<std::byte>>
  [[nodiscard]] std::error_code encode(std::size_t body_len, wireframe::ByteBuffer& out, Fill&& fill) const {
    return wireframe::encode_unframed(body_len, out, std::forward<Fill>(fill));
  }

  // The longest body accepted; a frame is its header more.
  [[nodiscard]] std::size_t max_frame_length() const noexcept { return max_ + header_size; }
  [[nodiscard]] std::size_t max_overhead() const noexcept { return 0; }

 private:
  std::size_t max_;
};

static_assert(wireframe::FrameCodec<PgCodec>);

}  // namespace pg

template <>
struct std::is_error_code_enum<pg::Errc> : std::true_type {};
