#include "mqtt_packet.hpp"

#include <cstring>
#include <limits>
#include <variant>

#include "mqtt_codec.hpp"

namespace mqtt_broker {

void MqttPacket::encode_to(std::span<std::byte> out) const noexcept {
  if (!bytes_.empty()) std::memcpy(out.data(), bytes_.data(), bytes_.size());
}

namespace {
// The packets a client may send a broker that grants at most QoS 1 (3.1 .. 3.14): CONNACK,
// SUBACK, UNSUBACK and PINGRESP go the other way; PUBREC and PUBCOMP answer a QoS 2 PUBLISH
// from the broker, which it never sends.
std::uint32_t route_of(mqtt::PacketType type) noexcept {
  using T = mqtt::PacketType;
  switch (type) {
    case T::connect: case T::publish: case T::puback: case T::pubrel: case T::subscribe:
    case T::unsubscribe: case T::pingreq: case T::disconnect:
      return static_cast<std::uint32_t>(type);
    default:
      return route_violation;
  }
}
}  // namespace

std::error_code MqttPacket::decode_from(std::span<const std::byte> frame) {
  bytes_.clear();
  correlation_id_ = 0;
  // MqttCodec hands over whole packets only: anything else here is a caller's mistake.
  const auto r = mqtt::decode_frame(frame, std::numeric_limits<std::size_t>::max());
  const auto* f = std::get_if<mqtt::Frame>(&r);
  if (f == nullptr || f->size != frame.size()) return make_error_code(Errc::malformed_packet);
  type_ = f->type;
  flags_ = f->flags;
  id_ = route_of(type_);
  body_.assign(f->body.begin(), f->body.end());
  return {};
}

}  // namespace mqtt_broker
