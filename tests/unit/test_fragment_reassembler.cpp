// Reassembler: reassembly, zero copy, and every hardening rule (limits, timeout, sequence
// errors), each with its own error, without disturbing other messages in progress.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "wireframe/fragment/fragment_error.hpp"
#include "wireframe/fragment/len_flag_32k.hpp"
#include "wireframe/fragment/multiplexed.hpp"
#include "wireframe/fragment/reassembler.hpp"

using namespace std::chrono_literals;

namespace test_fragment_reassembler_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::FragmentMeta;
using wireframe::fragment_errc;
using wireframe::LenFlag32K;
using wireframe::Multiplexed;
using wireframe::ReassemblyLimits;
using wireframe::ReassemblyResult;
using wireframe::ReassemblyStatus;

namespace {

using Bytes = std::vector<std::byte>;
using Clock = std::chrono::steady_clock;
const Clock::time_point t0{};  // a fake clock: time points are passed explicitly

// Bytes 0, 1, 2, ... (mod 251) starting at `from`: a slice of a recognisable message.
Bytes pattern(std::size_t n, std::size_t from = 0) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>((from + i) % 251);
  return b;
}

template <class S>
Bytes fragment(const S& s, const FragmentMeta& m, const Bytes& payload) {
  const int frame = 0;  // these strategies ignore the logical frame
  Bytes out(s.header_size(m, frame) + payload.size());
  const std::size_t h = s.encode_header(m, frame, out);
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(h));
  return out;
}

// A Multiplexed fragment of message `id`: slice [from, from + len) of pattern bytes.
Bytes mux(std::uint64_t id, std::uint32_t seq, bool fin, std::size_t from, std::size_t len,
          std::optional<std::uint64_t> total = {}) {
  FragmentMeta m;
  m.payload_length = len;
  m.is_final = fin;
  m.message_id = id;
  m.sequence = seq;
  m.total_length = total;
  return fragment(Multiplexed{}, m, pattern(len, from));
}

Bytes lf(bool fin, std::size_t from, std::size_t len) {
  FragmentMeta m;
  m.payload_length = len;
  m.is_final = fin;
  return fragment(LenFlag32K{}, m, pattern(len, from));
}

bool is_pattern(std::span<const std::byte> b, std::size_t n) {
  return b.size() == n && std::equal(b.begin(), b.end(), pattern(n).begin());
}

ReassemblyLimits small_limits() {
  ReassemblyLimits l;
  l.max_message_size = 1000;
  l.max_buffered_bytes = 1500;
  l.max_partials = 3;
  l.reassembly_timeout = 5s;
  return l;
}

using MuxR = wireframe::Reassembler<Multiplexed>;
using LfR = wireframe::Reassembler<LenFlag32K>;

void require_error(const ReassemblyResult& r, fragment_errc e, std::optional<std::uint64_t> id) {
  REQUIRE(r.status == ReassemblyStatus::error);
  CHECK(r.error == e);
  CHECK(r.message_id == id);
}

}  // namespace

TEST_CASE("ReassemblyLimits: the timeout cannot be disabled, contradictions are refused") {
  ReassemblyLimits l;
  CHECK(l.max_message_size == 16u * 1024 * 1024);
  CHECK(l.max_buffered_bytes == 32u * 1024 * 1024);
  CHECK(l.max_partials == 16);
  CHECK(l.reassembly_timeout == 30s);
  CHECK_NOTHROW(MuxR(l));
  l.reassembly_timeout = 0s;
  CHECK_THROWS_AS(MuxR(l), std::invalid_argument);
  l.reassembly_timeout = -1s;
  CHECK_THROWS_AS(LfR(l), std::invalid_argument);
  l = ReassemblyLimits{};
  l.max_partials = 0;
  CHECK_THROWS_AS(MuxR(l), std::invalid_argument);
  l = ReassemblyLimits{};
  l.max_buffered_bytes = l.max_message_size - 1;
  CHECK_THROWS_AS(MuxR(l), std::invalid_argument);
}

