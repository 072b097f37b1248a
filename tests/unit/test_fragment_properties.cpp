// Property tests of the fragmentation layer: whatever the message and the payload cap, what the
// Fragmenter splits the Reassembler puts back byte for byte (for both strategies, and for
// interleaved messages with Multiplexed); and no input, however hostile, makes the Reassembler
// crash or hold more memory than its limits allow.

#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "wireframe/fragment/fragment_error.hpp"
#include "wireframe/fragment/fragmenter.hpp"
#include "wireframe/fragment/len_flag_32k.hpp"
#include "wireframe/fragment/multiplexed.hpp"
#include "wireframe/fragment/reassembler.hpp"

using namespace std::chrono_literals;

namespace test_fragment_properties_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::FragmentMeta;
using wireframe::Fragmenter;
using wireframe::LenFlag32K;
using wireframe::Multiplexed;
using wireframe::ReassemblyLimits;
using wireframe::ReassemblyResult;
using wireframe::ReassemblyStatus;

namespace {

using Bytes = std::vector<std::byte>;
using Clock = std::chrono::steady_clock;
struct Logical {};  // the strategies shipped ignore the logical frame

constexpr std::size_t large_limit = 4 * 1024 * 1024;

// Message sizes: mostly small, now and then up to 3 MiB.
rc::Gen<std::size_t> gen_message_size() {
  return rc::gen::weightedOneOf<std::size_t>({
      {10, rc::gen::inRange<std::size_t>(0, 2048)},
      {1, rc::gen::inRange<std::size_t>(0, 3 * 1024 * 1024)},
  });
}

// Generating megabytes byte by byte would dominate the run: fill from a generated seed.
Bytes message_bytes(std::size_t n, std::uint64_t seed) {
  Bytes b(n);
  std::uint64_t x = seed | 1;
  for (auto& byte : b) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    byte = static_cast<std::byte>(x);
  }
  return b;
}

template <class S>
std::vector<Bytes> split(const S& strategy, std::span<const std::byte> message, std::uint64_t id) {
  const Logical frame;
  Fragmenter<S, Logical> f(strategy);
  f.reset(frame, message, id);
  std::vector<Bytes> out;
  out.reserve(f.fragment_count());
  while (!f.done()) {
    Bytes body(f.next_fragment_size());
    RC_ASSERT(f.write_next(body) == body.size());
    out.push_back(std::move(body));
  }
  RC_ASSERT(out.size() == f.fragment_count());
  return out;
}

template <class S>
void round_trip(const S& strategy, const Bytes& message, std::size_t cap) {
  ReassemblyLimits limits;
  limits.max_message_size = large_limit;
  limits.max_buffered_bytes = large_limit;
  wireframe::Reassembler<S> r(strategy, limits);
  const auto frags = split(strategy, message, 42);
  RC_ASSERT(frags.size() == std::max<std::size_t>(1, (message.size() + cap - 1) / cap));
  const auto now = Clock::time_point{};
  for (std::size_t i = 0; i < frags.size(); ++i) {
    RC_ASSERT(frags[i].size() <= strategy.max_header_size() + cap);
    const ReassemblyResult res = r.feed(frags[i], now);
    RC_ASSERT(r.buffered_bytes() <= limits.max_buffered_bytes);
    if (i + 1 < frags.size()) {
      RC_ASSERT(res.status == ReassemblyStatus::need_more);
      continue;
    }
    RC_ASSERT(res.status == ReassemblyStatus::complete);
    RC_ASSERT(std::ranges::equal(res.message, message));
    // zero copy exactly when the message was a single fragment
    const auto* p = res.message.data();
    const bool inside = !message.empty() && p >= frags[i].data() && p < frags[i].data() + frags[i].size();
    RC_ASSERT(message.empty() || inside == (frags.size() == 1));
  }
  RC_ASSERT(r.partials() == 0);
  RC_ASSERT(r.buffered_bytes() == 0);
}

}  // namespace

TEST_CASE("fragment round trip with LenFlag32K") {
  rc::prop("reassemble(split(m, cap)) == m", [] {
    const std::size_t size = *gen_message_size();
    RC_CLASSIFY(size > 64 * 1024, "message > 64 KiB");
    const Bytes message = message_bytes(size, *rc::gen::arbitrary<std::uint64_t>());
    // at least size/4096 per fragment keeps huge messages at a few thousand fragments
    const std::size_t cap = *rc::gen::inRange<std::size_t>(std::max<std::size_t>(1, size / 4096), 32768);
    round_trip(LenFlag32K(cap), message, cap);
  });
}

