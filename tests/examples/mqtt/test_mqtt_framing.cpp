// mqtt_broker's framing (2.2): fixed header checks, the remaining-length varint at every width,
// the size limit applied before the body arrives, and input that comes in pieces.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <variant>
#include <vector>

#include "mqtt/framing.hpp"

using namespace mqtt;

namespace test_mqtt_framing_cpp {  // this file's names, apart from the other files of a unity build

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

std::vector<std::byte> varint(std::size_t n) {
  std::vector<std::byte> out;
  encode_remaining_length(n, out);
  return out;
}

constexpr std::size_t unlimited = max_remaining_length + 5;

}  // namespace

TEST_CASE("remaining length: every varint width at its edges", "[mqtt][framing]") {
  CHECK(varint(0) == bytes({0x00}));
  CHECK(varint(127) == bytes({0x7F}));
  CHECK(varint(128) == bytes({0x80, 0x01}));
  CHECK(varint(16'383) == bytes({0xFF, 0x7F}));
  CHECK(varint(16'384) == bytes({0x80, 0x80, 0x01}));
  CHECK(varint(2'097'151) == bytes({0xFF, 0xFF, 0x7F}));
  CHECK(varint(2'097'152) == bytes({0x80, 0x80, 0x80, 0x01}));
  CHECK(varint(268'435'455) == bytes({0xFF, 0xFF, 0xFF, 0x7F}));
  CHECK(remaining_length_size(127) == 1);
  CHECK(remaining_length_size(128) == 2);
  CHECK(remaining_length_size(16'384) == 3);
  CHECK(remaining_length_size(268'435'455) == 4);
  std::vector<std::byte> out;
  CHECK_THROWS_AS(encode_remaining_length(268'435'456, out), std::length_error);
  CHECK(out.empty());
}

TEST_CASE("decode_frame reads each varint width back", "[mqtt][framing]") {
  for (std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{127}, std::size_t{128},
                        std::size_t{16'383}, std::size_t{16'384}, std::size_t{70'000}}) {
    INFO(n);
    std::vector<std::byte> packet;
    encode_fixed_header(PacketType::publish, 0, n, packet);
    const std::size_t header = packet.size();
    packet.resize(header + n, std::byte{0x5A});
    auto r = decode_frame(packet, unlimited);
    auto* f = std::get_if<Frame>(&r);
    REQUIRE(f != nullptr);
    CHECK(f->type == PacketType::publish);
    CHECK(f->flags == 0);
    CHECK(f->size == header + n);
    CHECK(f->body.size() == n);
    CHECK(f->body.data() == packet.data() + header);
  }
}

TEST_CASE("decode_frame: the largest lengths, announced only", "[mqtt][framing]") {
  // 4-byte varints: the header is complete, the body is not there: NeedMore with the size.
  auto r = decode_frame(bytes({0x30, 0x80, 0x80, 0x80, 0x01}), unlimited);
  REQUIRE(std::holds_alternative<NeedMore>(r));
  CHECK(std::get<NeedMore>(r).frame_size == 5 + 2'097'152);
  r = decode_frame(bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F}), unlimited);
  REQUIRE(std::holds_alternative<NeedMore>(r));
  CHECK(std::get<NeedMore>(r).frame_size == 5 + 268'435'455);
}

TEST_CASE("decode_frame: a fifth length byte is malformed", "[mqtt][framing]") {
  // The fourth byte's continuation bit announces a fifth: refused without waiting for it.
  auto r = decode_frame(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF}), unlimited);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).code == ErrorCode::malformed);
  CHECK(std::get<Error>(r).reason == "remaining length longer than 4 bytes (2.2.3)");
  r = decode_frame(bytes({0x30, 0x80, 0x80, 0x80, 0x80, 0x01}), unlimited);
  CHECK(std::holds_alternative<Error>(r));
}

TEST_CASE("decode_frame refuses a packet above max_packet before its body", "[mqtt][framing]") {
  // Only the fixed header has arrived: 2 + 200 bytes is above 100.
  auto r = decode_frame(bytes({0x30, 0xC8, 0x01}), 100);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).code == ErrorCode::too_large);
  CHECK(std::get<Error>(r).reason == "packet of 203 bytes exceeds the limit of 100");
  // Exactly at the limit is fine: 2 + 98 = 100.
  std::vector<std::byte> ok = bytes({0x30, 98});
  ok.resize(100);
  r = decode_frame(ok, 100);
  REQUIRE(std::holds_alternative<Frame>(r));
  CHECK(std::get<Frame>(r).size == 100);
  // One more is refused.
  r = decode_frame(bytes({0x30, 99}), 100);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).code == ErrorCode::too_large);
}

