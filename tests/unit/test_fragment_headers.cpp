// Fragment headers byte by byte (docs/fragmentation.md), the Fragmenter's output, and the
// fragment error category.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/codec/length_delimited.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/fragment/fragment_error.hpp"
#include "wireframe/fragment/fragmenter.hpp"
#include "wireframe/fragment/len_flag_32k.hpp"
#include "wireframe/fragment/multiplexed.hpp"
#include "wireframe/packet/envelope.hpp"

namespace test_fragment_headers_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::Envelope;
using wireframe::FragmentHeaderStatus;
using wireframe::FragmentMeta;
using wireframe::Fragmenter;
using wireframe::fragment_errc;
using wireframe::LenFlag32K;
using wireframe::Multiplexed;

static_assert(wireframe::FragmentStrategy<LenFlag32K, Envelope>);
static_assert(wireframe::FragmentStrategy<Multiplexed, Envelope>);
static_assert(wireframe::FragmentStrategy<Multiplexed, int>);  // any logical frame type

namespace {

using Bytes = std::vector<std::byte>;

// "de ad be ef": how the tests compare wire layouts with the docs.
std::string hex(std::span<const std::byte> bytes) {
  std::string out;
  for (std::byte b : bytes) {
    char cell[4];
    std::snprintf(cell, sizeof cell, "%02x", std::to_integer<unsigned>(b));
    if (!out.empty()) out += ' ';
    out += cell;
  }
  return out;
}

Bytes bytes_of(std::string_view s) {
  const auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}

Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

template <class S>
Bytes header(const S& s, const FragmentMeta& m) {
  const Envelope frame;
  Bytes out(s.header_size(m, frame));
  const std::size_t n = s.encode_header(m, frame, out);
  REQUIRE(n == out.size());
  return out;
}

FragmentMeta meta(std::size_t len, bool fin, std::optional<std::uint64_t> id = {},
                  std::optional<std::uint32_t> seq = {}, std::optional<std::uint64_t> total = {}) {
  FragmentMeta m;
  m.payload_length = len;
  m.is_final = fin;
  m.message_id = id;
  m.sequence = seq;
  m.total_length = total;
  return m;
}

// Every fragment a Fragmenter produces, as separate frame bodies.
template <class S>
std::vector<Bytes> split(const S& s, std::span<const std::byte> message, std::uint64_t id) {
  const Envelope frame;
  Fragmenter<S, Envelope> f(s);
  f.reset(frame, message, id);
  std::vector<Bytes> out;
  while (!f.done()) {
    Bytes body(f.next_fragment_size());
    REQUIRE(f.write_next(body) == body.size());
    out.push_back(std::move(body));
  }
  return out;
}

}  // namespace

TEST_CASE("LenFlag32K header layout: final bit then 15-bit big-endian length") {
  const LenFlag32K s;
  CHECK(hex(header(s, meta(5, true))) == "80 05");
  CHECK(hex(header(s, meta(5, false))) == "00 05");
  CHECK(hex(header(s, meta(0, true))) == "80 00");
  CHECK(hex(header(s, meta(0x7fff, false))) == "7f ff");
  CHECK(hex(header(s, meta(0x7fff, true))) == "ff ff");
  CHECK(hex(header(s, meta(0x1234, true, 99, 7, 5000))) == "92 34");  // id/seq/total not carried
  CHECK(s.max_header_size() == 2);
  CHECK(s.max_fragment_payload() == 32767);
}

TEST_CASE("LenFlag32K decodes what it encodes") {
  const LenFlag32K s;
  for (const std::size_t len : {0u, 1u, 5u, 300u, 32767u}) {
    for (const bool fin : {false, true}) {
      const Bytes frame = concat(header(s, meta(len, fin)), Bytes(len, std::byte{0xab}));
      const auto d = s.decode_header(frame);
      REQUIRE(d.status == FragmentHeaderStatus::ok);
      CHECK(d.header_length == 2);
      CHECK(d.meta == meta(len, fin));
    }
  }
}

