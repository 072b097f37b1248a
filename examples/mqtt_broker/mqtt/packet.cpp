// The Packet variant: dispatch of parse and encode by packet type, and the empty packets.
#include <string>
#include <type_traits>

#include "mqtt/packets.hpp"

namespace mqtt {

namespace {

template <class P>
Result<Packet> lift(Result<P> r) {
  if (!r) return r.error();
  return Packet(std::move(*r));
}

template <class P>
Result<Packet> id_packet(std::span<const std::byte> body) {
  auto id = parse_packet_id_body(body);
  if (!id) return id.error();
  return Packet(P{*id});
}

template <class P>
Result<Packet> empty_packet(std::span<const std::byte> body) {
  if (!body.empty()) return malformed("body on a packet that has none (3.12 .. 3.14)");
  return Packet(P{});
}

}  // namespace

// packet_type() relies on the variant listing the packets in PacketType order.
static_assert(std::is_same_v<std::variant_alternative_t<0, Packet>, Connect>);
static_assert(std::is_same_v<std::variant_alternative_t<2, Packet>, Publish>);
static_assert(std::is_same_v<std::variant_alternative_t<13, Packet>, Disconnect>);
static_assert(std::variant_size_v<Packet> == 14);

PacketType packet_type(const Packet& packet) noexcept {
  return static_cast<PacketType>(packet.index() + 1);
}

Result<Packet> parse_packet(PacketType type, std::uint8_t flags, std::span<const std::byte> body) {
  if (!valid_fixed_header_flags(type, flags)) return malformed("invalid fixed header flags (2.2.2)");
  switch (type) {
    case PacketType::connect: return lift(parse_connect(body));
    case PacketType::connack: return lift(parse_connack(body));
    case PacketType::publish: return lift(parse_publish(flags, body));
    case PacketType::puback: return id_packet<PubAck>(body);
    case PacketType::pubrec: return id_packet<PubRec>(body);
    case PacketType::pubrel: return id_packet<PubRel>(body);
    case PacketType::pubcomp: return id_packet<PubComp>(body);
    case PacketType::subscribe: return lift(parse_subscribe(body));
    case PacketType::suback: return lift(parse_suback(body));
    case PacketType::unsubscribe: return lift(parse_unsubscribe(body));
    case PacketType::unsuback: return id_packet<UnsubAck>(body);
    case PacketType::pingreq: return empty_packet<PingReq>(body);
    case PacketType::pingresp: return empty_packet<PingResp>(body);
    case PacketType::disconnect: return empty_packet<Disconnect>(body);
  }
  return malformed("reserved packet type " +
                   std::to_string(static_cast<unsigned>(type)) + " (2.2.1)");
}

void encode_empty_packet(PacketType type, Bytes& out) { encode_fixed_header(type, 0, 0, out); }

void encode(const Packet& packet, Bytes& out) {
  std::visit([&out](const auto& p) { encode(p, out); }, packet);
}

}  // namespace mqtt