TEST_CASE("a single final fragment is delivered without a copy") {
  MuxR r;
  const Bytes frame = mux(5, 0, true, 0, 100);
  const auto res = r.feed(frame, t0);
  REQUIRE(res.status == ReassemblyStatus::complete);
  CHECK(res.message.data() == frame.data() + 13);  // a view into the input frame
  CHECK(res.message_id == 5u);
  CHECK(is_pattern(res.message, 100));
  CHECK(r.partials() == 0);
  CHECK(r.buffered_bytes() == 0);

  LfR l;
  const Bytes lframe = lf(true, 0, 7);
  const auto lres = l.feed(lframe, t0);
  REQUIRE(lres.status == ReassemblyStatus::complete);
  CHECK(lres.message.data() == lframe.data() + 2);
  CHECK_FALSE(lres.message_id.has_value());
  // the empty message
  const auto empty = l.feed(lf(true, 0, 0), t0);
  REQUIRE(empty.status == ReassemblyStatus::complete);
  CHECK(empty.message.empty());
}

TEST_CASE("a message of several fragments is reassembled into one exactly reserved buffer") {
  MuxR r;
  CHECK(r.feed(mux(1, 0, false, 0, 400, 1000), t0).status == ReassemblyStatus::need_more);
  CHECK(r.partials() == 1);
  CHECK(r.buffered_bytes() == 1000);  // the declared total, reserved once
  CHECK(r.feed(mux(1, 1, false, 400, 400), t0).status == ReassemblyStatus::need_more);
  CHECK(r.buffered_bytes() == 1000);
  const Bytes last = mux(1, 2, true, 800, 200);
  const auto res = r.feed(last, t0);
  REQUIRE(res.status == ReassemblyStatus::complete);
  CHECK(res.message_id == 1u);
  CHECK(is_pattern(res.message, 1000));
  CHECK((res.message.data() < last.data() || res.message.data() >= last.data() + last.size()));
  CHECK(r.partials() == 0);
  CHECK(r.buffered_bytes() == 0);
  CHECK_FALSE(r.next_deadline().has_value());

  LfR l;  // no total: grows geometrically
  CHECK(l.feed(lf(false, 0, 30000), t0).status == ReassemblyStatus::need_more);
  CHECK(l.feed(lf(false, 30000, 30000), t0).status == ReassemblyStatus::need_more);
  const auto lres = l.feed(lf(true, 60000, 5), t0);
  REQUIRE(lres.status == ReassemblyStatus::complete);
  CHECK(is_pattern(lres.message, 60005));
  CHECK(l.buffered_bytes() == 0);
}

TEST_CASE("a declared total above max_message_size is refused on the first fragment, nothing allocated") {
  MuxR r(small_limits());
  const auto res = r.feed(mux(1, 0, false, 0, 10, 1001), t0);
  require_error(res, fragment_errc::message_too_large, 1u);
  CHECK(res.dropped_bytes == 10);
  CHECK(r.buffered_bytes() == 0);
  CHECK(r.partials() == 0);
  // its remaining fragments are skipped, not reported again
  CHECK(r.feed(mux(1, 1, false, 10, 10), t0).status == ReassemblyStatus::skipped);
  CHECK(r.feed(mux(1, 2, true, 20, 10), t0).status == ReassemblyStatus::skipped);
  CHECK(r.discarding() == 0);
  CHECK(r.buffered_bytes() == 0);
  // exactly the limit is fine
  CHECK(r.feed(mux(2, 0, false, 0, 500, 1000), t0).status == ReassemblyStatus::need_more);
  CHECK(r.feed(mux(2, 1, true, 500, 500), t0).status == ReassemblyStatus::complete);
  // a single fragment above the limit is refused too
  require_error(r.feed(mux(3, 0, true, 0, 1001), t0), fragment_errc::message_too_large, 3u);
}

