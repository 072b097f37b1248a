// mqtt_broker's CONNECT parser: each rule of 3.1 that a server checks, with the refusals that
// call for a CONNACK (3.1.4) told apart from the ones that close the connection.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "mqtt/packets.hpp"

using namespace mqtt;

namespace test_mqtt_connect_cpp {  // this file's names, apart from the other files of a unity build

namespace {

// A CONNECT body built field by field, so that each test breaks exactly one rule.
struct Body {
  Bytes b;
  Body& u8(int v) {
    b.push_back(static_cast<std::byte>(v));
    return *this;
  }
  Body& u16(int v) { return u8((v >> 8) & 0xFF).u8(v & 0xFF); }
  Body& str(std::string_view s) {
    u16(static_cast<int>(s.size()));
    for (char c : s) u8(static_cast<unsigned char>(c));
    return *this;
  }
};

// "MQTT" level 4, the given flags, keep-alive 30.
Body header(int flags) { return Body{}.str("MQTT").u8(4).u8(flags).u16(30); }

std::string error_of(const Body& body) {
  auto r = parse_connect(body.b);
  return r ? std::string("accepted") : r.error().reason;
}

}  // namespace

TEST_CASE("CONNECT: a minimal packet", "[mqtt][connect]") {
  auto r = parse_connect(header(0x02).str("c1").b);
  REQUIRE(r.ok());
  CHECK(r->client_id == "c1");
  CHECK(r->keep_alive == 30);
  CHECK(r->clean_session);
  CHECK_FALSE(r->will.has_value());
  CHECK_FALSE(r->username.has_value());
  CHECK_FALSE(r->password.has_value());
}

TEST_CASE("CONNECT: every field", "[mqtt][connect]") {
  // will flag, will QoS 1, will retain, password, username, clean session off.
  auto r = parse_connect(
      header(0x04 | 0x08 | 0x20 | 0x40 | 0x80).str("c").str("w/t").str("bye").str("u").str("p").b);
  REQUIRE(r.ok());
  CHECK_FALSE(r->clean_session);
  REQUIRE(r->will.has_value());
  CHECK(r->will->topic == "w/t");
  CHECK(r->will->message.size() == 3);
  CHECK(r->will->qos == QoS::at_least_once);
  CHECK(r->will->retain);
  CHECK(r->username == "u");
  CHECK(r->password == Bytes{std::byte{'p'}});
}

TEST_CASE("CONNECT: protocol name and level", "[mqtt][connect]") {
  auto r = parse_connect(Body{}.str("MQTT").u8(3).u8(0x02).u16(0).str("c").b);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::unacceptable_protocol);
  CHECK(r.error().reason == "protocol level 3 is not supported (3.1.2-2)");
  CHECK(connack_code_for(r.error()) == ConnectReturnCode::unacceptable_protocol_version);

  r = parse_connect(Body{}.str("MQTT").u8(5).u8(0x02).u16(0).str("c").b);  // MQTT 5
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::unacceptable_protocol);

  r = parse_connect(Body{}.str("MQIsdp").u8(3).u8(0x02).u16(0).str("c").b);  // MQTT 3.1
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::unacceptable_protocol);
  CHECK(connack_code_for(r.error()) == ConnectReturnCode::unacceptable_protocol_version);

  r = parse_connect(Body{}.str("MQTX").u8(4).u8(0x02).u16(0).str("c").b);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::malformed);
  CHECK(r.error().reason == "unknown protocol name or level (3.1.2-1)");
  CHECK_FALSE(connack_code_for(r.error()).has_value());
  CHECK(error_of(Body{}.str("MQIsdp").u8(4)) == "unknown protocol name or level (3.1.2-1)");
}

TEST_CASE("CONNECT: flag rules", "[mqtt][connect]") {
  CHECK(error_of(header(0x03).str("c")) == "reserved CONNECT flag is set (3.1.2-3)");
  CHECK(error_of(header(0x02 | 0x08).str("c")) == "will QoS without the will flag (3.1.2-13)");
  CHECK(error_of(header(0x02 | 0x10).str("c")) == "will QoS without the will flag (3.1.2-13)");
  CHECK(error_of(header(0x02 | 0x20).str("c")) == "will retain without the will flag (3.1.2-15)");
  CHECK(error_of(header(0x02 | 0x04 | 0x18).str("c").str("w").str("m")) == "will QoS 3 (3.1.2-14)");
  CHECK(error_of(header(0x02 | 0x40).str("c").str("p")) ==
        "password flag without the username flag (3.1.2-22)");
  // The same packets with the rule kept are accepted.
  CHECK(error_of(header(0x02 | 0x04 | 0x10).str("c").str("w").str("m")) == "accepted");
  CHECK(error_of(header(0x02 | 0x80).str("c").str("u")) == "accepted");
}

TEST_CASE("CONNECT: payload fields", "[mqtt][connect]") {
  CHECK(error_of(header(0x02)) == "packet ends inside the client identifier");
  CHECK(error_of(header(0x02).str("c").u8(0)) == "bytes after the end of the CONNECT payload (3.1.3)");
  CHECK(error_of(header(0x06).str("c")) == "packet ends inside the will topic");
  CHECK(error_of(header(0x06).str("c").str("w")) == "packet ends inside the will message");
  CHECK(error_of(header(0x06).str("c").str("w/#").str("m")) ==
        "will topic is not a valid topic name (3.1.3.3)");
  CHECK(error_of(header(0x82).str("c")) == "packet ends inside the user name");
  CHECK(error_of(header(0xC2).str("c").str("u")) == "packet ends inside the password");
  CHECK(error_of(header(0x02).str("c").u16(0)) == "bytes after the end of the CONNECT payload (3.1.3)");
  CHECK(error_of(header(0x02).u16(1).u8(0xC0)) == "the client identifier is not valid UTF-8 (1.5.3)");
  CHECK(error_of(header(0x82).str("c").u16(1).u8(0x00)) == "the user name is not valid UTF-8 (1.5.3)");
  // The password is binary data (3.1.3.5): any bytes.
  CHECK(error_of(header(0xC2).str("c").str("u").u16(2).u8(0x00).u8(0xFF)) == "accepted");
  CHECK(error_of(Body{}.str("MQTT").u8(4).u8(0x02).u8(0)) == "packet ends inside the keep alive");
  CHECK(error_of(Body{}.u16(4).u8('M')) == "packet ends inside the protocol name");
  CHECK(error_of(Body{}) == "packet ends inside the protocol name");
}

TEST_CASE("CONNECT: client identifier rules", "[mqtt][connect]") {
  CHECK(error_of(header(0x02).str("")) == "accepted");  // 3.1.3-7: empty with clean session
  auto r = parse_connect(header(0x00).str("").b);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::identifier_rejected);
  CHECK(r.error().reason == "empty client identifier without clean session (3.1.3-8)");
  CHECK(connack_code_for(r.error()) == ConnectReturnCode::identifier_rejected);
  // A malformed packet is a protocol violation even with an empty id: no CONNACK for it.
  r = parse_connect(header(0x01).str("").b);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::malformed);
  // Longer than 23 characters and outside [0-9a-zA-Z]: accepted (3.1.3-5 allows more).
  CHECK(error_of(header(0x00).str("a-very-long-client-identifier/é")) == "accepted");
}

}  // namespace test_mqtt_connect_cpp
