// Envelope: the default Packet's byte layout (docs/wire-format.md), decoding limits and storage
// reuse, and typed payloads.

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/codec/length_delimited.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/packet/envelope.hpp"
#include "wireframe/packet/packet.hpp"

#include "support/bytes.hpp"

namespace test_envelope_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::ByteBuffer;
using wireframe::DecodeStatus;
using wireframe::Envelope;
using wireframe::errc;
using wireframe::LengthDelimitedCodec;

static_assert(wireframe::Packet<Envelope>);

namespace {

using wireframe::test::Bytes;
using wireframe::test::hex;

Bytes encoded(const Envelope& e) {
  Bytes out(e.encoded_size());
  e.encode_to(out);
  return out;
}

Bytes filler(std::size_t n, unsigned char value) { return Bytes(n, std::byte{value}); }

}  // namespace

TEST_CASE("envelope layout: id BE at 0..3, correlation BE at 4..11, payload from 12") {
  const Envelope e(0x01020304u, 0x1122334455667788u, std::string_view("hi"));
  CHECK(Envelope::header_size == 12);
  REQUIRE(e.encoded_size() == 14);
  const Bytes b = encoded(e);
  CHECK(hex(std::span(b).subspan(0, 4)) == "01 02 03 04");
  CHECK(hex(std::span(b).subspan(4, 8)) == "11 22 33 44 55 66 77 88");
  CHECK(hex(std::span(b).subspan(12)) == "68 69");
}

TEST_CASE("envelope encode_to writes exactly encoded_size() bytes") {
  const Envelope e(7, 9, std::string_view("abc"));
  Bytes out(e.encoded_size() + 4, std::byte{0xEE});  // guard bytes after the envelope
  e.encode_to(std::span(out).first(e.encoded_size()));
  CHECK(hex(std::span(out).last(4)) == "ee ee ee ee");
}

TEST_CASE("an empty payload encodes as the 12-byte header alone") {
  const Envelope e(0xFFFFFFFFu, 0, Bytes{});
  CHECK(hex(encoded(e)) == "ff ff ff ff 00 00 00 00 00 00 00 00");
}

TEST_CASE("envelope round trip") {
  const std::size_t len = GENERATE(0u, 1u, 11u, 12u, 1000u);
  CAPTURE(len);
  Bytes payload(len);
  for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<std::byte>(i & 0xFFu);
  const Envelope original(0xCAFEBABEu, 0xFFFF'FFFF'FFFF'FFFEu, payload);

  Envelope decoded;
  REQUIRE_FALSE(decoded.decode_from(encoded(original)));
  CHECK(decoded.id() == 0xCAFEBABEu);
  CHECK(decoded.correlation_id() == 0xFFFF'FFFF'FFFF'FFFEu);
  CHECK(hex(decoded.payload()) == hex(payload));
  CHECK(decoded == original);
}

TEST_CASE("decoding fewer than 12 bytes is malformed_frame") {
  const std::size_t len = GENERATE(range(0u, 12u));
  CAPTURE(len);
  Envelope e;
  CHECK(e.decode_from(filler(len, 0x01)) == errc::malformed_frame);
}

TEST_CASE("exactly 12 bytes decode as an envelope with an empty payload") {
  Envelope e(5, 6, std::string_view("old payload"));
  REQUIRE_FALSE(e.decode_from(filler(12, 0x01)));
  CHECK(e.id() == 0x01010101u);
  CHECK(e.correlation_id() == 0x0101010101010101u);
  CHECK(e.payload().empty());
}

TEST_CASE("decode_from reuses the payload's storage") {
  Envelope e;
  REQUIRE_FALSE(e.decode_from(encoded(Envelope(1, 1, filler(4096, 0xAA)))));
  const std::size_t capacity = e.payload_mut().capacity();
  const std::byte* data = e.payload().data();
  REQUIRE(capacity >= 4096);

  REQUIRE_FALSE(e.decode_from(encoded(Envelope(2, 3, std::string_view("small")))));
  CHECK(e.payload_text() == "small");
  CHECK(e.payload_mut().capacity() >= capacity);
  CHECK(e.payload().data() == data);  // same block: no allocation for the smaller payload

  REQUIRE_FALSE(e.decode_from(encoded(Envelope(4, 5, filler(4000, 0xBB)))));
  CHECK(e.payload().data() == data);
  CHECK(e.payload().size() == 4000);
}

TEST_CASE("envelope accessors and constructors") {
  Envelope e(1, 2, std::string_view("text"));
  CHECK(e.payload_text() == "text");
  e.set_id(10);
  e.set_correlation_id(20);
  CHECK(e.id() == 10);
  CHECK(e.correlation_id() == 20);

  const Bytes raw = {std::byte{1}, std::byte{2}};
  const Envelope from_span(3, 4, std::span<const std::byte>(raw));
  const Envelope from_vector(3, 4, raw);
  CHECK(from_span == from_vector);
  CHECK_FALSE(from_span == Envelope(3, 5, raw));
  CHECK_FALSE(from_span == Envelope(4, 4, raw));

  const Envelope defaulted;
  CHECK(defaulted.id() == 0);
  CHECK(defaulted.correlation_id() == 0);
  CHECK(defaulted.payload().empty());
}

TEST_CASE("Envelope::of and decode_as with std::string") {
  const auto e = Envelope::of(42, std::string("hello"), 99);
  CHECK(e.id() == 42);
  CHECK(e.correlation_id() == 99);
  CHECK(e.payload_text() == "hello");
  std::string out;
  REQUIRE_FALSE(e.decode_as(out));
  CHECK(out == "hello");

  CHECK(Envelope::of(1, std::string("x")).correlation_id() == 0);  // default: no correlation
}

TEST_CASE("Envelope::of and decode_as with integral types") {
  const auto e = Envelope::of(7, std::uint32_t{0xDEADBEEF});
  CHECK(hex(e.payload()) == "de ad be ef");
  std::uint32_t u = 0;
  REQUIRE_FALSE(e.decode_as(u));
  CHECK(u == 0xDEADBEEFu);

  const auto neg = Envelope::of(7, std::int16_t{-2});
  CHECK(hex(neg.payload()) == "ff fe");
  std::int16_t s = 0;
  REQUIRE_FALSE(neg.decode_as(s));
  CHECK(s == -2);

  std::uint16_t wrong_size = 0;
  CHECK(e.decode_as(wrong_size) == errc::malformed_message);
}

TEST_CASE("an envelope travels through LengthDelimitedCodec, matching the documented hex dump") {
  // The worked example of docs/wire-format.md: echo request, id 1, correlation 7, payload "hi".
  const LengthDelimitedCodec codec;
  const Envelope request(1, 7, std::string_view("hi"));
  ByteBuffer wire;
  REQUIRE_FALSE(codec.encode(request.encoded_size(), wire,
                             [&](std::span<std::byte> dst) { request.encode_to(dst); }));
  CHECK(hex(wire.readable()) == "00 00 00 0e 00 00 00 01 00 00 00 00 00 00 00 07 68 69");

  const auto r = codec.decode(wire.readable());
  REQUIRE(r.status == DecodeStatus::frame);
  Envelope decoded;
  REQUIRE_FALSE(decoded.decode_from(r.frame));
  CHECK(decoded == request);
}

}  // namespace test_envelope_cpp