TEST_CASE("fragment round trip with Multiplexed") {
  rc::prop("reassemble(split(m, cap)) == m, with the total reserved exactly", [] {
    const std::size_t size = *gen_message_size();
    RC_CLASSIFY(size > 64 * 1024, "message > 64 KiB");
    const Bytes message = message_bytes(size, *rc::gen::arbitrary<std::uint64_t>());
    const std::size_t cap = *rc::gen::inRange<std::size_t>(std::max<std::size_t>(1, size / 4096), 100000);
    round_trip(Multiplexed(cap), message, cap);
    // the first fragment of a split message declares the total: one exact allocation
    if (size > cap) {
      ReassemblyLimits limits;
      limits.max_message_size = large_limit;
      limits.max_buffered_bytes = large_limit;
      wireframe::Reassembler<Multiplexed> r(Multiplexed(cap), limits);
      const auto frags = split(Multiplexed(cap), message, 1);
      RC_ASSERT(r.feed(frags[0], {}).status == ReassemblyStatus::need_more);
      RC_ASSERT(r.buffered_bytes() == size);
    }
  });
}

TEST_CASE("a message given in two parts (head, body) splits exactly as the same bytes in one") {
  rc::prop("split(head ++ body) == split(head, body), copied and borrowed", [] {
    const std::size_t size = *gen_message_size();
    const Bytes message = message_bytes(size, *rc::gen::arbitrary<std::uint64_t>());
    const std::size_t cut = *rc::gen::inRange<std::size_t>(0, size + 1);
    const std::size_t cap = *rc::gen::inRange<std::size_t>(std::max<std::size_t>(1, size / 4096), 100000);
    const std::span<const std::byte> all(message);
    const Multiplexed strategy(cap);
    const auto whole = split(strategy, all, 5);
    const Logical frame;
    Fragmenter<Multiplexed, Logical> copied(strategy), borrowed(strategy);
    copied.reset(frame, all.first(cut), all.subspan(cut), 5);
    borrowed.reset(frame, all.first(cut), all.subspan(cut), 5);
    for (const Bytes& expected : whole) {
      RC_ASSERT(copied.next_fragment_size() == expected.size());
      Bytes body(expected.size());
      RC_ASSERT(copied.write_next(body) == body.size());
      RC_ASSERT(body == expected);
      // The gather path: header written, payload handed back as slices of the two parts.
      Bytes header(borrowed.next_header_size());
      const wireframe::FragmentPayload p = borrowed.write_next_header(header);
      header.insert(header.end(), p.head.begin(), p.head.end());
      header.insert(header.end(), p.body.begin(), p.body.end());
      RC_ASSERT(header == expected);
    }
    RC_ASSERT(copied.done());
    RC_ASSERT(borrowed.done());
  });
}

TEST_CASE("interleaved Multiplexed messages reassemble to the same messages") {
  rc::prop("any interleaving that keeps each message's order", [] {
    const std::size_t n = *rc::gen::inRange<std::size_t>(1, 8);
    const std::size_t cap = *rc::gen::inRange<std::size_t>(1, 600);
    const Multiplexed strategy(cap);
    const auto base = *rc::gen::inRange<std::uint64_t>(0, 0xffffff00);
    std::vector<Bytes> messages;
    std::vector<std::vector<Bytes>> queues;
    for (std::size_t i = 0; i < n; ++i) {
      messages.push_back(message_bytes(*rc::gen::inRange<std::size_t>(0, 4000), base + i));
      queues.push_back(split(strategy, messages.back(), base + i));
    }
    std::size_t total = 0;
    for (const auto& q : queues) total += q.size();
    const auto picks = *rc::gen::container<std::vector<std::size_t>>(total, rc::gen::arbitrary<std::size_t>());

    wireframe::Reassembler<Multiplexed> r(strategy, ReassemblyLimits{});
    std::vector<std::size_t> next(n, 0);
    std::map<std::uint64_t, Bytes> completed;
    for (std::size_t k = 0; k < total; ++k) {
      std::vector<std::size_t> open;
      for (std::size_t i = 0; i < n; ++i) {
        if (next[i] < queues[i].size()) open.push_back(i);
      }
      const std::size_t q = open[picks[k] % open.size()];
      const ReassemblyResult res = r.feed(queues[q][next[q]++], {});
      RC_ASSERT(res.status != ReassemblyStatus::error);
      RC_ASSERT(res.message_id == base + q);
      RC_ASSERT(r.partials() <= n);
      if (res.status == ReassemblyStatus::complete) {
        RC_ASSERT(next[q] == queues[q].size());
        RC_ASSERT(completed.count(base + q) == 0u);
        completed[base + q] = Bytes(res.message.begin(), res.message.end());
      } else {
        RC_ASSERT(res.status == ReassemblyStatus::need_more);
      }
    }
    RC_ASSERT(completed.size() == n);
    for (std::size_t i = 0; i < n; ++i) RC_ASSERT(completed[base + i] == messages[i]);
    RC_ASSERT(r.buffered_bytes() == 0);
  });
}

