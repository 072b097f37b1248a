#pragma once
// Reassembler: the inbound half of fragmentation for ONE connection. The connection feeds it
// every frame body the codec finds; it answers, per frame:
//
//   need_more  the fragment was accepted, its message is not complete yet;
//   complete   a whole message: `message` views its bytes until the next feed()/release().
//              A message sent as a single final fragment is NOT copied: `message` then points
//              into the frame that was fed (so it is only valid as long as that frame is, too).
//              A message of several fragments is the reassembled buffer, owned here.
//   skipped    the fragment belongs to a message already dropped with an error (reported once,
//              when it was dropped); it is ignored until that message's final fragment.
//   error      `error` (a fragment_errc) says what happened, `message_id` which message (empty
//              for strategies without ids, and for bad headers) and `dropped_bytes` how many
//              payload bytes of it were discarded. Other messages in reassembly are unaffected.
//
// Hardening, all configurable in ReassemblyLimits and all enforced here:
//   - max_message_size: a declared total above it is refused on the first fragment, before any
//     allocation; without a declared total, the fragment that would take a message past it is
//     refused before the buffer grows. Buffers never grow beyond max_message_size.
//   - reassembly_timeout: cannot be switched off (zero or negative throws at construction). It
//     bounds how long a message may stay in reassembly, counted from its FIRST fragment (not
//     from the last activity), so a peer trickling fragments cannot pin memory. feed() does not
//     look at the clock except to stamp new messages: the connection arms one timer at
//     next_deadline() and calls expire() when it fires.
//   - max_partials: messages in reassembly at once (a single final fragment needs none).
//   - max_buffered_bytes: bytes held by all messages in reassembly (buffer capacity, which is
//     what is actually allocated). buffered_bytes() never exceeds it.
// Memory: one allocation per message when the total length is declared (reserved exactly);
// otherwise geometric growth capped at max_message_size. A completed message's buffer is freed
// at the next feed() or release(); it is not counted in buffered_bytes(). With
// retained_buffer_bytes > 0 a freed buffer up to that size is kept instead and reused by the
// next message it can hold, so a stream of large messages allocates (and page-faults) once.
// Real memory follows buffered_bytes(): a buffer is a detail::LargeBlock (large_block.hpp),
// which above 256 KiB grows in place (mremap on Linux) instead of copying into a second
// allocation, so growth never holds the old and the new buffer at once.
//
// Single-threaded (one connection's executor), no locks, no exceptions after construction:
// feed() and expire() report everything as values; an allocation failure is reported as
// buffer_limit.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "wireframe/buffer/large_block.hpp"
#include "wireframe/fragment/fragment_error.hpp"
#include "wireframe/fragment/fragment_meta.hpp"
#include "wireframe/fragment/fragment_strategy.hpp"

namespace wireframe {

struct ReassemblyLimits {
  static constexpr std::size_t default_max_message_size = 16 * 1024 * 1024;
  static constexpr std::size_t default_max_partials = 16;
  static constexpr std::size_t default_max_buffered_bytes = 32 * 1024 * 1024;
  static constexpr std::chrono::nanoseconds default_reassembly_timeout = std::chrono::seconds(30);

  // Largest reassembled message, in bytes (16 MiB).
  std::size_t max_message_size = default_max_message_size;
  // Longest a message may stay in reassembly, from its first fragment (30 s). Must be > 0.
  std::chrono::nanoseconds reassembly_timeout = default_reassembly_timeout;
  // Messages in reassembly at once on the connection (16). Must be >= 1.
  std::size_t max_partials = default_max_partials;
  // Bytes buffered by all messages in reassembly on the connection (32 MiB).
  // Must be >= max_message_size, or the largest allowed message could never be reassembled.
  std::size_t max_buffered_bytes = default_max_buffered_bytes;
  // A completed message's buffer up to this capacity is kept for the next message instead of
  // being freed (0, the default: nothing is kept). Memory held by an idle connection, on top of
  // max_buffered_bytes, in exchange for not allocating fresh memory per large message.
  std::size_t retained_buffer_bytes = 0;
};

enum class ReassemblyStatus { need_more, complete, skipped, error };

struct ReassemblyResult {
  ReassemblyStatus status = ReassemblyStatus::need_more;
  std::span<const std::byte> message{};        // status == complete
  std::optional<std::uint64_t> message_id{};   // when the strategy carries message ids
  std::error_code error{};                     // status == error: a fragment_errc
  std::size_t dropped_bytes = 0;               // status == error: payload bytes discarded
};

template <FragmentDecoder Strategy, class Clock = std::chrono::steady_clock>
class Reassembler {
 public:
  using clock = Clock;
  using time_point = typename Clock::time_point;
  using duration = typename Clock::duration;

