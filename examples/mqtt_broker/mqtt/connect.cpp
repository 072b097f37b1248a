// CONNECT (3.1) and CONNACK (3.2).
#include <string>

#include "mqtt/byte_reader.hpp"
#include "mqtt/byte_writer.hpp"
#include "mqtt/packets.hpp"
#include "mqtt/topic.hpp"

namespace mqtt {

namespace {

// 3.1.2.3, Figure 3.4.
constexpr std::uint8_t flag_reserved = 0x01;
constexpr std::uint8_t flag_clean_session = 0x02;
constexpr std::uint8_t flag_will = 0x04;
constexpr std::uint8_t will_qos_shift = 3;
constexpr std::uint8_t flag_will_retain = 0x20;
constexpr std::uint8_t flag_password = 0x40;
constexpr std::uint8_t flag_username = 0x80;

Bytes to_bytes(std::span<const std::byte> s) { return Bytes(s.begin(), s.end()); }

// The protocol name and level (3.1.2.1, 3.1.2.2). Only "MQTT" level 4 is accepted; other
// levels, and MQTT 3.1's "MQIsdp" level 3, call for CONNACK 0x01 (3.1.2-2).
std::optional<Error> check_protocol(ByteReader& r) {
  auto name = r.string("protocol name");
  if (!name) return name.error();
  auto level = r.u8("protocol level");
  if (!level) return level.error();
  const bool mqtt311 = *name == "MQTT";
  const bool mqtt31 = *name == "MQIsdp" && *level == 3;
  if (!mqtt311 && !mqtt31) return malformed("unknown protocol name or level (3.1.2-1)");
  if (mqtt31 || *level != 4) {
    return Error{ErrorCode::unacceptable_protocol,
                 "protocol level " + std::to_string(*level) + " is not supported (3.1.2-2)"};
  }
  return std::nullopt;
}

// The flag rules a receiver can check (3.1.2.3 .. 3.1.2.9).
std::optional<Error> check_flags(std::uint8_t f) {
  if ((f & flag_reserved) != 0) return malformed("reserved CONNECT flag is set (3.1.2-3)");
  const auto will_qos = (f >> will_qos_shift) & 0x03;
  if ((f & flag_will) == 0 && will_qos != 0) {
    return malformed("will QoS without the will flag (3.1.2-13)");
  }
  if ((f & flag_will) == 0 && (f & flag_will_retain) != 0) {
    return malformed("will retain without the will flag (3.1.2-15)");
  }
  if (will_qos == 3) return malformed("will QoS 3 (3.1.2-14)");
  if ((f & flag_password) != 0 && (f & flag_username) == 0) {
    return malformed("password flag without the username flag (3.1.2-22)");
  }
  return std::nullopt;
}

Result<Will> read_will(ByteReader& r, std::uint8_t f) {
  Will will;
  auto topic = r.string("will topic");
  if (!topic) return topic.error();
  if (!valid_topic_name(*topic)) return malformed("will topic is not a valid topic name (3.1.3.3)");
  auto message = r.binary("will message");
  if (!message) return message.error();
  will.topic = std::move(*topic);
  will.message = to_bytes(*message);
  will.qos = static_cast<QoS>((f >> will_qos_shift) & 0x03);
  will.retain = (f & flag_will_retain) != 0;
  return will;
}

// The payload after the client id, in the order of 3.1.3: will, username, password.
std::optional<Error> read_optional_fields(ByteReader& r, std::uint8_t f, Connect& c) {
  if ((f & flag_will) != 0) {
    auto will = read_will(r, f);
    if (!will) return will.error();
    c.will = std::move(*will);
  }
  if ((f & flag_username) != 0) {
    auto username = r.string("user name");  // 3.1.3-11
    if (!username) return username.error();
    c.username = std::move(*username);
  }
  if ((f & flag_password) != 0) {
    auto password = r.binary("password");
    if (!password) return password.error();
    c.password = to_bytes(*password);
  }
  return std::nullopt;
}

std::uint8_t connect_flags(const Connect& c) {
  std::uint8_t f = 0;
  if (c.clean_session) f |= flag_clean_session;
  if (c.will) {
    f |= flag_will;
    f |= static_cast<std::uint8_t>(static_cast<std::uint8_t>(c.will->qos) << will_qos_shift);
    if (c.will->retain) f |= flag_will_retain;
  }
  if (c.username) f |= flag_username;
  if (c.password) f |= flag_password;
  return f;
}

}  // namespace

Result<Connect> parse_connect(std::span<const std::byte> body) {
  ByteReader r(body);
  if (auto e = check_protocol(r)) return *e;
  auto flags = r.u8("connect flags");
  if (!flags) return flags.error();
  if (auto e = check_flags(*flags)) return *e;
  auto keep_alive = r.u16("keep alive");
  if (!keep_alive) return keep_alive.error();
  auto client_id = r.string("client identifier");  // 3.1.3-4
  if (!client_id) return client_id.error();

  Connect c;
  c.clean_session = (*flags & flag_clean_session) != 0;
  c.keep_alive = *keep_alive;
  c.client_id = std::move(*client_id);
  if (auto e = read_optional_fields(r, *flags, c)) return *e;
  if (!r.empty()) return malformed("bytes after the end of the CONNECT payload (3.1.3)");
  // Checked last: only a well-formed CONNECT earns a CONNACK.
  if (c.client_id.empty() && !c.clean_session) {
    return Error{ErrorCode::identifier_rejected,
                 "empty client identifier without clean session (3.1.3-8)"};
  }
  return c;
}

void encode(const Connect& c, Bytes& out) {
  Bytes body;
  detail::put_string(body, c.protocol_name);
  detail::put_u8(body, c.protocol_level);
  detail::put_u8(body, connect_flags(c));
  detail::put_u16(body, c.keep_alive);
  detail::put_string(body, c.client_id);
  if (c.will) {
    detail::put_string(body, c.will->topic);
    detail::put_binary(body, c.will->message);
  }
  if (c.username) detail::put_string(body, *c.username);
  if (c.password) detail::put_binary(body, *c.password);
  encode_fixed_header(PacketType::connect, 0, body.size(), out);
  out.insert(out.end(), body.begin(), body.end());
}

Result<ConnAck> parse_connack(std::span<const std::byte> body) {
  if (body.size() != 2) return malformed("CONNACK body is not 2 bytes (3.2.1)");
  const auto ack_flags = static_cast<std::uint8_t>(body[0]);
  const auto code = static_cast<std::uint8_t>(body[1]);
  if ((ack_flags & 0xFE) != 0) return malformed("reserved CONNACK flags are set (3.2.2.1)");
  if (code > 5) return malformed("reserved CONNACK return code (3.2.2.3)");
  const bool session_present = (ack_flags & 0x01) != 0;
  if (session_present && code != 0) {
    return malformed("session present with a refusal (3.2.2-4)");
  }
  return ConnAck{session_present, static_cast<ConnectReturnCode>(code)};
}

void encode(const ConnAck& a, Bytes& out) {
  encode_fixed_header(PacketType::connack, 0, 2, out);
  detail::put_u8(out, a.session_present ? 1 : 0);
  detail::put_u8(out, static_cast<std::uint8_t>(a.return_code));
}

std::optional<ConnectReturnCode> connack_code_for(const Error& error) noexcept {
  switch (error.code) {
    case ErrorCode::unacceptable_protocol:
      return ConnectReturnCode::unacceptable_protocol_version;
    case ErrorCode::identifier_rejected:
      return ConnectReturnCode::identifier_rejected;
    default:
      return std::nullopt;
  }
}

}  // namespace mqtt
