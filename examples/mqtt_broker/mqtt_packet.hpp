#pragma once
// MqttPacket: a wireframe Packet for MQTT 3.1.1. One type plays both roles:
//   - a request: one control packet as MqttCodec cut it. id() is its packet type for the
//     packets a client may send a broker (CONNECT, PUBLISH, PUBACK, PUBREL, SUBSCRIBE,
//     UNSUBSCRIBE, PINGREQ, DISCONNECT), route_violation (0) for the others (CONNACK, SUBACK,
//     PUBREC and PUBCOMP, which this broker never asks for...), so one handler closes on them.
//   - a reply or a push: any number of whole encoded packets back to back (a CONNACK and the
//     messages a reconnecting session gets again are one packet: one write, in that order).
// MQTT has no correlation ids (replies follow requests in order); the field exists because
// wireframe stamps every response with its request's, and never reaches the wire.

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "mqtt/packets.hpp"

namespace mqtt_broker {

inline constexpr std::uint32_t route_violation = 0;

class MqttPacket {
 public:
  MqttPacket() = default;

  // A packet holding `packet` encoded (mqtt::encode for its type).
  template <class P>
  static MqttPacket of(const P& packet) {
    MqttPacket m;
    mqtt::encode(packet, m.bytes_);
    return m;
  }

  // --- request side ----------------------------------------------------------------------------
  [[nodiscard]] mqtt::PacketType type() const noexcept { return type_; }
  [[nodiscard]] std::uint8_t flags() const noexcept { return flags_; }
  [[nodiscard]] std::span<const std::byte> body() const noexcept { return body_; }

  // --- reply side ------------------------------------------------------------------------------
  // Encoded packets are appended here (mqtt::encode(packet, out())).
  [[nodiscard]] mqtt::Bytes& out() noexcept { return bytes_; }
  // Turns a request into an empty reply, keeping its buffers.
  void clear_reply() noexcept { bytes_.clear(); }

  // --- the Packet concept ----------------------------------------------------------------------
  [[nodiscard]] std::uint32_t id() const noexcept { return id_; }
  [[nodiscard]] std::uint64_t correlation_id() const noexcept { return correlation_id_; }
  void set_correlation_id(std::uint64_t c) noexcept { correlation_id_ = c; }
  // A request: its body; a reply: its bytes.
  [[nodiscard]] std::span<const std::byte> payload() const noexcept {
    return bytes_.empty() ? body() : std::span<const std::byte>(bytes_);
  }
  [[nodiscard]] std::size_t payload_capacity() const noexcept { return body_.capacity() + bytes_.capacity(); }
  // Only replies are encoded.
  [[nodiscard]] std::size_t encoded_size() const noexcept { return bytes_.size(); }
  void encode_to(std::span<std::byte> out) const noexcept;
  // One whole control packet, reusing this packet's buffers.
  std::error_code decode_from(std::span<const std::byte> frame);

 private:
  std::uint32_t id_ = route_violation;
  mqtt::PacketType type_ = mqtt::PacketType::connect;
  std::uint8_t flags_ = 0;
  std::uint64_t correlation_id_ = 0;
  std::vector<std::byte> body_;
  std::vector<std::byte> bytes_;
};

}  // namespace mqtt_broker