TEST_CASE("decode_frame on split input asks for more", "[mqtt][framing]") {
  const auto packet = bytes({0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '/', 'b', 0x01});
  for (std::size_t cut = 0; cut < packet.size(); ++cut) {
    INFO(cut);
    auto r = decode_frame(std::span(packet).first(cut), unlimited);
    REQUIRE(std::holds_alternative<NeedMore>(r));
    CHECK(std::get<NeedMore>(r).frame_size == (cut >= 2 ? 10u : 0u));
  }
  // A whole packet followed by the start of the next: only the first is taken.
  auto two = packet;
  two.push_back(std::byte{0xC0});
  auto r = decode_frame(two, unlimited);
  REQUIRE(std::holds_alternative<Frame>(r));
  const auto& f = std::get<Frame>(r);
  CHECK(f.type == PacketType::subscribe);
  CHECK(f.flags == 0x02);
  CHECK(f.size == 10);
  CHECK(f.body.size() == 8);
  r = decode_frame(std::span(two).subspan(f.size), unlimited);
  CHECK(std::holds_alternative<NeedMore>(r));
}

TEST_CASE("decode_frame checks the packet type and reserved flags", "[mqtt][framing]") {
  const auto reason = [](std::initializer_list<int> v) {
    auto r = decode_frame(bytes(v), unlimited);
    return std::holds_alternative<Error>(r) ? std::get<Error>(r).reason : std::string("accepted");
  };
  CHECK(reason({0x00, 0x00}) == "reserved packet type 0 (2.2.1)");
  CHECK(reason({0xF0, 0x00}) == "reserved packet type 15 (2.2.1)");
  // 2.2.2: 0b0010 for PUBREL, SUBSCRIBE, UNSUBSCRIBE; 0 for the others; PUBLISH free.
  CHECK(reason({0x62, 0x00}) == "accepted");
  CHECK(reason({0x60, 0x00}) == "invalid fixed header flags for packet type 6 (2.2.2)");
  CHECK(reason({0x80, 0x00}) == "invalid fixed header flags for packet type 8 (2.2.2)");
  CHECK(reason({0xA0, 0x00}) == "invalid fixed header flags for packet type 10 (2.2.2)");
  CHECK(reason({0xA2, 0x00}) == "accepted");
  CHECK(reason({0x12, 0x00}) == "invalid fixed header flags for packet type 1 (2.2.2)");
  CHECK(reason({0xC1, 0x00}) == "invalid fixed header flags for packet type 12 (2.2.2)");
  CHECK(reason({0xE0, 0x00}) == "accepted");
  CHECK(reason({0x3F, 0x00}) == "accepted");  // PUBLISH's flags are checked by its parser
  // The header byte alone is enough to refuse: no length needed.
  CHECK(std::holds_alternative<Error>(decode_frame(bytes({0x60}), unlimited)));
  CHECK(std::holds_alternative<NeedMore>(decode_frame(bytes({0x62}), unlimited)));
  CHECK(std::holds_alternative<NeedMore>(decode_frame({}, unlimited)));
}

}  // namespace test_mqtt_framing_cpp