TEST_CASE("a message growing past max_message_size is stopped at the limit") {
  SECTION("Multiplexed, no declared total") {
    MuxR r(small_limits());
    std::size_t sent = 0;
    std::uint32_t seq = 0;
    ReassemblyResult res;
    do {
      res = r.feed(mux(4, seq++, false, sent, 300), t0);
      sent += 300;
      CHECK(r.buffered_bytes() <= 1000);
    } while (res.status == ReassemblyStatus::need_more);
    require_error(res, fragment_errc::message_too_large, 4u);
    CHECK(sent == 1200);  // 900 accepted, the fragment to 1200 refused
    CHECK(res.dropped_bytes == 1200);
    CHECK(r.buffered_bytes() == 0);
    CHECK(r.partials() == 0);
  }
  SECTION("LenFlag32K: the rest of the message is skipped, the next message is clean") {
    LfR r(small_limits());
    CHECK(r.feed(lf(false, 0, 600), t0).status == ReassemblyStatus::need_more);
    CHECK(r.buffered_bytes() <= 1000);
    require_error(r.feed(lf(false, 600, 600), t0), fragment_errc::message_too_large, std::nullopt);
    CHECK(r.buffered_bytes() == 0);
    CHECK(r.feed(lf(false, 1200, 100), t0).status == ReassemblyStatus::skipped);
    CHECK(r.feed(lf(true, 1300, 100), t0).status == ReassemblyStatus::skipped);
    // the next message is not polluted by the tail of the dropped one
    CHECK(r.feed(lf(false, 0, 50), t0).status == ReassemblyStatus::need_more);
    const auto res = r.feed(lf(true, 50, 50), t0);
    REQUIRE(res.status == ReassemblyStatus::complete);
    CHECK(is_pattern(res.message, 100));
  }
}

TEST_CASE("too many messages in reassembly: the new one is refused, the others continue") {
  MuxR r(small_limits());  // max 3 partials
  for (std::uint64_t id = 1; id <= 3; ++id) {
    REQUIRE(r.feed(mux(id, 0, false, 0, 10), t0).status == ReassemblyStatus::need_more);
  }
  require_error(r.feed(mux(4, 0, false, 0, 10), t0), fragment_errc::too_many_partials, 4u);
  CHECK(r.partials() == 3);
  // a message in a single fragment needs no slot
  CHECK(r.feed(mux(5, 0, true, 0, 10), t0).status == ReassemblyStatus::complete);
  CHECK(r.feed(mux(4, 1, true, 10, 10), t0).status == ReassemblyStatus::skipped);
  for (std::uint64_t id = 1; id <= 3; ++id) {
    const auto res = r.feed(mux(id, 1, true, 10, 5), t0);
    REQUIRE(res.status == ReassemblyStatus::complete);
    CHECK(is_pattern(res.message, 15));
  }
  CHECK(r.partials() == 0);
}

TEST_CASE("the connection's buffer limit refuses a message that does not fit") {
  MuxR r(small_limits());  // 1500 bytes buffered at most
  CHECK(r.feed(mux(1, 0, false, 0, 100, 1000), t0).status == ReassemblyStatus::need_more);
  CHECK(r.buffered_bytes() == 1000);
  const auto res = r.feed(mux(2, 0, false, 0, 100, 600), t0);
  require_error(res, fragment_errc::buffer_limit, 2u);
  CHECK(r.buffered_bytes() == 1000);
  // without a declared total the limit is hit while growing
  CHECK(r.feed(mux(3, 0, false, 0, 400), t0).status == ReassemblyStatus::need_more);
  CHECK(r.buffered_bytes() <= 1500);
  require_error(r.feed(mux(3, 1, false, 400, 200), t0), fragment_errc::buffer_limit, 3u);
  CHECK(r.buffered_bytes() == 1000);
  // message 1 is unaffected
  const auto done = r.feed(mux(1, 1, true, 100, 900), t0);
  REQUIRE(done.status == ReassemblyStatus::complete);
  CHECK(is_pattern(done.message, 1000));
  CHECK(r.buffered_bytes() == 0);
}