  // Throws std::invalid_argument for a zero or negative timeout, max_partials == 0, or
  // max_buffered_bytes < max_message_size: configuration mistakes, caught once.
  explicit Reassembler(ReassemblyLimits limits = {}) : Reassembler(Strategy{}, limits) {}
  Reassembler(Strategy strategy, ReassemblyLimits limits)
      : strategy_(std::move(strategy)), limits_(checked(limits)),
        timeout_(std::chrono::ceil<duration>(limits.reassembly_timeout)) {}

  // Processes one codec frame body (a whole fragment). See the top of this file.
  [[nodiscard]] ReassemblyResult feed(std::span<const std::byte> frame, time_point now) noexcept {
    if (delivered_.capacity() != 0) release();
    const FragmentHeaderDecode h = strategy_.decode_header(frame);
    if (h.status != FragmentHeaderStatus::ok || h.header_length > frame.size() ||
        frame.size() - h.header_length != h.meta.payload_length) {
      std::error_code ec = fragment_errc::bad_header;
      if (h.status == FragmentHeaderStatus::error && h.error) ec = h.error;
      return failed(ec, std::nullopt, frame.size());
    }
    const FragmentMeta& meta = h.meta;
    const auto payload = frame.subspan(h.header_length, meta.payload_length);
    const std::size_t len = payload.size();
    const std::uint64_t key = meta.message_id.value_or(0);
    const auto& id = meta.message_id;

    // The common case on a busy connection: a whole message in one fragment while nothing is
    // in reassembly. Delivered in place (zero copy); the general path below decides the same.
    if (meta.is_final && partials_.empty() && discards_.empty() && meta.sequence.value_or(0) == 0 &&
        !meta.total_length && len <= limits_.max_message_size) {
      return {ReassemblyStatus::complete, payload, id, {}, 0};
    }

    // A message dropped earlier: swallow the rest of it (reported once already). Sequence 0
    // is the start of a new message with that id.
    if (const auto d = find_discard(key); d != discards_.size()) {
      if (meta.sequence.value_or(1) != 0) {
        if (meta.is_final) erase_discard(d);
        return {ReassemblyStatus::skipped, {}, id, {}, 0};
      }
      erase_discard(d);
    }

    const auto pi = find_partial(key);
    if (pi == partials_.size()) return start_message(meta, payload, now);

    // Continuing a message in reassembly.
    Partial& p = partials_[pi];
    if (meta.sequence && *meta.sequence != p.next_sequence) {
      const std::uint32_t s = *meta.sequence;
      const fragment_errc e = s > p.next_sequence              ? fragment_errc::sequence_gap
                              : s + 1 == p.next_sequence ? fragment_errc::duplicate_fragment
                                                               : fragment_errc::out_of_order;
      return drop(pi, e, len, meta.is_final, now);
    }
    const std::size_t size = p.size;
    // len <= frame.size() and size <= max_message_size: no overflow below.
    if (p.total && (len > *p.total - size || (meta.is_final && size + len != *p.total))) {
      return drop(pi, fragment_errc::length_mismatch, len, meta.is_final, now);
    }
    if (len > limits_.max_message_size - size) {
      return drop(pi, fragment_errc::message_too_large, len, meta.is_final, now);
    }
    if (!grow(p, size + len)) return drop(pi, fragment_errc::buffer_limit, len, meta.is_final, now);
    append(p, payload);
    ++p.next_sequence;
    if (!meta.is_final) return {ReassemblyStatus::need_more, {}, id, {}, 0};

    buffered_ -= p.data.capacity();
    const std::span<const std::byte> message(p.data.data(), p.size);
    delivered_ = std::move(p.data);  // the bytes stay where they are
    erase_partial(pi);
    return {ReassemblyStatus::complete, message, id, {}, 0};
  }

