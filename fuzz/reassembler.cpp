// Fuzz target: wireframe::Reassembler (fragment/reassembler.hpp) under both shipped strategies,
// LenFlag32K and Multiplexed, driven by a sequence of operations with a controllable clock.
//
// Input format (missing bytes read as 0):
//   byte 0  bit 0: strategy (0 LenFlag32K, 1 Multiplexed); bits 1-3: max_message_size (table);
//           bits 4-5: max_partials - 1; bits 6-7: retained_buffer_bytes (table)
//   byte 1  bits 0-2: max_buffered_bytes - max_message_size (table); bits 3-7: extra timeout ns
//   byte 2  reassembly_timeout = (1 + byte) ms (+ the extra ns)
//   then operations, each an op byte whose bits 0-2 say what (bits 3-7 are flags):
//     0-2  well-formed fragment, header written by the strategy's encode_header():
//          flags bit 3 final, bit 4 total length, bit 5 skew the sequence number (else the
//          sender's next one for that id), bit 6 payload bytes from the input (else a pattern),
//          bit 7 flip one byte of the frame; then id byte, length byte, [sequence delta byte],
//          [total byte], [payload bytes], [flip position and mask bytes]
//     3    raw frame: length byte, then that many bytes
//     4    clock: mode byte (advance by ms, or jump to / just before next_deadline()), expire()
//     5    release()
//     6    round trip: id, cap, length and seed bytes (seed bit 0 payload bytes from the
//          input, bit 1 cap x 128, bit 2 length x 8); a message split by the library's
//          Fragmenter and fed in order
//     7    trim()
//
// Properties checked (each failure prints what and traps), beyond "no crash":
//   - limits: partials() <= max_partials, buffered_bytes() <= max_buffered_bytes,
//     retained_bytes() <= retained_buffer_bytes (the ReassemblyStats a connection reports), a
//     completed message <= max_message_size: what a hostile peer can make a connection hold.
//   - every error is a documented fragment_errc, and the one the docs give for the situation:
//     the frames are parsed independently here (not with the strategy's decode_header), so
//     bad_header is expected exactly for invalid headers, and a model of the messages in
//     reassembly (per id: payloads fed since its first fragment, next sequence number, declared
//     total, start time) says which errors are possible, how many bytes each drops, and when
//     need_more / complete / skipped are right.
//   - byte-exact reassembly: a complete message equals the model's concatenation, so a message
//     is only delivered if all its fragments were fed; partials() equals the model's count and
//     buffered_bytes() holds at least the model's bytes (0 when nothing is in reassembly).
//   - timeouts: expire(now) drops exactly the messages whose first fragment is at least
//     reassembly_timeout before now (none earlier, none left behind), reporting each once.
//   - round trip: a message split by Fragmenter comes back byte-exact when it is within the
//     limits, and a message over max_message_size is refused with message_too_large.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "wireframe/fragment/fragment_error.hpp"
#include "wireframe/fragment/fragment_meta.hpp"
#include "wireframe/fragment/fragmenter.hpp"
#include "wireframe/fragment/len_flag_32k.hpp"
#include "wireframe/fragment/multiplexed.hpp"
#include "wireframe/fragment/reassembler.hpp"
#include "wireframe/fragment/reassembly_stats.hpp"

#include "fuzz/fuzz_check.hpp"