TEST_CASE("expire() drops messages older than the timeout and reports each") {
  MuxR r(small_limits());  // 5 s
  CHECK_FALSE(r.next_deadline().has_value());
  CHECK(r.feed(mux(1, 0, false, 0, 10), t0).status == ReassemblyStatus::need_more);
  CHECK(r.feed(mux(2, 0, false, 0, 20), t0 + 2s).status == ReassemblyStatus::need_more);
  // activity does not extend the deadline: it counts from the first fragment
  CHECK(r.feed(mux(1, 1, false, 10, 10), t0 + 4s).status == ReassemblyStatus::need_more);
  REQUIRE(r.next_deadline() == t0 + 5s);

  std::vector<ReassemblyResult> reports;
  auto collect = [&](const ReassemblyResult& e) { reports.push_back(e); };
  CHECK(r.expire(t0 + 5s - 1ns, collect) == 0);
  CHECK(reports.empty());
  CHECK(r.expire(t0 + 5s, collect) == 1);
  REQUIRE(reports.size() == 1);
  require_error(reports[0], fragment_errc::reassembly_timeout, 1u);
  CHECK(reports[0].dropped_bytes == 20);
  CHECK(r.partials() == 1);
  CHECK(r.buffered_bytes() > 0);
  REQUIRE(r.next_deadline() == t0 + 7s);

  // message 2 is unaffected; message 1's late tail is skipped (it was reported already)
  CHECK(r.discarding() == 1);
  CHECK(r.feed(mux(1, 2, true, 20, 10), t0 + 6s).status == ReassemblyStatus::skipped);
  CHECK(r.discarding() == 0);
  const auto res = r.feed(mux(2, 1, true, 20, 5), t0 + 6s);
  REQUIRE(res.status == ReassemblyStatus::complete);
  CHECK(is_pattern(res.message, 25));
  CHECK(r.buffered_bytes() == 0);
  CHECK_FALSE(r.next_deadline().has_value());
  CHECK(r.expire(t0 + 1h) == 0);
}

TEST_CASE("LenFlag32K: a message that never finishes times out") {
  LfR r(small_limits());
  CHECK(r.feed(lf(false, 0, 10), t0).status == ReassemblyStatus::need_more);
  std::vector<ReassemblyResult> reports;
  CHECK(r.expire(t0 + 5s, [&](const ReassemblyResult& e) { reports.push_back(e); }) == 1);
  REQUIRE(reports.size() == 1);
  require_error(reports[0], fragment_errc::reassembly_timeout, std::nullopt);
  CHECK(r.partials() == 0);
  // its late tail is skipped, not taken for the start of a new message
  CHECK(r.feed(lf(false, 10, 10), t0 + 6s).status == ReassemblyStatus::skipped);
  CHECK(r.feed(lf(true, 20, 10), t0 + 6s).status == ReassemblyStatus::skipped);
  // then a fresh message
  const Bytes single = lf(true, 0, 3);
  CHECK(r.feed(single, t0 + 6s).status == ReassemblyStatus::complete);
}

TEST_CASE("a timed-out message's tail is skipped only for one more timeout") {
  LfR r(small_limits());  // 5 s
  CHECK(r.feed(lf(false, 0, 10), t0).status == ReassemblyStatus::need_more);
  CHECK(r.expire(t0 + 5s) == 1);
  CHECK(r.discarding() == 1);
  REQUIRE(r.next_deadline() == t0 + 10s);
  CHECK(r.expire(t0 + 10s) == 0);  // the discard ends silently
  CHECK(r.discarding() == 0);
  CHECK(r.feed(lf(true, 0, 3), t0 + 11s).status == ReassemblyStatus::complete);
}

TEST_CASE("sequence errors each have their own code and leave other messages alone") {
  struct Case {
    const char* name;
    std::vector<std::uint32_t> sequences;  // fragments of message 1, 10 bytes each, none final
    fragment_errc expected;
  };
  const std::vector<Case> cases = {
      {"out of order", {0, 1, 2, 0}, fragment_errc::out_of_order},
      {"out of order by two", {0, 1, 2, 3, 1}, fragment_errc::out_of_order},
      {"duplicate", {0, 1, 1}, fragment_errc::duplicate_fragment},
      {"duplicate first", {0, 0}, fragment_errc::duplicate_fragment},
      {"missing first", {3}, fragment_errc::missing_first},
      {"gap", {0, 2}, fragment_errc::sequence_gap},
      {"gap later", {0, 1, 2, 7}, fragment_errc::sequence_gap},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    MuxR r(small_limits());
    // another message in progress before and after the error
    REQUIRE(r.feed(mux(99, 0, false, 0, 50), t0).status == ReassemblyStatus::need_more);
    ReassemblyResult res;
    for (const std::uint32_t s : c.sequences) {
      res = r.feed(mux(1, s, false, 10 * s, 10), t0);
      if (res.status == ReassemblyStatus::error) break;
    }
    require_error(res, c.expected, 1u);
    CHECK(r.partials() == 1);  // only message 99 remains
    // the rest of message 1 is skipped
    CHECK(r.feed(mux(1, 50, true, 0, 10), t0).status == ReassemblyStatus::skipped);
    const auto other = r.feed(mux(99, 1, true, 50, 50), t0);
    REQUIRE(other.status == ReassemblyStatus::complete);
    CHECK(is_pattern(other.message, 100));
    CHECK(r.buffered_bytes() == 0);
    // the id can be used again for a new message (sequence 0)
    CHECK(r.feed(mux(1, 0, false, 0, 5), t0).status == ReassemblyStatus::need_more);
    const auto again = r.feed(mux(1, 1, true, 5, 5), t0);
    REQUIRE(again.status == ReassemblyStatus::complete);
    CHECK(is_pattern(again.message, 10));
  }
}