TEST_CASE("LenFlag32K rejects short frames and lengths that do not match the frame") {
  const LenFlag32K s;
  CHECK(s.decode_header(Bytes{}).status == FragmentHeaderStatus::need_more);
  CHECK(s.decode_header(Bytes{std::byte{0x80}}).status == FragmentHeaderStatus::need_more);
  // announces 3 payload bytes, carries 1
  auto d = s.decode_header(Bytes{std::byte{0x00}, std::byte{0x03}, std::byte{0xaa}});
  CHECK(d.status == FragmentHeaderStatus::error);
  CHECK(d.error == fragment_errc::bad_header);
  // announces 0, carries 1 (trailing garbage)
  d = s.decode_header(Bytes{std::byte{0x80}, std::byte{0x00}, std::byte{0xaa}});
  CHECK(d.status == FragmentHeaderStatus::error);
  CHECK(d.error == fragment_errc::bad_header);
}

TEST_CASE("LenFlag32K payload cap is configurable within 1..32767") {
  CHECK(LenFlag32K(1000).max_fragment_payload() == 1000);
  CHECK(LenFlag32K(1000).max_fragment_payload(Envelope{}) == 1000);
  CHECK(LenFlag32K(32767).max_fragment_payload() == 32767);
  CHECK_THROWS_AS(LenFlag32K(0), std::invalid_argument);
  CHECK_THROWS_AS(LenFlag32K(32768), std::invalid_argument);
}

TEST_CASE("Multiplexed header layout, byte by byte") {
  const Multiplexed s;
  // first fragment of a split message: total length present
  CHECK(hex(header(s, meta(3, false, 0x01020304, 0, 70000))) ==
        "02 01 02 03 04 00 00 00 00 00 00 00 03 00 00 00 00 00 01 11 70");
  // a middle fragment
  CHECK(hex(header(s, meta(2, false, 7, 5))) == "00 00 00 00 07 00 00 00 05 00 00 00 02");
  // last fragment
  CHECK(hex(header(s, meta(0x010203, true, 7, 6))) == "01 00 00 00 07 00 00 00 06 00 01 02 03");
  // a single final fragment carries no total even when one is given
  CHECK(hex(header(s, meta(2, true, 9, 0, 2))) == "01 00 00 00 09 00 00 00 00 00 00 00 02");
  // ids are carried as u32
  CHECK(hex(header(s, meta(0, true, 0x1'0000'0005, 0))) == "01 00 00 00 05 00 00 00 00 00 00 00 00");
  CHECK(s.max_header_size() == 21);
  CHECK(s.max_fragment_payload() == 32 * 1024 - 21);
  CHECK(Multiplexed(100).max_fragment_payload(Envelope{}) == 100);
  CHECK_THROWS_AS(Multiplexed(0), std::invalid_argument);
}

TEST_CASE("Multiplexed decodes what it encodes") {
  const Multiplexed s;
  const std::vector<FragmentMeta> metas = {
      meta(3, false, 0x01020304, 0, 70000), meta(2, false, 7, 5), meta(4, true, 7, 6),
      meta(0, true, 0xffffffff, 0), meta(0, false, 0, 0xffffffff), meta(1, true, 3, 0, 1),
  };
  for (const auto& m : metas) {
    const Bytes frame = concat(header(s, m), Bytes(m.payload_length, std::byte{0x5a}));
    const auto d = s.decode_header(frame);
    REQUIRE(d.status == FragmentHeaderStatus::ok);
    auto expected = m;
    if (!Multiplexed::carries_total(m)) expected.total_length.reset();
    CHECK(d.meta == expected);
    CHECK(d.header_length == frame.size() - m.payload_length);
  }
}

