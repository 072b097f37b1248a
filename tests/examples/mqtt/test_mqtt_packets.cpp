// mqtt_broker's packets: every packet type round-trips through encode and parse, the exact
// wire bytes of a few, and the parse errors of PUBLISH, the acks and the subscription packets.
#include <catch2/catch.hpp>

#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "mqtt/framing.hpp"
#include "mqtt/packets.hpp"

using namespace mqtt;

namespace test_mqtt_packets_cpp {  // this file's names, apart from the other files of a unity build

namespace {

Bytes bytes(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

Bytes text(std::string_view s) {
  const auto b = std::as_bytes(std::span(s.data(), s.size()));
  return Bytes(b.begin(), b.end());
}

// Frames the encoded packet and parses it back.
Result<Packet> reparse(const Bytes& wire) {
  auto r = decode_frame(wire, max_remaining_length + 5);
  REQUIRE(std::holds_alternative<Frame>(r));
  const auto& f = std::get<Frame>(r);
  REQUIRE(f.size == wire.size());
  return parse_packet(f);
}

template <class P>
void check_round_trip(const P& packet) {
  const Bytes wire = encode(packet);
  auto parsed = reparse(wire);
  INFO((parsed ? std::string("ok") : parsed.error().reason));
  REQUIRE(parsed.ok());
  REQUIRE(std::holds_alternative<P>(*parsed));
  CHECK(std::get<P>(*parsed) == packet);
  CHECK(packet_type(*parsed) == static_cast<PacketType>(static_cast<std::uint8_t>(wire[0]) >> 4));
  CHECK(encode(*parsed) == wire);  // through the variant too
}

// The parse error for a packet given as its fixed header byte and body.
std::string error_of(int header, const Bytes& body) {
  const auto first = static_cast<std::uint8_t>(header);
  auto r = parse_packet(static_cast<PacketType>(first >> 4), first & 0x0F, body);
  return r ? std::string("accepted") : r.error().reason;
}

}  // namespace

TEST_CASE("every packet round-trips", "[mqtt][packets]") {
  Connect c;
  c.client_id = "client-1";
  c.keep_alive = 60;
  check_round_trip(c);
  c.clean_session = false;
  c.will = Will{"last/will", text("gone"), QoS::exactly_once, true};
  c.username = "user";
  c.password = bytes({0x00, 0xFF, 0x10});
  check_round_trip(c);
  c.will = Will{"w", {}, QoS::at_most_once, false};  // empty will message is allowed
  c.password.reset();
  check_round_trip(c);

  check_round_trip(ConnAck{false, ConnectReturnCode::accepted});
  check_round_trip(ConnAck{true, ConnectReturnCode::accepted});
  check_round_trip(ConnAck{false, ConnectReturnCode::not_authorized});

  check_round_trip(Publish{false, QoS::at_most_once, false, "a/b", 0, text("hello")});
  check_round_trip(Publish{true, QoS::at_least_once, true, "a/b", 7, {}});
  check_round_trip(Publish{false, QoS::exactly_once, false, "$SYS/x", 65535, Bytes(300, std::byte{1})});

  check_round_trip(PubAck{1});
  check_round_trip(PubRec{2});
  check_round_trip(PubRel{3});
  check_round_trip(PubComp{65535});
  check_round_trip(UnsubAck{9});

  check_round_trip(Subscribe{10, {{"a/+", QoS::at_most_once}, {"#", QoS::exactly_once}}});
  check_round_trip(SubAck{10, {SubackCode::granted_qos0, SubackCode::failure, SubackCode::granted_qos2}});
  check_round_trip(Unsubscribe{11, {"a/+", "b/#", "c"}});

  check_round_trip(PingReq{});
  check_round_trip(PingResp{});
  check_round_trip(Disconnect{});
}

TEST_CASE("encoded packets have the standard's bytes", "[mqtt][packets]") {
  CHECK(encode(ConnAck{true, ConnectReturnCode::accepted}) == bytes({0x20, 0x02, 0x01, 0x00}));
  CHECK(encode(PubAck{0x1234}) == bytes({0x40, 0x02, 0x12, 0x34}));
  CHECK(encode(PubRel{5}) == bytes({0x62, 0x02, 0x00, 0x05}));  // 3.6.1: flags 0b0010
  CHECK(encode(PingReq{}) == bytes({0xC0, 0x00}));
  CHECK(encode(PingResp{}) == bytes({0xD0, 0x00}));
  CHECK(encode(Disconnect{}) == bytes({0xE0, 0x00}));
  CHECK(encode(Publish{true, QoS::at_least_once, true, "a/b", 10, text("hi")}) ==
        bytes({0x3B, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'}));
  CHECK(encode(Subscribe{1, {{"a", QoS::at_least_once}}}) ==
        bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x01}));
  CHECK(encode(SubAck{1, {SubackCode::failure}}) == bytes({0x90, 0x03, 0x00, 0x01, 0x80}));
  CHECK(encode(Unsubscribe{2, {"a"}}) == bytes({0xA2, 0x05, 0x00, 0x02, 0x00, 0x01, 'a'}));
  // 3.1.2: the CONNECT variable header.
  Connect c;
  c.client_id = "id";
  c.keep_alive = 10;
  CHECK(encode(c) == bytes({0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x0A,
                            0x00, 0x02, 'i', 'd'}));
  // Appending keeps what was there.
  Bytes out = bytes({0xAA});
  encode(PingReq{}, out);
  CHECK(out == bytes({0xAA, 0xC0, 0x00}));
}

TEST_CASE("a large PUBLISH takes a multi-byte length", "[mqtt][packets]") {
  Publish p{false, QoS::at_least_once, false, "t", 1, Bytes(20'000, std::byte{7})};
  const Bytes wire = encode(p);
  CHECK(wire.size() == 1 + 3 + 3 + 2 + 20'000);
  check_round_trip(p);
}

TEST_CASE("encoders refuse what the wire cannot express", "[mqtt][packets]") {
  Publish p;
  p.topic = std::string(65'536, 'a');
  Bytes out;
  CHECK_THROWS_AS(encode(p, out), std::length_error);
}

TEST_CASE("PUBLISH parse errors", "[mqtt][packets]") {
  const Bytes topic_ab = bytes({0x00, 0x03, 'a', '/', 'b'});
  CHECK(error_of(0x30, topic_ab) == "accepted");
  CHECK(error_of(0x36, bytes({0x00, 0x01, 'a', 0x00, 0x01})) == "PUBLISH with QoS 3 (3.3.1-4)");
  CHECK(error_of(0x38, topic_ab) == "DUP set on a QoS 0 PUBLISH (3.3.1-2)");
  CHECK(error_of(0x30, bytes({0x00, 0x03, 'a', '/', '+'})) ==
        "PUBLISH topic is empty or has a wildcard (3.3.2-2, 4.7.3-1)");
  CHECK(error_of(0x30, bytes({0x00, 0x01, '#'})) ==
        "PUBLISH topic is empty or has a wildcard (3.3.2-2, 4.7.3-1)");
  CHECK(error_of(0x30, bytes({0x00, 0x00})) ==
        "PUBLISH topic is empty or has a wildcard (3.3.2-2, 4.7.3-1)");
  CHECK(error_of(0x32, bytes({0x00, 0x01, 'a', 0x00, 0x00})) == "packet identifier 0 (2.3.1-1)");
  CHECK(error_of(0x32, bytes({0x00, 0x01, 'a', 0x00})) == "packet ends inside the packet identifier");
  CHECK(error_of(0x30, bytes({0x00, 0x05, 'a'})) == "packet ends inside the topic name");
  CHECK(error_of(0x30, bytes({0x00})) == "packet ends inside the topic name");
  CHECK(error_of(0x30, {}) == "packet ends inside the topic name");
  CHECK(error_of(0x30, bytes({0x00, 0x01, 0xFF})) == "the topic name is not valid UTF-8 (1.5.3)");
  // QoS 0: what follows the topic is payload, not a packet id.
  auto r = parse_publish(0x00, bytes({0x00, 0x01, 'a', 0x00, 0x00}));
  REQUIRE(r.ok());
  CHECK(r->packet_id == 0);
  CHECK(r->payload == bytes({0x00, 0x00}));
}

TEST_CASE("acks and empty packets: exact body sizes", "[mqtt][packets]") {
  const std::string id_size = "body is not exactly a packet identifier (3.4 .. 3.7, 3.11)";
  CHECK(error_of(0x40, bytes({0x00})) == id_size);
  CHECK(error_of(0x40, bytes({0x00, 0x01, 0x00})) == id_size);
  CHECK(error_of(0x50, {}) == id_size);
  CHECK(error_of(0x70, bytes({0x00, 0x00})) == "packet identifier 0 (2.3.1-1)");
  CHECK(error_of(0xB0, bytes({0x00, 0x01})) == "accepted");
  CHECK(error_of(0x60, bytes({0x00, 0x01})) == "invalid fixed header flags (2.2.2)");
  CHECK(error_of(0xC0, bytes({0x00})) == "body on a packet that has none (3.12 .. 3.14)");
  CHECK(error_of(0xE0, bytes({0x00})) == "body on a packet that has none (3.12 .. 3.14)");
  CHECK(error_of(0x20, bytes({0x00})) == "CONNACK body is not 2 bytes (3.2.1)");
  CHECK(error_of(0x20, bytes({0x02, 0x00})) == "reserved CONNACK flags are set (3.2.2.1)");
  CHECK(error_of(0x20, bytes({0x00, 0x06})) == "reserved CONNACK return code (3.2.2.3)");
  CHECK(error_of(0x20, bytes({0x01, 0x05})) == "session present with a refusal (3.2.2-4)");
  CHECK(error_of(0x00, {}) == "reserved packet type 0 (2.2.1)");
}

TEST_CASE("SUBSCRIBE, SUBACK, UNSUBSCRIBE parse errors", "[mqtt][packets]") {
  CHECK(error_of(0x82, bytes({0x00, 0x01})) == "SUBSCRIBE without a topic filter (3.8.3-3)");
  CHECK(error_of(0x82, bytes({0x00, 0x00, 0x00, 0x01, 'a', 0x00})) == "packet identifier 0 (2.3.1-1)");
  CHECK(error_of(0x82, bytes({0x00, 0x01, 0x00, 0x01, 'a', 0x03})) == "requested QoS 3 (3.8.3-4)");
  CHECK(error_of(0x82, bytes({0x00, 0x01, 0x00, 0x01, 'a', 0x04})) ==
        "reserved bits set in requested QoS (3.8.3-4)");
  CHECK(error_of(0x82, bytes({0x00, 0x01, 0x00, 0x01, 'a'})) == "packet ends inside the requested QoS");
  CHECK(error_of(0x82, bytes({0x00, 0x01, 0x00, 0x02, 'a', '#', 0x00})) == "invalid topic filter (4.7.1)");
  CHECK(error_of(0x82, bytes({0x00, 0x01, 0x00, 0x00, 0x00})) == "invalid topic filter (4.7.1)");
  CHECK(error_of(0x80, bytes({0x00, 0x01, 0x00, 0x01, 'a', 0x00})) == "invalid fixed header flags (2.2.2)");
  CHECK(error_of(0x90, bytes({0x00, 0x01, 0x03})) == "reserved SUBACK return code (3.9.3)");
  CHECK(error_of(0x90, bytes({0x00, 0x01})) == "SUBACK without a return code (3.9.3)");
  CHECK(error_of(0xA2, bytes({0x00, 0x01})) == "UNSUBSCRIBE without a topic filter (3.10.3-2)");
  CHECK(error_of(0xA2, bytes({0x00, 0x01, 0x00, 0x03, 'a', '+', 'b'})) == "invalid topic filter (4.7.1)");
  CHECK(error_of(0xA2, bytes({0x00, 0x01, 0x00, 0x01, 'a', 0x00})) == "packet ends inside the topic filter");
  auto s = parse_subscribe(bytes({0x00, 0x05, 0x00, 0x03, 'a', '/', '+', 0x01, 0x00, 0x01, '#', 0x02}));
  REQUIRE(s.ok());
  CHECK(s->packet_id == 5);
  CHECK(s->topics == std::vector<TopicSubscription>{{"a/+", QoS::at_least_once}, {"#", QoS::exactly_once}});
}

}  // namespace test_mqtt_packets_cpp