TEST_CASE("fragments that do not add up to the declared total are a length mismatch") {
  MuxR r(small_limits());
  CHECK(r.feed(mux(1, 0, false, 0, 4, 10), t0).status == ReassemblyStatus::need_more);
  require_error(r.feed(mux(1, 1, true, 4, 4), t0), fragment_errc::length_mismatch, 1u);  // 8 != 10
  CHECK(r.feed(mux(2, 0, false, 0, 4, 10), t0).status == ReassemblyStatus::need_more);
  require_error(r.feed(mux(2, 1, false, 4, 7), t0), fragment_errc::length_mismatch, 2u);  // 11 > 10
  require_error(r.feed(mux(3, 0, false, 0, 11, 10), t0), fragment_errc::length_mismatch, 3u);
  CHECK(r.buffered_bytes() == 0);
  CHECK(r.partials() == 0);
}

TEST_CASE("a bad header is reported without a message id and disturbs nothing") {
  MuxR r(small_limits());
  CHECK(r.feed(mux(1, 0, false, 0, 10), t0).status == ReassemblyStatus::need_more);
  Bytes bad = mux(1, 1, true, 10, 10);
  bad.pop_back();  // payload length no longer matches the frame
  const auto res = r.feed(bad, t0);
  require_error(res, fragment_errc::bad_header, std::nullopt);
  CHECK(res.dropped_bytes == bad.size());
  require_error(r.feed(Bytes(5), t0), fragment_errc::bad_header, std::nullopt);  // too short
  const auto done = r.feed(mux(1, 1, true, 10, 10), t0);
  REQUIRE(done.status == ReassemblyStatus::complete);
  CHECK(is_pattern(done.message, 20));

  LfR l;
  require_error(l.feed(Bytes{std::byte{0x80}}, t0), fragment_errc::bad_header, std::nullopt);
}

TEST_CASE("the delivered buffer lives until the next feed or release") {
  MuxR r;
  CHECK(r.feed(mux(1, 0, false, 0, 10), t0).status == ReassemblyStatus::need_more);
  const auto res = r.feed(mux(1, 1, true, 10, 10), t0);
  REQUIRE(res.status == ReassemblyStatus::complete);
  CHECK(is_pattern(res.message, 20));
  r.release();  // (under ASan, reading res.message now would be a use after free)
  CHECK(r.buffered_bytes() == 0);
  CHECK(r.feed(mux(2, 0, false, 0, 10), t0).status == ReassemblyStatus::need_more);
  r.clear();
  CHECK(r.partials() == 0);
  CHECK(r.buffered_bytes() == 0);
  CHECK(r.feed(mux(2, 1, true, 10, 10), t0).status == ReassemblyStatus::error);  // missing first
}

