// PUBLISH (3.3) and the packets whose body is only a packet identifier: PUBACK, PUBREC, PUBREL,
// PUBCOMP (3.4 .. 3.7) and UNSUBACK (3.11).
#include "mqtt/byte_reader.hpp"
#include "mqtt/byte_writer.hpp"
#include "mqtt/packets.hpp"
#include "mqtt/topic.hpp"

namespace mqtt {

namespace {

// 3.3.1, Figure 3.10: the fixed header's flags.
constexpr std::uint8_t flag_dup = 0x08;
constexpr std::uint8_t flag_retain = 0x01;
constexpr std::uint8_t qos_shift = 1;

std::uint8_t publish_flags(const Publish& p) {
  auto f = static_cast<std::uint8_t>(static_cast<std::uint8_t>(p.qos) << qos_shift);
  if (p.dup) f |= flag_dup;
  if (p.retain) f |= flag_retain;
  return f;
}

}  // namespace

Result<Publish> parse_publish(std::uint8_t flags, std::span<const std::byte> body) {
  Publish p;
  const auto qos = (flags >> qos_shift) & 0x03;
  if (qos == 3) return malformed("PUBLISH with QoS 3 (3.3.1-4)");
  p.qos = static_cast<QoS>(qos);
  p.dup = (flags & flag_dup) != 0;
  p.retain = (flags & flag_retain) != 0;
  if (p.dup && p.qos == QoS::at_most_once) return malformed("DUP set on a QoS 0 PUBLISH (3.3.1-2)");

  ByteReader r(body);
  auto topic = r.string("topic name");
  if (!topic) return topic.error();
  if (!valid_topic_name(*topic)) {
    return malformed("PUBLISH topic is empty or has a wildcard (3.3.2-2, 4.7.3-1)");
  }
  p.topic = std::move(*topic);
  if (p.qos != QoS::at_most_once) {
    auto id = r.u16("packet identifier");
    if (!id) return id.error();
    if (*id == 0) return malformed("packet identifier 0 (2.3.1-1)");
    p.packet_id = *id;
  }
  const auto payload = r.rest();  // the rest of the body, possibly empty (3.3.3)
  p.payload.assign(payload.begin(), payload.end());
  return p;
}

void encode(const Publish& p, Bytes& out) {
  // Sized up front rather than built in a scratch vector: the payload may be large and the
  // broker encodes one PUBLISH per subscriber.
  const bool has_id = p.qos != QoS::at_most_once;
  const std::size_t body_size = detail::string_size(p.topic) + (has_id ? 2 : 0) + p.payload.size();
  encode_fixed_header(PacketType::publish, publish_flags(p), body_size, out);
  detail::put_string(out, p.topic);
  if (has_id) detail::put_u16(out, p.packet_id);
  out.insert(out.end(), p.payload.begin(), p.payload.end());
}

Result<std::uint16_t> parse_packet_id_body(std::span<const std::byte> body) {
  if (body.size() != 2) return malformed("body is not exactly a packet identifier (3.4 .. 3.7, 3.11)");
  ByteReader r(body);
  auto id = r.u16("packet identifier");
  if (id && *id == 0) return malformed("packet identifier 0 (2.3.1-1)");
  return id;
}

void encode_packet_id_packet(PacketType type, std::uint16_t packet_id, Bytes& out) {
  const std::uint8_t flags = type == PacketType::pubrel ? 0x02 : 0x00;  // 3.6.1
  encode_fixed_header(type, flags, 2, out);
  detail::put_u16(out, packet_id);
}

}  // namespace mqtt