TEST_CASE("Multiplexed rejects reserved flags, misplaced totals and wrong payload lengths") {
  const Multiplexed s;
  const Bytes good = concat(header(s, meta(2, false, 7, 5)), Bytes(2, std::byte{1}));
  REQUIRE(s.decode_header(good).status == FragmentHeaderStatus::ok);

  for (const int bit : {2, 3, 4, 5, 6, 7}) {
    Bytes bad = good;
    bad[0] |= static_cast<std::byte>(1 << bit);
    const auto d = s.decode_header(bad);
    CHECK(d.status == FragmentHeaderStatus::error);
    CHECK(d.error == fragment_errc::bad_header);
  }
  {  // total length flag on sequence 5
    Bytes bad = concat(header(s, meta(2, false, 7, 0, 10)), Bytes(2, std::byte{1}));
    bad[8] = std::byte{5};
    CHECK(s.decode_header(bad).status == FragmentHeaderStatus::error);
  }
  {  // one payload byte missing, one too many
    const Bytes short_frame(good.begin(), good.end() - 1);
    CHECK(s.decode_header(short_frame).status == FragmentHeaderStatus::error);
    Bytes long_frame = good;
    long_frame.push_back(std::byte{0});
    CHECK(s.decode_header(long_frame).status == FragmentHeaderStatus::error);
  }
  CHECK(s.decode_header(std::span(good).first(12)).status == FragmentHeaderStatus::need_more);
  const Bytes first = header(s, meta(0, false, 1, 0, 10));
  CHECK(s.decode_header(std::span(first).first(20)).status == FragmentHeaderStatus::need_more);
}

TEST_CASE("Fragmenter splits at the payload cap and marks the last fragment") {
  const Bytes msg = bytes_of("abcdefghij");
  const auto frags = split(LenFlag32K(4), msg, 0);
  REQUIRE(frags.size() == 3);
  CHECK(hex(frags[0]) == "00 04 61 62 63 64");
  CHECK(hex(frags[1]) == "00 04 65 66 67 68");
  CHECK(hex(frags[2]) == "80 02 69 6a");

  const auto mux = split(Multiplexed(4), std::span(msg).first(6), 1);
  REQUIRE(mux.size() == 2);
  CHECK(hex(mux[0]) == "02 00 00 00 01 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00 06 61 62 63 64");
  CHECK(hex(mux[1]) == "01 00 00 00 01 00 00 00 01 00 00 00 02 65 66");
}

TEST_CASE("Fragmenter sends a message that fits as one final fragment, header only overhead") {
  const Bytes msg = bytes_of("hi");
  const auto one = split(Multiplexed(), msg, 9);
  REQUIRE(one.size() == 1);
  CHECK(hex(one[0]) == "01 00 00 00 09 00 00 00 00 00 00 00 02 68 69");
  const auto exact = split(LenFlag32K(2), msg, 0);
  REQUIRE(exact.size() == 1);
  CHECK(hex(exact[0]) == "80 02 68 69");
  // the empty message is one final empty fragment
  const auto empty = split(LenFlag32K(), Bytes{}, 0);
  REQUIRE(empty.size() == 1);
  CHECK(hex(empty[0]) == "80 00");
}

TEST_CASE("Fragmenter state: done, sizes, refuses a short destination") {
  const Envelope frame;
  const Bytes msg(10, std::byte{7});
  Fragmenter<LenFlag32K, Envelope> f(LenFlag32K(4));
  CHECK(f.done());
  CHECK(f.next_fragment_size() == 0);
  f.reset(frame, msg, 0);
  CHECK_FALSE(f.done());
  CHECK(f.fragment_count() == 3);
  CHECK(f.next_fragment_size() == 6);
  Bytes small(5);
  CHECK(f.write_next(small) == 0);  // nothing written, nothing advanced
  CHECK(f.remaining_bytes() == 10);
  Bytes body(6);
  CHECK(f.write_next(body) == 6);
  CHECK(f.remaining_bytes() == 6);
  CHECK(f.write_next(body) == 6);
  CHECK(f.next_fragment_size() == 4);
  Bytes last(4);
  CHECK(f.write_next(last) == 4);
  CHECK(f.done());
  CHECK(f.write_next(body) == 0);
}