TEST_CASE("retained_buffer_bytes: a completed message's buffer serves the next one") {
  ReassemblyLimits l = small_limits();
  l.retained_buffer_bytes = 800;
  MuxR r(l);
  auto two_part = [&](std::uint64_t id, std::size_t total) {
    REQUIRE(r.feed(mux(id, 0, false, 0, total / 2, total), t0).status == ReassemblyStatus::need_more);
    const auto done = r.feed(mux(id, 1, true, total / 2, total - total / 2), t0);
    REQUIRE(done.status == ReassemblyStatus::complete);
    CHECK(is_pattern(done.message, total));
  };
  two_part(1, 600);
  CHECK(r.retained_bytes() == 0);  // still the delivered message
  r.release();
  CHECK(r.retained_bytes() == 600);
  CHECK(r.buffered_bytes() == 0);  // retained memory is not reassembly memory
  // The next message that fits takes it (counted again while in use), and gives it back.
  REQUIRE(r.feed(mux(2, 0, false, 0, 100, 500), t0).status == ReassemblyStatus::need_more);
  CHECK(r.retained_bytes() == 0);
  CHECK(r.buffered_bytes() == 600);
  const auto done = r.feed(mux(2, 1, true, 100, 400), t0);
  REQUIRE(done.status == ReassemblyStatus::complete);
  CHECK(is_pattern(done.message, 500));
  r.release();
  CHECK(r.retained_bytes() == 600);
  // Larger than retained_buffer_bytes: freed as usual, the retained one is kept.
  two_part(3, 900);
  r.release();
  CHECK(r.retained_bytes() == 600);
  r.trim();
  CHECK(r.retained_bytes() == 0);
}

TEST_CASE("a retained buffer is never taken beyond the byte budget") {
  ReassemblyLimits l = small_limits();  // messages up to 1000 bytes, 1500 bytes budget
  l.retained_buffer_bytes = 1000;
  MuxR r(l);
  REQUIRE(r.feed(mux(1, 0, false, 0, 400, 800), t0).status == ReassemblyStatus::need_more);
  REQUIRE(r.feed(mux(1, 1, true, 400, 400), t0).status == ReassemblyStatus::complete);
  r.release();
  REQUIRE(r.retained_bytes() == 800);
  // No declared total: 1000 bytes reserved up front, more than the spare holds.
  REQUIRE(r.feed(mux(2, 0, false, 0, 300), t0).status == ReassemblyStatus::need_more);
  CHECK(r.buffered_bytes() == 1000);
  CHECK(r.retained_bytes() == 800);
  // 500 bytes of budget left: the 800-byte spare would exceed it, so 100 bytes are allocated.
  REQUIRE(r.feed(mux(3, 0, false, 0, 50, 100), t0).status == ReassemblyStatus::need_more);
  CHECK(r.buffered_bytes() == 1100);
  CHECK(r.retained_bytes() == 800);
  CHECK(r.buffered_bytes() <= l.max_buffered_bytes);
}

// --- real memory: large buffers grow in place (detail::LargeBlock) ----------------------------

TEST_CASE("a message without a declared total grows to megabytes with the same steps and bytes") {
  ReassemblyLimits l;
  l.max_message_size = 4 * 1024 * 1024;
  l.max_buffered_bytes = 4 * 1024 * 1024;
  LfR r(l);
  constexpr std::size_t frag = LenFlag32K::max_payload_limit;
  // Geometric growth from twice the first fragment, capped at max_message_size, as always.
  // (Warm pages cached by the thread could let a step come early: none here.)
  wireframe::detail::trim_page_cache();
  std::vector<std::size_t> capacities;
  std::size_t sent = 0;
  while (sent + frag < l.max_message_size) {
    REQUIRE(r.feed(lf(false, sent, frag), t0).status == ReassemblyStatus::need_more);
    sent += frag;
    if (capacities.empty() || capacities.back() != r.buffered_bytes()) capacities.push_back(r.buffered_bytes());
    REQUIRE(r.buffered_bytes() <= l.max_buffered_bytes);
  }
  const std::size_t rest = l.max_message_size - sent;  // less than a fragment: up to the limit
  REQUIRE(r.feed(lf(false, sent, rest - 1), t0).status == ReassemblyStatus::need_more);
  capacities.push_back(r.buffered_bytes());
  const std::vector<std::size_t> expected = {2 * frag,  4 * frag,  8 * frag,   16 * frag,
                                             32 * frag, 64 * frag, 128 * frag, l.max_message_size};
  CHECK(capacities == expected);
  const auto res = r.feed(lf(true, l.max_message_size - 1, 1), t0);
  REQUIRE(res.status == ReassemblyStatus::complete);
  CHECK(is_pattern(res.message, l.max_message_size));
  CHECK(r.buffered_bytes() == 0);
  // Too large by one byte: refused, as before.
  REQUIRE(r.feed(lf(false, 0, frag), t0).status == ReassemblyStatus::need_more);
  sent = frag;
  ReassemblyResult last;
  while ((last = r.feed(lf(false, sent, frag), t0)).status == ReassemblyStatus::need_more) sent += frag;
  require_error(last, fragment_errc::message_too_large, std::nullopt);
  CHECK(r.buffered_bytes() == 0);
}