namespace {

using fuzz::check;

using wireframe::fragment_errc;
using wireframe::Fragmenter;
using wireframe::FragmentMeta;
using wireframe::LenFlag32K;
using wireframe::Multiplexed;
using wireframe::ReassemblyLimits;
using wireframe::ReassemblyResult;
using wireframe::ReassemblyStats;
using wireframe::ReassemblyStatus;
using Bytes = std::vector<std::byte>;
using time_point = std::chrono::steady_clock::time_point;

// The logical frame type the Fragmenter passes to the strategy (both shipped ones ignore it).
struct NoFrame {};

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  [[nodiscard]] bool empty() const { return pos_ >= size_; }
  // Payload bytes made up so far (make_payload): bounds the work one input can ask for.
  void count_generated(std::size_t n) { generated_ += n; }
  [[nodiscard]] std::size_t generated() const { return generated_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // Up to `n` bytes (fewer when the input ends).
  std::span<const std::uint8_t> take(std::size_t n) {
    const std::size_t k = std::min(n, size_ - std::min(pos_, size_));
    const std::span<const std::uint8_t> s(data_ + pos_, k);
    pos_ += k;
    return s;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::size_t generated_ = 0;
};

// A length from one byte: 0..223 as is, then steps of 171 (to 4104, past the first buffer
// size), then steps of 16381 (to ~128 KiB), so that small inputs reach the large-buffer paths
// too without making every other fragment large.
std::size_t length_from(std::uint8_t v) {
  if (v < 0xe0) return v;
  if (v < 0xf8) return static_cast<std::size_t>(v - 0xdf) * 171;
  return static_cast<std::size_t>(v - 0xf7) * 16381;
}

// `n` payload bytes: from the input while it lasts when `literal`, then a pattern that depends
// on `seed` and the position (so that a misplaced byte shows). Copied from a table: a loop per
// byte under the fuzzer's instrumentation would cost more than the reassembly under test.
Bytes make_payload(Input& in, std::size_t n, bool literal, std::uint8_t seed) {
  static constexpr std::size_t period = 65521;  // prime: no power-of-two shift maps it onto itself
  static const Bytes pattern = [] {
    Bytes p(period);
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = static_cast<std::byte>(k * 31 + (k >> 8) + (k >> 16));
    return p;
  }();
  in.count_generated(n);
  Bytes out(n);
  std::size_t i = 0;
  if (literal) {
    const auto bytes = in.take(n);
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    i = bytes.size();
  }
  while (i < n) {
    const std::size_t at = (i + seed) % period;
    const std::size_t k = std::min(n - i, period - at);
    std::memcpy(out.data() + i, pattern.data() + at, k);
    i += k;
  }
  return out;
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

ReassemblyLimits limits_from(Input& in) {
  static constexpr std::size_t message_sizes[] = {0, 1, 16, 100, 1000, 4096, 10000, 700000};
  static constexpr std::size_t extra_buffered[] = {0, 1, 50, 1000, 4096, 8192, 100000, 1 << 20};
  static constexpr std::size_t retained[] = {0, 64, 4096, 1 << 20};
  const std::uint8_t b0 = in.byte();
  const std::uint8_t b1 = in.byte();
  const std::uint8_t b2 = in.byte();
  ReassemblyLimits l;
  l.max_message_size = message_sizes[(b0 >> 1) & 7];
  l.max_partials = 1 + ((b0 >> 4) & 3);
  l.retained_buffer_bytes = retained[b0 >> 6];
  l.max_buffered_bytes = l.max_message_size + extra_buffered[b1 & 7];  // >= max_message_size
  l.reassembly_timeout = std::chrono::milliseconds(1 + b2) + std::chrono::nanoseconds(b1 >> 3);
  return l;
}

std::uint64_t load_be(const std::byte* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

// A frame's header as docs/fragmentation.md describes it, parsed here without the library.
struct Parsed {
  std::uint64_t key = 0;                  // message id, 0 for LenFlag32K
  std::optional<std::uint64_t> id{};      // what results must carry
  std::optional<std::uint32_t> sequence{};
  std::optional<std::uint64_t> total{};
  bool is_final = false;
  std::span<const std::byte> payload{};
};

std::optional<Parsed> parse(const LenFlag32K&, std::span<const std::byte> frame) {
  if (frame.size() < 2) return std::nullopt;
  const std::uint64_t word = load_be(frame.data(), 2);
  if ((word & 0x7fff) != frame.size() - 2) return std::nullopt;
  Parsed p;
  p.is_final = (word & 0x8000) != 0;
  p.payload = frame.subspan(2);
  return p;
}

std::optional<Parsed> parse(const Multiplexed&, std::span<const std::byte> frame) {
  if (frame.size() < 13) return std::nullopt;
  const auto flags = std::to_integer<unsigned>(frame[0]);
  if ((flags & ~3U) != 0) return std::nullopt;
  Parsed p;
  p.is_final = (flags & 1U) != 0;
  p.key = load_be(frame.data() + 1, 4);
  p.id = p.key;
  p.sequence = static_cast<std::uint32_t>(load_be(frame.data() + 5, 4));
  const std::uint64_t length = load_be(frame.data() + 9, 4);
  std::size_t header = 13;
  if ((flags & 2U) != 0) {
    if (*p.sequence != 0 || frame.size() < 21) return std::nullopt;
    p.total = load_be(frame.data() + 13, 8);
    header = 21;
  }
  if (length != frame.size() - header) return std::nullopt;
  p.payload = frame.subspan(header);
  return p;
}

bool is_documented(const std::error_code& ec) {
  return ec.category() == wireframe::fragment_category() && ec.value() >= 1 &&
         ec.value() <= static_cast<int>(fragment_errc::length_mismatch);
}

// Which results are acceptable for one well-formed fragment.
struct Expectation {
  std::vector<fragment_errc> errors;  // an error must be one of these
  bool must_fail = false;             // success is not acceptable
  bool may_skip = false;
};

bool allows(const Expectation& e, fragment_errc code) {
  return std::find(e.errors.begin(), e.errors.end(), code) != e.errors.end();
}

// The model's view of one message in reassembly.
struct Partial {
  Bytes bytes;                         // payloads fed since its first fragment
  std::uint32_t next_sequence = 1;
  std::optional<std::uint64_t> total;  // declared on its first fragment
  time_point started{};
};

template <class Strategy>
class Harness {
 public:
  static constexpr bool multiplexed = std::is_same_v<Strategy, Multiplexed>;

  Harness(const ReassemblyLimits& limits, time_point now)
      : limits_(limits), reassembler_(Strategy{}, limits), now_(now) {}

  // Feeds one frame body and checks the result against the model; returns it (its message
  // views stay valid until the next feed() or release()).
  ReassemblyResult feed(std::span<const std::byte> frame) {
    const std::optional<Parsed> parsed = parse(reassembler_.strategy(), frame);
    const std::size_t discarding = reassembler_.discarding();
    const Expectation expected = parsed ? expect(*parsed, discarding) : Expectation{};
    const ReassemblyResult r = reassembler_.feed(frame, now_);
    if (r.status == ReassemblyStatus::error) check(is_documented(r.error), "error is a documented fragment_errc");
    if (!parsed) {
      check(r.status == ReassemblyStatus::error && r.error == fragment_errc::bad_header,
            "an invalid header is reported as bad_header");
      check(!r.message_id && r.dropped_bytes == frame.size(), "bad_header: no id, the frame dropped");
    } else {
      check(r.message_id == parsed->id, "result carries the fragment's message id");
      apply(*parsed, expected, r, discarding);
    }
    check_limits();
    return r;
  }

  // Advances the clock (never backwards) and calls expire(), checking what it drops.
  void expire_at(time_point t) {
    now_ = std::max(now_, t);
    std::size_t reports = 0;
    const std::size_t n = reassembler_.expire(now_, [&](const ReassemblyResult& r) {
      ++reports;
      check(r.status == ReassemblyStatus::error && r.error == fragment_errc::reassembly_timeout,
            "expire() reports reassembly_timeout");
      check(r.message_id.has_value() == multiplexed, "expire() reports the message id when there is one");
      const auto it = model_.find(r.message_id.value_or(0));
      check(it != model_.end(), "expire() reports a message in reassembly");
      check(deadline(it->second) <= now_, "expire() does not drop a message before its timeout");
      check(r.dropped_bytes == it->second.bytes.size(), "expire() reports the bytes it held");
      model_.erase(it);
    });
    check(n == reports, "expire() returns how many it reported");
    for (const auto& [key, p] : model_) check(deadline(p) > now_, "expire() drops every timed-out message");
    check_limits();
  }

  void advance(std::chrono::nanoseconds d) { expire_at(now_ + d); }

  // The clock set to next_deadline() (or 1 ns before), then expire().
  void expire_near_deadline(bool just_before) {
    const auto next = reassembler_.next_deadline();
    check(next.has_value() == (!model_.empty() || reassembler_.discarding() != 0),
          "next_deadline() is set exactly when something is pending");
    for (const auto& [key, p] : model_) check(*next <= deadline(p), "next_deadline() is not after any message's");
    if (next) expire_at(just_before ? *next - std::chrono::nanoseconds(1) : *next);
  }

  void release() {
    reassembler_.release();
    check_limits();
  }

  void trim() {
    reassembler_.trim();
    check(reassembler_.retained_bytes() == 0, "trim() frees the retained buffer");
  }

  [[nodiscard]] const auto& reassembler() const { return reassembler_; }
  [[nodiscard]] const ReassemblyLimits& limits() const { return limits_; }
  [[nodiscard]] time_point now() const { return now_; }
  [[nodiscard]] std::size_t model_bytes(std::uint64_t key) const {
    const auto it = model_.find(key);
    return it == model_.end() ? 0 : it->second.bytes.size();
  }
  [[nodiscard]] bool in_reassembly(std::uint64_t key) const { return model_.count(key) != 0; }

 private:
  [[nodiscard]] time_point deadline(const Partial& p) const {
    return p.started + std::chrono::ceil<std::chrono::steady_clock::duration>(limits_.reassembly_timeout);
  }

  // What the docs allow for a well-formed fragment, given the model and the state before it.
  Expectation expect(const Parsed& f, std::size_t discarding) const {
    Expectation e;
    const std::size_t len = f.payload.size();
    const std::size_t max = limits_.max_message_size;
    const std::size_t budget = limits_.max_buffered_bytes - reassembler_.buffered_bytes();
    const auto it = model_.find(f.key);
    if (it != model_.end()) {  // continuing a message in reassembly
      const Partial& p = it->second;
      const std::size_t size = p.bytes.size();
      if (f.sequence && *f.sequence != p.next_sequence) {
        const std::uint64_t s = *f.sequence;
        e.errors.push_back(s > p.next_sequence      ? fragment_errc::sequence_gap
                           : s + 1 == p.next_sequence ? fragment_errc::duplicate_fragment
                                                      : fragment_errc::out_of_order);
        e.must_fail = true;
        return e;
      }
      if (p.total && (len > *p.total - size || (f.is_final && size + len != *p.total))) {
        e.errors.push_back(fragment_errc::length_mismatch);
      }
      if (len > max - size) e.errors.push_back(fragment_errc::message_too_large);
      e.must_fail = !e.errors.empty();
      // Growing may fail only when this fragment alone exceeds what the others leave.
      if (len > budget) e.errors.push_back(fragment_errc::buffer_limit);
      return e;
    }
    // No message in reassembly with this id: a dropped message's rest, or a new message.
    if constexpr (multiplexed) {
      if (*f.sequence != 0) {
        e.may_skip = discarding != 0;
        e.errors.push_back(fragment_errc::missing_first);
        e.must_fail = true;
        return e;
      }
    } else if (discarding != 0) {  // LenFlag32K: one message at a time, its rest is skipped
      e.may_skip = true;
      e.must_fail = true;
      return e;
    }
    if ((f.total && *f.total > max) || len > max) e.errors.push_back(fragment_errc::message_too_large);
    if (f.total && (*f.total < len || (f.is_final && *f.total != len))) {
      e.errors.push_back(fragment_errc::length_mismatch);
    }
    if (e.errors.empty() && !f.is_final) {
      if (reassembler_.partials() >= limits_.max_partials) e.errors.push_back(fragment_errc::too_many_partials);
      if ((f.total ? *f.total : len) > budget) e.errors.push_back(fragment_errc::buffer_limit);
    }
    e.must_fail = !e.errors.empty();
    return e;
  }

  // Checks a well-formed fragment's result against the expectation and updates the model.
  void apply(const Parsed& f, const Expectation& e, const ReassemblyResult& r, std::size_t discarding) {
    const auto it = model_.find(f.key);
    switch (r.status) {
      case ReassemblyStatus::skipped:
        check(e.may_skip, "skipped only the rest of a dropped message");
        check(reassembler_.discarding() == discarding - (f.is_final ? 1 : 0),
              "a skipped final fragment ends the discard");
        return;
      case ReassemblyStatus::error:
        check(allows(e, static_cast<fragment_errc>(r.error.value())), "the error the docs give for this fragment");
        check(r.dropped_bytes == model_bytes(f.key) + f.payload.size(), "error reports the bytes it dropped");
        if (it != model_.end()) model_.erase(it);
        return;
      case ReassemblyStatus::need_more:
      case ReassemblyStatus::complete:
        break;
    }
    check(!e.must_fail, "a fragment the docs refuse was accepted");
    check((r.status == ReassemblyStatus::complete) == f.is_final, "complete exactly on a final fragment");
    Partial& p = model_[f.key];
    if (it == model_.end()) {
      p.started = now_;
      p.total = f.total;
    } else {
      ++p.next_sequence;
    }
    p.bytes.insert(p.bytes.end(), f.payload.begin(), f.payload.end());
    if (r.status == ReassemblyStatus::need_more) return;
    check(r.message.size() <= limits_.max_message_size, "a completed message is within max_message_size");
    check(!p.total || *p.total == p.bytes.size(), "a completed message has its declared length");
    check(same_bytes(r.message, p.bytes), "a completed message is byte-exact the payloads fed");
    model_.erase(f.key);
  }

  void check_limits() const {
    const ReassemblyStats stats{reassembler_.partials(), reassembler_.buffered_bytes(),
                                reassembler_.retained_bytes()};
    check(stats.partials <= limits_.max_partials, "partials <= max_partials");
    check(stats.buffered_bytes <= limits_.max_buffered_bytes, "buffered_bytes <= max_buffered_bytes");
    check(stats.retained_bytes <= limits_.retained_buffer_bytes, "retained_bytes <= retained_buffer_bytes");
    check(stats.partials == model_.size(), "partials() counts the messages in reassembly");
    std::size_t held = 0;
    for (const auto& [key, p] : model_) held += p.bytes.size();
    check(stats.buffered_bytes >= held, "buffered_bytes holds the bytes in reassembly");
    check(!model_.empty() || stats.buffered_bytes == 0, "nothing buffered when nothing is in reassembly");
    if constexpr (!multiplexed) check(stats.partials <= 1, "LenFlag32K: one message at a time");
  }

  ReassemblyLimits limits_;
  wireframe::Reassembler<Strategy> reassembler_;
  time_point now_;
  std::map<std::uint64_t, Partial> model_;
};

// A message id from one byte: mostly 0..3 so that messages meet, sometimes a large one.
std::uint64_t id_from(std::uint8_t b) {
  return (b & 0x80) != 0 ? b * std::uint64_t{0x01010101} : b & 3U;
}

// A declared total around `base` (the first fragment's length): near it, far above it, or the
// largest u64. Wraps below 0 on purpose (a huge total).
std::uint64_t total_from(std::uint8_t t, std::uint64_t base) {
  if (t == 0xff) return ~std::uint64_t{0};
  if (t < 0x80) return base + t - 16;
  return base + static_cast<std::uint64_t>(t - 0x80) * 4093;
}

// The sending side of the well-formed fragments: the sequence number each message id is at
// (a real sender goes on after the receiver dropped its message; the input may still skew it).
using SenderSequences = std::map<std::uint64_t, std::uint32_t>;

// A fragment whose header is written by the strategy's own encode_header(), from input values.
template <class Strategy>
Bytes build_fragment(SenderSequences& sender, Input& in, std::uint8_t op) {
  constexpr bool multiplexed = std::is_same_v<Strategy, Multiplexed>;
  const std::uint8_t id_byte = in.byte();
  const std::uint64_t id = id_from(id_byte);
  std::size_t len = length_from(in.byte());
  if constexpr (!multiplexed) len = std::min(len, LenFlag32K::max_payload_limit);
  FragmentMeta meta;
  meta.payload_length = len;
  meta.is_final = (op & 0x08) != 0;
  meta.message_id = id;
  std::uint32_t& next = sender[id];
  std::uint32_t sequence = next;
  if ((op & 0x20) != 0) sequence += static_cast<std::uint32_t>(static_cast<std::int8_t>(in.byte()));
  meta.sequence = sequence;
  next = meta.is_final ? 0 : sequence + 1;
  if ((op & 0x10) != 0) meta.total_length = total_from(in.byte(), len);
  const Bytes payload = make_payload(in, len, (op & 0x40) != 0, id_byte);

  const Strategy strategy{};
  const NoFrame frame_type;
  Bytes frame(strategy.header_size(meta, frame_type) + len);
  const std::size_t header = strategy.encode_header(meta, frame_type, frame);
  check(header + len == frame.size(), "encode_header writes header_size() bytes");
  std::copy(payload.begin(), payload.end(), frame.begin() + static_cast<std::ptrdiff_t>(header));
  if ((op & 0x80) != 0) {  // one corrupted byte: header errors, or a payload still fine
    const std::size_t at = in.byte();
    const auto mask = static_cast<std::byte>(in.byte() | 1U);
    frame[at % frame.size()] ^= mask;
  }
  return frame;
}

void feed_raw(auto& h, Input& in) {
  const auto bytes = in.take(in.byte());
  Bytes frame(bytes.size());
  std::transform(bytes.begin(), bytes.end(), frame.begin(), [](std::uint8_t b) { return std::byte{b}; });
  (void)h.feed(frame);
}

void clock_op(auto& h, Input& in) {
  const std::uint8_t m = in.byte();
  switch (m & 3) {
    case 0: h.advance(std::chrono::milliseconds(m >> 2)); break;
    case 1: h.advance(std::chrono::milliseconds((m >> 2) * 16) + std::chrono::nanoseconds(1)); break;
    case 2: h.expire_near_deadline(false); break;
    default: h.expire_near_deadline(true); break;
  }
}

// Feeds the fragments of `message` in order. Within the limits it must come back byte-exact;
// otherwise it must not complete, and a fresh reassembler refuses it with message_too_large.
template <class Strategy>
void feed_message(Harness<Strategy>& h, const std::vector<Bytes>& frames, const Bytes& message, bool within,
                  bool fresh) {
  std::size_t errors = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const ReassemblyResult r = h.feed(frames[i]);
    const bool last = i + 1 == frames.size();
    if (within) {
      check(r.status == (last ? ReassemblyStatus::complete : ReassemblyStatus::need_more),
            "round trip: a message within the limits is accepted");
      if (last) {
        check(same_bytes(r.message, message), "round trip: the message comes back byte-exact");
      }
      continue;
    }
    check(r.status != ReassemblyStatus::complete, "round trip: a message over the limits never completes");
    if (!fresh) continue;
    if (errors != 0) check(r.status == ReassemblyStatus::skipped, "round trip: the rest of a refused message is skipped");
    if (r.status == ReassemblyStatus::error) {
      ++errors;
      check(r.error == fragment_errc::message_too_large, "round trip: an oversized message is message_too_large");
    }
  }
  if (!within && fresh) check(errors == 1, "round trip: an oversized message is reported once");
}

template <class Strategy>
std::vector<Bytes> split(const Bytes& message, std::size_t cap, std::uint64_t id) {
  Fragmenter<Strategy, NoFrame> fragmenter{Strategy(cap)};
  const NoFrame frame_type;
  fragmenter.reset(frame_type, message, id);
  const std::size_t count = fragmenter.fragment_count();
  std::vector<Bytes> frames;
  while (!fragmenter.done()) {
    Bytes frame(fragmenter.next_fragment_size());
    check(frame.size() <= Strategy::max_header_size() + cap, "a fragment is at most header + cap");
    check(fragmenter.write_next(frame) == frame.size(), "write_next writes next_fragment_size() bytes");
    frames.push_back(std::move(frame));
  }
  check(frames.size() == count, "fragment_count() is the number of fragments written");
  return frames;
}

// A message from the input, split by the Fragmenter and fed in order: into the fuzzed
// reassembler when it cannot collide with a message there, else into a fresh one.
template <class Strategy>
void round_trip(Harness<Strategy>& h, SenderSequences& sender, Input& in) {
  constexpr bool multiplexed = Harness<Strategy>::multiplexed;
  const std::uint64_t id = id_from(in.byte());
  const std::uint8_t cap_byte = in.byte();
  const std::uint8_t size_byte = in.byte();
  const std::uint8_t seed = in.byte();
  const std::size_t size = length_from(size_byte) * ((seed & 4) != 0 ? 8 : 1);  // up to ~1 MiB
  const Bytes message = make_payload(in, size, (seed & 1) != 0, seed);
  std::size_t cap = (1 + std::size_t{cap_byte}) * ((seed & 2) != 0 ? 128 : 1);
  cap = std::max(cap, (size + 511) / 512);  // at most 512 fragments
  if constexpr (!multiplexed) cap = std::min(cap, LenFlag32K::max_payload_limit);
  const std::vector<Bytes> frames = split<Strategy>(message, cap, id);
  sender[id] = 0;  // this id's next message starts at sequence 0

  const auto& r = h.reassembler();
  const bool shared = multiplexed ? !h.in_reassembly(id) : r.partials() == 0 && r.discarding() == 0;
  if (!shared) {
    Harness<Strategy> fresh(h.limits(), h.now());
    feed_message(fresh, frames, message, size <= h.limits().max_message_size, true);
    return;
  }
  const ReassemblyLimits& l = h.limits();
  const bool within = size <= l.max_message_size &&
                      (frames.size() == 1 ||
                       (r.partials() < l.max_partials && size <= l.max_buffered_bytes - r.buffered_bytes()));
  feed_message(h, frames, message, within, false);
}

// Beyond this many made-up payload bytes the rest of an input is ignored (speed: a few large
// messages reach every buffer path; dozens only fault in fresh pages).
constexpr std::size_t max_generated_bytes = 4 << 20;

template <class Strategy>
void run(Input& in, const ReassemblyLimits& limits) {
  Harness<Strategy> h(limits, time_point(std::chrono::hours(1)));
  SenderSequences sender;
  while (!in.empty() && in.generated() < max_generated_bytes) {
    const std::uint8_t op = in.byte();
    switch (op & 7) {
      case 0:
      case 1:
      case 2: (void)h.feed(build_fragment<Strategy>(sender, in, op)); break;
      case 3: feed_raw(h, in); break;
      case 4: clock_op(h, in); break;
      case 5: h.release(); break;
      case 6: round_trip(h, sender, in); break;
      default: h.trim(); break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const bool multiplexed = size != 0 && (data[0] & 1) != 0;
  const ReassemblyLimits limits = limits_from(in);  // always valid: the constructor never throws
  if (multiplexed) {
    run<Multiplexed>(in, limits);
  } else {
    run<LenFlag32K>(in, limits);
  }
  return 0;
}