TEST_CASE("Fragmenter fills codec frames in place, other frames may go between fragments") {
  const wireframe::LengthDelimitedCodec codec;
  wireframe::ByteBuffer out;
  const Envelope frame(1, 0, "xyz");
  Bytes encoded(frame.encoded_size());
  frame.encode_to(encoded);  // 15 bytes

  Fragmenter<LenFlag32K, Envelope> f(LenFlag32K(8));
  f.reset(frame, encoded, 0);
  bool pushed = false;
  while (!f.done()) {
    const auto ec = codec.encode(f.next_fragment_size(), out, [&](std::span<std::byte> body) { f.write_next(body); });
    REQUIRE_FALSE(ec);
    if (!pushed) {  // an unrelated frame (a push) between two fragments
      const Bytes push = {std::byte{0x80}, std::byte{0x01}, std::byte{0xee}};
      REQUIRE_FALSE(codec.encode(push.size(), out, [&](std::span<std::byte> b) {
        std::copy(push.begin(), push.end(), b.begin());
      }));
      pushed = true;
    }
  }
  CHECK(hex(out.readable()) ==
        "00 00 00 0a 00 08 00 00 00 01 00 00 00 00 "  // fragment 0: header 00 08, 8 bytes
        "00 00 00 03 80 01 ee "                        // the push
        "00 00 00 09 80 07 00 00 00 00 78 79 7a");     // fragment 1: final, 7 bytes
}

TEST_CASE("fragment_errc is its own error category with distinct messages") {
  const std::error_code ec = fragment_errc::sequence_gap;
  CHECK(ec == fragment_errc::sequence_gap);
  CHECK(ec != fragment_errc::out_of_order);
  CHECK(std::string(ec.category().name()) == "wireframe.fragment");
  CHECK(&ec.category() == &wireframe::fragment_category());
  // same numeric value as a wireframe::errc, yet a different error
  const std::error_code one = fragment_errc::bad_header;
  CHECK(one.value() == static_cast<int>(wireframe::errc::frame_too_large));
  CHECK(one != wireframe::errc::frame_too_large);

  std::vector<std::string> messages;
  for (int v = 1; v <= static_cast<int>(fragment_errc::length_mismatch); ++v) {
    const auto m = wireframe::make_error_code(static_cast<fragment_errc>(v)).message();
    CHECK_FALSE(m.empty());
    CHECK(m != "unknown fragmentation error");
    for (const auto& other : messages) CHECK(other != m);
    messages.push_back(m);
  }
  CHECK(messages.size() == 10);
  CHECK(wireframe::make_error_code(static_cast<fragment_errc>(999)).message() == "unknown fragmentation error");
}

TEST_CASE("the worked examples of docs/fragmentation.md") {
  const wireframe::LengthDelimitedCodec codec;  // 4-byte big-endian prefix
  const Envelope frame;
  const Bytes hello = bytes_of("hello world");
  const Bytes ok = bytes_of("ok");
  auto write_all = [&](auto& fragmenter, wireframe::ByteBuffer& out, std::size_t max_fragments) {
    for (std::size_t i = 0; i < max_fragments && !fragmenter.done(); ++i) {
      REQUIRE_FALSE(codec.encode(fragmenter.next_fragment_size(), out,
                                 [&](std::span<std::byte> body) { fragmenter.write_next(body); }));
    }
  };

  SECTION("LenFlag32K") {
    Fragmenter<LenFlag32K, Envelope> f(LenFlag32K(8));
    f.reset(frame, hello, 0);
    wireframe::ByteBuffer out;
    write_all(f, out, 10);
    CHECK(hex(out.readable()) ==
          "00 00 00 0a 00 08 68 65 6c 6c 6f 20 77 6f "
          "00 00 00 05 80 03 72 6c 64");
  }
  SECTION("Multiplexed, with a single-fragment message in between") {
    Fragmenter<Multiplexed, Envelope> big(Multiplexed(8));
    Fragmenter<Multiplexed, Envelope> push(Multiplexed(8));
    big.reset(frame, hello, 7);
    push.reset(frame, ok, 8);
    wireframe::ByteBuffer out;
    write_all(big, out, 1);
    write_all(push, out, 10);
    write_all(big, out, 10);
    CHECK(hex(out.readable()) ==
          "00 00 00 1d 02 00 00 00 07 00 00 00 00 00 00 00 08 00 00 00 00 00 00 00 0b "
          "68 65 6c 6c 6f 20 77 6f "
          "00 00 00 0f 01 00 00 00 08 00 00 00 00 00 00 00 02 6f 6b "
          "00 00 00 10 01 00 00 00 07 00 00 00 01 00 00 00 03 72 6c 64");
  }
}

}  // namespace test_fragment_headers_cpp