  // Drops every message whose reassembly_timeout has passed at `now` and calls
  // `report(const ReassemblyResult&)` once for each (status error, reassembly_timeout, its id
  // and dropped bytes). Returns how many were dropped. The state is updated before each report.
  // Fragments of a dropped message that still arrive are answered `skipped` up to its final
  // fragment, or until another reassembly_timeout has passed.
  template <class Report>
  std::size_t expire(time_point now, Report&& report) {
    std::size_t n = 0;
    for (std::size_t i = discards_.size(); i-- > 0;) {
      if (deadline(discards_[i].started) <= now) erase_discard(i);
    }
    for (std::size_t i = partials_.size(); i-- > 0;) {
      if (deadline(partials_[i].started) > now) continue;
      const ReassemblyResult r{ReassemblyStatus::error, {}, partials_[i].id,
                               fragment_errc::reassembly_timeout, partials_[i].size};
      // Its late fragments are skipped (for one more timeout), like those of any dropped
      // message: without ids (LenFlag32K) they would otherwise pass for a new message.
      add_discard(partials_[i].key, now);
      buffered_ -= partials_[i].data.capacity();
      erase_partial(i);
      ++n;
      report(r);
    }
    return n;
  }
  std::size_t expire(time_point now) noexcept {
    return expire(now, [](const ReassemblyResult&) noexcept {});
  }

  // The earliest time at which expire() has something to do; empty when nothing is pending.
  [[nodiscard]] std::optional<time_point> next_deadline() const noexcept {
    std::optional<time_point> earliest;
    for (const auto& p : partials_) {
      if (!earliest || p.started < *earliest) earliest = p.started;
    }
    for (const auto& d : discards_) {
      if (!earliest || d.started < *earliest) earliest = d.started;
    }
    if (earliest) earliest = deadline(*earliest);
    return earliest;
  }

  // Frees the buffer of the last completed message (the span feed() returned dies with it).
  // With retained_buffer_bytes, the buffer is kept for reuse instead.
  void release() noexcept {
    const std::size_t cap = delivered_.capacity();
    if (cap != 0 && cap <= limits_.retained_buffer_bytes && cap > spare_.capacity()) {
      spare_ = std::move(delivered_);  // frees the smaller spare
    }
    delivered_.release();
  }

  // Frees the retained buffer (see ReassemblyLimits::retained_buffer_bytes).
  void trim() noexcept { spare_.release(); }
  // Capacity of the retained buffer (not part of buffered_bytes()).
  [[nodiscard]] std::size_t retained_bytes() const noexcept { return spare_.capacity(); }

  // Forgets everything without reporting (the connection is closing).
  void clear() noexcept {
    release();
    trim();
    partials_.clear();
    discards_.clear();
    buffered_ = 0;
  }

  // Messages currently in reassembly.
  [[nodiscard]] std::size_t partials() const noexcept { return partials_.size(); }
  // Dropped messages whose remaining fragments are being skipped.
  [[nodiscard]] std::size_t discarding() const noexcept { return discards_.size(); }
  // Bytes allocated for messages in reassembly (<= max_buffered_bytes).
  [[nodiscard]] std::size_t buffered_bytes() const noexcept { return buffered_; }
  [[nodiscard]] const ReassemblyLimits& limits() const noexcept { return limits_; }
  [[nodiscard]] const Strategy& strategy() const noexcept { return strategy_; }

 private:
  // Container choice: a connection has a handful of messages in reassembly at a time (16 at
  // most by default, usually 0 or 1). A flat vector scanned linearly by id touches one or two
  // cache lines, needs no hashing and no per-node allocation, and removal is swap-and-pop since
  // order does not matter; a hash map would cost more per lookup at this size and allocate per
  // entry. With max_partials in the thousands a map would win, which is not a sane setting.
  struct Partial {
    std::uint64_t key = 0;
    std::optional<std::uint64_t> id{};
    std::uint32_t next_sequence = 0;
    std::optional<std::uint64_t> total{};
    time_point started{};
    std::size_t size = 0;      // bytes received so far, at the front of `data`
    detail::LargeBlock data{};  // capacity() is what buffered_bytes() counts
  };
  // A message dropped with an error whose later fragments are skipped (bounded by max_partials;
  // the oldest is forgotten when full, which only turns its later fragments into missing_first
  // errors for strategies with sequence numbers).
  struct Discard {
    std::uint64_t key = 0;
    time_point started{};
  };

