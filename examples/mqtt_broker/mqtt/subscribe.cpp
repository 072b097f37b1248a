// SUBSCRIBE (3.8), SUBACK (3.9) and UNSUBSCRIBE (3.10).
#include "mqtt/byte_reader.hpp"
#include "mqtt/byte_writer.hpp"
#include "mqtt/packets.hpp"
#include "mqtt/topic.hpp"

namespace mqtt {

namespace {

constexpr std::uint8_t subscription_flags = 0x02;  // 3.8.1-1, 3.10.1-1

Result<std::uint16_t> read_packet_id(ByteReader& r) {
  auto id = r.u16("packet identifier");
  if (id && *id == 0) return malformed("packet identifier 0 (2.3.1-1)");
  return id;
}

// A filter is refused as a protocol violation rather than answered with SUBACK 0x80: 4.7.3
// leaves the choice open, and a client that sends one is broken.
Result<std::string> read_filter(ByteReader& r) {
  auto filter = r.string("topic filter");
  if (filter && !valid_topic_filter(*filter)) return malformed("invalid topic filter (4.7.1)");
  return filter;
}

Result<TopicSubscription> read_subscription(ByteReader& r) {
  auto filter = read_filter(r);
  if (!filter) return filter.error();
  auto options = r.u8("requested QoS");
  if (!options) return options.error();
  if ((*options & 0xFC) != 0) return malformed("reserved bits set in requested QoS (3.8.3-4)");
  if (*options == 3) return malformed("requested QoS 3 (3.8.3-4)");
  return TopicSubscription{std::move(*filter), static_cast<QoS>(*options)};
}

bool valid_suback_code(std::uint8_t c) { return c <= 2 || c == 0x80; }

void put_body(PacketType type, std::uint8_t flags, const Bytes& body, Bytes& out) {
  encode_fixed_header(type, flags, body.size(), out);
  out.insert(out.end(), body.begin(), body.end());
}

}  // namespace

Result<Subscribe> parse_subscribe(std::span<const std::byte> body) {
  ByteReader r(body);
  auto id = read_packet_id(r);
  if (!id) return id.error();
  Subscribe s{*id, {}};
  while (!r.empty()) {
    auto sub = read_subscription(r);
    if (!sub) return sub.error();
    s.topics.push_back(std::move(*sub));
  }
  if (s.topics.empty()) return malformed("SUBSCRIBE without a topic filter (3.8.3-3)");
  return s;
}

void encode(const Subscribe& s, Bytes& out) {
  Bytes body;
  detail::put_u16(body, s.packet_id);
  for (const auto& t : s.topics) {
    detail::put_string(body, t.filter);
    detail::put_u8(body, static_cast<std::uint8_t>(t.qos));
  }
  put_body(PacketType::subscribe, subscription_flags, body, out);
}

Result<SubAck> parse_suback(std::span<const std::byte> body) {
  ByteReader r(body);
  auto id = read_packet_id(r);
  if (!id) return id.error();
  SubAck a{*id, {}};
  for (const auto b : r.rest()) {
    const auto code = static_cast<std::uint8_t>(b);
    if (!valid_suback_code(code)) return malformed("reserved SUBACK return code (3.9.3)");
    a.return_codes.push_back(static_cast<SubackCode>(code));
  }
  if (a.return_codes.empty()) return malformed("SUBACK without a return code (3.9.3)");
  return a;
}

void encode(const SubAck& a, Bytes& out) {
  encode_fixed_header(PacketType::suback, 0, 2 + a.return_codes.size(), out);
  detail::put_u16(out, a.packet_id);
  for (const auto c : a.return_codes) detail::put_u8(out, static_cast<std::uint8_t>(c));
}

Result<Unsubscribe> parse_unsubscribe(std::span<const std::byte> body) {
  ByteReader r(body);
  auto id = read_packet_id(r);
  if (!id) return id.error();
  Unsubscribe u{*id, {}};
  while (!r.empty()) {
    auto filter = read_filter(r);
    if (!filter) return filter.error();
    u.filters.push_back(std::move(*filter));
  }
  if (u.filters.empty()) return malformed("UNSUBSCRIBE without a topic filter (3.10.3-2)");
  return u;
}

void encode(const Unsubscribe& u, Bytes& out) {
  Bytes body;
  detail::put_u16(body, u.packet_id);
  for (const auto& f : u.filters) detail::put_string(body, f);
  put_body(PacketType::unsubscribe, subscription_flags, body, out);
}

}  // namespace mqtt