namespace {

ReassemblyLimits hostile_limits() {
  ReassemblyLimits l;
  l.max_message_size = 1000;
  l.max_buffered_bytes = 1500;
  l.max_partials = 3;
  l.reassembly_timeout = 1s;
  return l;
}

// Feeds frames with a clock that advances by random steps and random expire() calls; after
// every step the memory held stays within the limits and every outcome is a documented one.
template <class S>
void hostile_run(const std::vector<Bytes>& frames) {
  const ReassemblyLimits limits = hostile_limits();
  wireframe::Reassembler<S> r(S{}, limits);
  auto now = Clock::time_point{};
  for (const auto& frame : frames) {
    now += std::chrono::milliseconds(*rc::gen::inRange(0, 400));
    const ReassemblyResult res = r.feed(frame, now);
    RC_ASSERT(r.buffered_bytes() <= limits.max_buffered_bytes);
    RC_ASSERT(r.partials() <= limits.max_partials);
    RC_ASSERT(r.discarding() <= limits.max_partials);
    switch (res.status) {
      case ReassemblyStatus::complete:
        RC_ASSERT(res.message.size() <= limits.max_message_size);
        break;
      case ReassemblyStatus::error:
        RC_ASSERT(res.error.category() == wireframe::fragment_category());
        RC_ASSERT(res.error != wireframe::fragment_errc::reassembly_timeout);
        break;
      case ReassemblyStatus::need_more:
      case ReassemblyStatus::skipped:
        break;
    }
    if (*rc::gen::inRange(0, 4) == 0) {
      r.expire(now, [](const ReassemblyResult& e) {
        RC_ASSERT(e.error == wireframe::fragment_errc::reassembly_timeout);
      });
      const auto deadline = r.next_deadline();
      RC_ASSERT(!deadline || *deadline > now);
    }
  }
  // everything still held expires after the timeout; the tails of what expired are skipped
  // for one more timeout, then nothing is left
  r.expire(now + limits.reassembly_timeout);
  RC_ASSERT(r.partials() == 0);
  RC_ASSERT(r.buffered_bytes() == 0);
  r.expire(now + 2 * limits.reassembly_timeout);
  RC_ASSERT(r.discarding() == 0);
  RC_ASSERT(!r.next_deadline());
}

Bytes random_frame() {
  const auto raw = *rc::gen::container<std::vector<std::uint8_t>>(rc::gen::arbitrary<std::uint8_t>());
  Bytes out(raw.size());
  std::transform(raw.begin(), raw.end(), out.begin(), [](std::uint8_t b) { return std::byte{b}; });
  return out;
}

// Frames with valid headers and random fields: reach deep into the state machine.
template <class S>
Bytes plausible_fragment(const S& s) {
  FragmentMeta m;
  m.payload_length = *rc::gen::inRange<std::size_t>(0, 700);
  m.is_final = *rc::gen::arbitrary<bool>();
  m.message_id = *rc::gen::inRange<std::uint64_t>(0, 5);
  m.sequence = *rc::gen::inRange<std::uint32_t>(0, 4);
  if (*rc::gen::arbitrary<bool>()) m.total_length = *rc::gen::inRange<std::uint64_t>(0, 2500);
  const Logical frame;
  Bytes out(s.header_size(m, frame) + m.payload_length, std::byte{0x33});
  s.encode_header(m, frame, out);
  return out;
}

}  // namespace

TEST_CASE("random frames never break the Reassembler's limits") {
  rc::prop("LenFlag32K, random bytes and plausible fragments", [] {
    const auto count = *rc::gen::inRange<std::size_t>(0, 60);
    std::vector<Bytes> frames;
    for (std::size_t i = 0; i < count; ++i) {
      frames.push_back(*rc::gen::arbitrary<bool>() ? random_frame() : plausible_fragment(LenFlag32K{}));
    }
    hostile_run<LenFlag32K>(frames);
  });
  rc::prop("Multiplexed, random bytes and plausible fragments", [] {
    const auto count = *rc::gen::inRange<std::size_t>(0, 60);
    std::vector<Bytes> frames;
    for (std::size_t i = 0; i < count; ++i) {
      frames.push_back(*rc::gen::inRange(0, 4) == 0 ? random_frame() : plausible_fragment(Multiplexed{}));
    }
    hostile_run<Multiplexed>(frames);
  });
}

}  // namespace test_fragment_properties_cpp