  static constexpr std::size_t min_initial_capacity = 4096;

  static ReassemblyLimits checked(const ReassemblyLimits& l) {
    if (l.reassembly_timeout <= std::chrono::nanoseconds::zero()) {
      throw std::invalid_argument("ReassemblyLimits: reassembly_timeout must be positive (it cannot be disabled)");
    }
    if (l.max_partials == 0) throw std::invalid_argument("ReassemblyLimits: max_partials must be at least 1");
    if (l.max_buffered_bytes < l.max_message_size) {
      throw std::invalid_argument("ReassemblyLimits: max_buffered_bytes must be >= max_message_size");
    }
    return l;
  }

  static ReassemblyResult failed(std::error_code ec, const std::optional<std::uint64_t>& id,
                                 std::size_t dropped) noexcept {
    return {ReassemblyStatus::error, {}, id, ec, dropped};
  }

  [[nodiscard]] time_point deadline(time_point started) const noexcept {
    return started > time_point::max() - timeout_ ? time_point::max() : started + timeout_;
  }

  [[nodiscard]] std::size_t find_partial(std::uint64_t key) const noexcept {
    std::size_t i = 0;
    while (i < partials_.size() && partials_[i].key != key) ++i;
    return i;
  }
  [[nodiscard]] std::size_t find_discard(std::uint64_t key) const noexcept {
    std::size_t i = 0;
    while (i < discards_.size() && discards_[i].key != key) ++i;
    return i;
  }
  void erase_partial(std::size_t i) noexcept {
    if (i + 1 != partials_.size()) partials_[i] = std::move(partials_.back());
    partials_.pop_back();
  }
  void erase_discard(std::size_t i) noexcept {
    discards_[i] = discards_.back();
    discards_.pop_back();
  }

  // Remembers that the rest of message `key` is to be skipped.
  void add_discard(std::uint64_t key, time_point now) noexcept {
    if (discards_.size() >= limits_.max_partials) {
      const auto oldest = std::min_element(discards_.begin(), discards_.end(),
                                           [](const Discard& a, const Discard& b) { return a.started < b.started; });
      *oldest = Discard{key, now};
      return;
    }
    try {
      discards_.push_back(Discard{key, now});
    } catch (...) {  // out of memory: the rest of the message is then reported, not skipped
    }
  }

  // Drops message `pi` in reassembly: reports `e` with everything it held plus this fragment.
  ReassemblyResult drop(std::size_t pi, fragment_errc e, std::size_t fragment_len, bool is_final,
                        time_point now) noexcept {
    Partial& p = partials_[pi];
    const ReassemblyResult r{ReassemblyStatus::error, {}, p.id, e, p.size + fragment_len};
    if (!is_final) add_discard(p.key, now);
    buffered_ -= p.data.capacity();
    erase_partial(pi);
    return r;
  }

