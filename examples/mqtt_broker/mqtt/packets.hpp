#pragma once
// The MQTT 3.1.1 control packets (section 3) as plain structs, with a parser and an encoder for
// each. Parsers take the fixed header's flags and the body that decode_frame() cut out; they
// check every rule of the standard that a receiver can check, never read past the body, never
// throw, and copy what they keep (a parsed packet does not point into the input buffer).
// Encoders append a whole packet (fixed header included) to a byte vector; they assume fields
// that a parser would accept and throw std::length_error only when a field cannot be expressed
// at all (a string above 65535 bytes, a packet above 268435455).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "mqtt/error.hpp"
#include "mqtt/framing.hpp"
#include "mqtt/types.hpp"

namespace mqtt {

using Bytes = std::vector<std::byte>;

// ---- CONNECT / CONNACK (3.1, 3.2) ----

struct Will {
  std::string topic;  // a valid topic name (3.1.3.3)
  Bytes message;      // binary, may be empty (3.1.3.4)
  QoS qos = QoS::at_most_once;
  bool retain = false;
  bool operator==(const Will&) const = default;
};

struct Connect {
  // A parsed CONNECT is always "MQTT" level 4; other values exist so that tests and tools can
  // encode what other clients send.
  std::string protocol_name = "MQTT";
  std::uint8_t protocol_level = 4;
  bool clean_session = true;
  std::uint16_t keep_alive = 0;  // seconds; 0 = no keep-alive (3.1.2.10)
  std::string client_id;         // may be empty only with clean_session (3.1.3-7, 3.1.3-8)
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<Bytes> password;  // binary data (3.1.3.5); only with a username (3.1.2-22)
  bool operator==(const Connect&) const = default;
};

// 3.2.2.3, Table 3.1.
enum class ConnectReturnCode : std::uint8_t {
  accepted = 0,
  unacceptable_protocol_version = 1,
  identifier_rejected = 2,
  server_unavailable = 3,
  bad_username_or_password = 4,
  not_authorized = 5,
};

struct ConnAck {
  bool session_present = false;
  ConnectReturnCode return_code = ConnectReturnCode::accepted;
  bool operator==(const ConnAck&) const = default;
};

// The CONNACK refusal a CONNECT parse error calls for (3.1.4), or nothing: close silently.
std::optional<ConnectReturnCode> connack_code_for(const Error& error) noexcept;

// ---- PUBLISH and its acknowledgements (3.3 .. 3.7) ----

struct Publish {
  bool dup = false;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  std::string topic;           // a topic name: no wildcards (3.3.2-2)
  std::uint16_t packet_id = 0;  // on the wire only when qos > 0, and then non-zero (2.3.1-1)
  Bytes payload;
  bool operator==(const Publish&) const = default;
};

// Packets whose whole body is a packet identifier.
template <PacketType Type>
struct IdPacket {
  static constexpr PacketType type = Type;
  std::uint16_t packet_id = 0;
  bool operator==(const IdPacket&) const = default;
};
using PubAck = IdPacket<PacketType::puback>;
using PubRec = IdPacket<PacketType::pubrec>;
using PubRel = IdPacket<PacketType::pubrel>;
using PubComp = IdPacket<PacketType::pubcomp>;
using UnsubAck = IdPacket<PacketType::unsuback>;

// ---- SUBSCRIBE / SUBACK / UNSUBSCRIBE (3.8 .. 3.10) ----

struct TopicSubscription {
  std::string filter;  // a valid topic filter (4.7)
  QoS qos = QoS::at_most_once;
  bool operator==(const TopicSubscription&) const = default;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<TopicSubscription> topics;  // at least one (3.8.3-3)
  bool operator==(const Subscribe&) const = default;
};

// 3.9.3: the granted QoS, or failure.
enum class SubackCode : std::uint8_t {
  granted_qos0 = 0x00,
  granted_qos1 = 0x01,
  granted_qos2 = 0x02,
  failure = 0x80,
};

struct SubAck {
  std::uint16_t packet_id = 0;
  std::vector<SubackCode> return_codes;  // one per filter of the SUBSCRIBE, in order (3.8.4-5)
  bool operator==(const SubAck&) const = default;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::string> filters;  // at least one (3.10.3-2)
  bool operator==(const Unsubscribe&) const = default;
};

// ---- Packets without a body (3.12 .. 3.14) ----

template <PacketType Type>
struct EmptyPacket {
  static constexpr PacketType type = Type;
  bool operator==(const EmptyPacket&) const = default;
};
using PingReq = EmptyPacket<PacketType::pingreq>;
using PingResp = EmptyPacket<PacketType::pingresp>;
using Disconnect = EmptyPacket<PacketType::disconnect>;

// Any packet. The alternatives are in PacketType order (index = type - 1).
using Packet = std::variant<Connect, ConnAck, Publish, PubAck, PubRec, PubRel, PubComp, Subscribe,
                            SubAck, Unsubscribe, UnsubAck, PingReq, PingResp, Disconnect>;

PacketType packet_type(const Packet& packet) noexcept;

// ---- Parsing ----

Result<Connect> parse_connect(std::span<const std::byte> body);
Result<ConnAck> parse_connack(std::span<const std::byte> body);
Result<Publish> parse_publish(std::uint8_t flags, std::span<const std::byte> body);
Result<std::uint16_t> parse_packet_id_body(std::span<const std::byte> body);  // the IdPackets
Result<Subscribe> parse_subscribe(std::span<const std::byte> body);
Result<SubAck> parse_suback(std::span<const std::byte> body);
Result<Unsubscribe> parse_unsubscribe(std::span<const std::byte> body);

// Any packet: checks the fixed header flags (2.2.2), then calls the parser for the type.
Result<Packet> parse_packet(PacketType type, std::uint8_t flags, std::span<const std::byte> body);
inline Result<Packet> parse_packet(const Frame& frame) {
  return parse_packet(frame.type, frame.flags, frame.body);
}

// ---- Encoding (appends one whole packet) ----

void encode(const Connect& packet, Bytes& out);
void encode(const ConnAck& packet, Bytes& out);
void encode(const Publish& packet, Bytes& out);
void encode(const Subscribe& packet, Bytes& out);
void encode(const SubAck& packet, Bytes& out);
void encode(const Unsubscribe& packet, Bytes& out);
void encode_packet_id_packet(PacketType type, std::uint16_t packet_id, Bytes& out);
void encode_empty_packet(PacketType type, Bytes& out);

template <PacketType Type>
void encode(const IdPacket<Type>& packet, Bytes& out) {
  encode_packet_id_packet(Type, packet.packet_id, out);
}
template <PacketType Type>
void encode(const EmptyPacket<Type>&, Bytes& out) {
  encode_empty_packet(Type, out);
}

void encode(const Packet& packet, Bytes& out);

template <class P>
Bytes encode(const P& packet) {
  Bytes out;
  encode(packet, out);
  return out;
}

}  // namespace mqtt
