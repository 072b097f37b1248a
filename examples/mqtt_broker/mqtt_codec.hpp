#pragma once
// MqttCodec: a wireframe FrameCodec for MQTT 3.1.1 control packets. A frame is one whole packet,
// fixed header included (MqttPacket::decode_from reads type and flags from it), cut out of the
// stream by mqtt::decode_frame (mqtt/framing.hpp). Replies are complete packets already
// (MqttPacket holds them encoded), so encode() writes their bytes as they are.
//
// decode() refuses, as soon as the fixed header is readable, and the connection then closes as
// MQTT asks of a protocol violation (4.8):
//   - a remaining length with a fifth varint byte, a reserved packet type   (Errc::malformed_packet)
//   - a packet larger than max_packet_bytes                                  (Errc::packet_too_large)

#include <wireframe/buffer/byte_buffer.hpp>
#include <wireframe/codec/frame_codec.hpp>
#include <wireframe/codec/unframed.hpp>

#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "mqtt/framing.hpp"

namespace mqtt_broker {

enum class Errc { malformed_packet = 1, packet_too_large, protocol_violation };

class ErrcCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "mqtt"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::malformed_packet: return "malformed MQTT packet";
      case Errc::packet_too_large: return "MQTT packet larger than the broker accepts";
      case Errc::protocol_violation: return "MQTT protocol violation";
    }
    return "unknown mqtt error";
  }
};

inline const std::error_category& errc_category() noexcept {
  static const ErrcCategory category;
  return category;
}
inline std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), errc_category()}; }

class MqttCodec {
 public:
  // MQTT allows 256 MiB; a broker sets its own bound (mosquitto: message_size_limit).
  explicit MqttCodec(std::size_t max_packet_bytes = 1024 * 1024) : max_(max_packet_bytes) {}

  // [snippet decode]
  [[nodiscard]] wireframe::DecodeResult decode(std::span<const std::byte> input) const noexcept {
    const mqtt::FrameResult r = mqtt::decode_frame(input, max_);
    if (const auto* frame = std::get_if<mqtt::Frame>(&r)) {
      return wireframe::DecodeResult::ok(input.first(frame->size), frame->size);
    }
    if (const auto* error = std::get_if<mqtt::Error>(&r)) {
      const bool large = error->code == mqtt::ErrorCode::too_large;
      return wireframe::DecodeResult::failed(make_error_code(large ? Errc::packet_too_large : Errc::malformed_packet));
    }
    return wireframe::DecodeResult::need_more();
  }
  // [end snippet decode]

  // The body is complete packets already: written as it is, in place.
  template <class Fill>
    requires std::invocable<Fill&, std::span<std::byte>>
  [[nodiscard]] std::error_code encode(std::size_t body_len, wireframe::ByteBuffer& out, Fill&& fill) const {
    return wireframe::encode_unframed(body_len, out, std::forward<Fill>(fill));
  }

  [[nodiscard]] std::size_t max_frame_length() const noexcept { return max_; }
  [[nodiscard]] std::size_t max_overhead() const noexcept { return 0; }

 private:
  std::size_t max_;
};

static_assert(wireframe::FrameCodec<MqttCodec>);

}  // namespace mqtt_broker

template <>
struct std::is_error_code_enum<mqtt_broker::Errc> : std::true_type {};