TEST_CASE("a large declared total is reserved exactly and filled in place") {
  constexpr std::size_t total = 3 * 1024 * 1024 + 17;
  ReassemblyLimits l;
  l.max_message_size = 4 * 1024 * 1024;
  l.max_buffered_bytes = 4 * 1024 * 1024;
  MuxR r(l);
  constexpr std::size_t frag = 100 * 1000;
  REQUIRE(r.feed(mux(1, 0, false, 0, frag, total), t0).status == ReassemblyStatus::need_more);
  CHECK(r.buffered_bytes() == total);
  std::size_t sent = frag;
  std::uint32_t seq = 1;
  ReassemblyResult res;
  while (sent < total) {
    const std::size_t n = std::min(frag, total - sent);
    res = r.feed(mux(1, seq++, sent + n == total, sent, n), t0);
    sent += n;
    if (sent < total) REQUIRE(res.status == ReassemblyStatus::need_more);
    CHECK(r.buffered_bytes() <= total);
  }
  REQUIRE(res.status == ReassemblyStatus::complete);
  CHECK(is_pattern(res.message, total));
}

TEST_CASE("a large retained buffer serves the next message without a new allocation") {
  constexpr std::size_t total = 2 * 1024 * 1024;
  ReassemblyLimits l;
  l.max_message_size = 4 * 1024 * 1024;
  l.max_buffered_bytes = 4 * 1024 * 1024;
  l.retained_buffer_bytes = 4 * 1024 * 1024;
  MuxR r(l);
  REQUIRE(r.feed(mux(1, 0, false, 0, total / 2, total), t0).status == ReassemblyStatus::need_more);
  auto done = r.feed(mux(1, 1, true, total / 2, total / 2), t0);
  REQUIRE(done.status == ReassemblyStatus::complete);
  const std::byte* storage = done.message.data();
  r.release();
  CHECK(r.retained_bytes() == total);
  REQUIRE(r.feed(mux(2, 0, false, 0, 1000, total - 10), t0).status == ReassemblyStatus::need_more);
  CHECK(r.retained_bytes() == 0);
  CHECK(r.buffered_bytes() == total);
  done = r.feed(mux(2, 1, true, 1000, total - 1010), t0);
  REQUIRE(done.status == ReassemblyStatus::complete);
  CHECK(done.message.data() == storage);  // the same pages
  CHECK(is_pattern(done.message, total - 10));
}

TEST_CASE("memory that cannot be had is reported as buffer_limit, and nothing is held") {
  ReassemblyLimits l;
  l.max_message_size = std::size_t{1} << 61;  // limits that allow more than any address space
  l.max_buffered_bytes = std::size_t{1} << 61;
  MuxR r(l);
  const auto res = r.feed(mux(1, 0, false, 0, 10, std::uint64_t{1} << 60), t0);
  require_error(res, fragment_errc::buffer_limit, 1u);
  CHECK(res.dropped_bytes == 10);
  CHECK(r.buffered_bytes() == 0);
  CHECK(r.partials() == 0);
  CHECK(r.feed(mux(1, 1, true, 10, 10), t0).status == ReassemblyStatus::skipped);
  // the connection carries on
  REQUIRE(r.feed(mux(2, 0, false, 0, 10, 20), t0).status == ReassemblyStatus::need_more);
  const auto done = r.feed(mux(2, 1, true, 10, 10), t0);
  REQUIRE(done.status == ReassemblyStatus::complete);
  CHECK(is_pattern(done.message, 20));
}

}  // namespace test_fragment_reassembler_cpp