  // A fragment whose message has nothing in reassembly.
  ReassemblyResult start_message(const FragmentMeta& meta, std::span<const std::byte> payload,
                                 time_point now) noexcept {
    const std::size_t len = payload.size();
    const std::uint64_t key = meta.message_id.value_or(0);
    const auto& id = meta.message_id;
    auto refuse = [&](fragment_errc e) noexcept {
      if (!meta.is_final) add_discard(key, now);
      return failed(e, id, len);
    };
    if (meta.sequence.value_or(0) != 0) return refuse(fragment_errc::missing_first);
    if (meta.total_length && *meta.total_length > limits_.max_message_size) {
      return refuse(fragment_errc::message_too_large);
    }
    if (len > limits_.max_message_size) return refuse(fragment_errc::message_too_large);
    if (meta.total_length && (*meta.total_length < len || (meta.is_final && *meta.total_length != len))) {
      return refuse(fragment_errc::length_mismatch);
    }
    if (meta.is_final) {  // the whole message in one fragment: zero copy
      return {ReassemblyStatus::complete, payload, id, {}, 0};
    }
    if (partials_.size() >= limits_.max_partials) return refuse(fragment_errc::too_many_partials);

    Partial p;
    p.key = key;
    p.id = id;
    p.next_sequence = 1;
    p.started = now;
    p.total = meta.total_length;
    const std::size_t budget = limits_.max_buffered_bytes - buffered_;
    std::size_t want = 0;
    if (p.total) {
      want = static_cast<std::size_t>(*p.total);  // exactly, once
      if (want > budget) return refuse(fragment_errc::buffer_limit);
    } else if (len != 0) {
      want = std::min(std::max(len > limits_.max_message_size / 2 ? len : 2 * len, min_initial_capacity),
                      limits_.max_message_size);
      if (want > budget) want = len;
      if (want > budget) return refuse(fragment_errc::buffer_limit);
    }
    if (want != 0 && !reserve(p, want, budget)) return refuse(fragment_errc::buffer_limit);
    append(p, payload);
    try {
      partials_.push_back(std::move(p));
    } catch (...) {
      return refuse(fragment_errc::buffer_limit);
    }
    buffered_ += partials_.back().data.capacity();
    return {ReassemblyStatus::need_more, {}, id, {}, 0};
  }

  // Makes room for `needed` bytes in `p` (needed <= max_message_size), geometrically but never
  // beyond max_message_size nor the connection's budget. False if the budget does not allow it.
  bool grow(Partial& p, std::size_t needed) noexcept {
    const std::size_t cap = p.data.capacity();
    if (needed <= cap) return true;
    const std::size_t budget = limits_.max_buffered_bytes - (buffered_ - cap);
    std::size_t want = cap == 0 ? min_initial_capacity : doubled(cap);
    want = std::min(std::max(want, needed), limits_.max_message_size);
    if (want > budget) want = needed;
    if (want > budget) return false;
    if (!reserve(p, want, budget)) return false;
    buffered_ = buffered_ - cap + p.data.capacity();
    return true;
  }

  // The next geometric step after `cap`, capped at max_message_size.
  [[nodiscard]] std::size_t doubled(std::size_t cap) const noexcept {
    return cap > limits_.max_message_size / 2 ? limits_.max_message_size : 2 * cap;
  }

  // Capacity for `n` bytes in `p`, taking the retained buffer when `p` holds nothing yet and
  // the spare is large enough and still within `budget` (the capacity `p` may have), else
  // growing to `n`: in place above 256 KiB (LargeBlock), so that the old and the new buffer are
  // never both resident and real memory stays within the budget too. A buffer that becomes
  // pages may take warm ones the thread has cached (instead of faulting in fresh ones) up to the
  // next growth step within the budget; a declared total gets exactly its size.
  bool reserve(Partial& p, std::size_t n, std::size_t budget) noexcept {
    if (p.size == 0 && p.data.capacity() < n && spare_.capacity() >= n && spare_.capacity() <= budget) {
      p.data = std::move(spare_);  // reuse: no allocation, no fresh pages
      return true;
    }
    const std::size_t up_to = p.total ? n : std::min(doubled(n), budget);
    return p.data.grow(n, p.size, up_to);
  }

  // Appends a fragment's payload; the caller made room (grow/reserve).
  static void append(Partial& p, std::span<const std::byte> payload) noexcept {
    if (payload.empty()) return;  // `data` may still be unallocated
    std::memcpy(p.data.data() + p.size, payload.data(), payload.size());
    p.size += payload.size();
  }

  Strategy strategy_;
  ReassemblyLimits limits_;
  duration timeout_;
  std::vector<Partial> partials_;
  std::vector<Discard> discards_;
  detail::LargeBlock delivered_;  // the last completed message's buffer
  detail::LargeBlock spare_;      // a retained buffer (retained_buffer_bytes)
  std::size_t buffered_ = 0;
};

}  // namespace wireframe
