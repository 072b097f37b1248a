#pragma once
// Fragmenter: outbound splitting of ONE logical message into fragments, one fragment at a time.
//
// The writer asks for the next fragment's size, has the codec write a frame of that size and
// fills its body with write_next(); between two fragments it may write any other frame (e.g. a
// high-priority push, interleaved as the Multiplexed strategy allows). The only copy is the one
// of each payload slice into the destination frame body.
//
//   Fragmenter<Multiplexed, Envelope> f;
//   f.reset(envelope, encoded_bytes, message_id);
//   while (!f.done()) {
//     auto ec = codec.encode(f.next_fragment_size(), write_buffer,
//                            [&](std::span<std::byte> body) { f.write_next(body); });
//     ...
//   }
//
// A message that fits in one fragment becomes a single final fragment (overhead: the header
// only); an empty message is one final fragment with an empty payload. The logical frame and
// the encoded bytes are referenced, not copied: both must stay alive and unchanged until done()
// or the next reset(). The encoded bytes may come in two parts, a head and a body (a packet's
// header encoded apart and its payload where it lives), so that a large payload is never copied
// next to its header first. Single-threaded, like everything of one connection.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>

#include "wireframe/fragment/fragment_meta.hpp"
#include "wireframe/fragment/fragment_strategy.hpp"

namespace wireframe {

// The payload of one fragment as it lies in the message: the end of the message's head, then
// a part of its body (either may be empty).
struct FragmentPayload {
  std::span<const std::byte> head;
  std::span<const std::byte> body;
  [[nodiscard]] std::size_t size() const noexcept { return head.size() + body.size(); }
};

template <class Strategy, class Frame>
  requires FragmentStrategy<Strategy, Frame>
class Fragmenter {
 public:
  Fragmenter() = default;
  explicit Fragmenter(Strategy strategy) noexcept(std::is_nothrow_move_constructible_v<Strategy>)
      : strategy_(std::move(strategy)) {}

  // Starts splitting `encoded_message`, the encoded bytes of `logical_frame`. `message_id` is
  // written by strategies that carry one (Multiplexed: its low 32 bits); ignored otherwise.
  void reset(const Frame& logical_frame, std::span<const std::byte> encoded_message,
             std::uint64_t message_id) noexcept {
    reset(logical_frame, {}, encoded_message, message_id);
  }
  // The same for a message encoded in two parts: `head`, then `body`.
  void reset(const Frame& logical_frame, std::span<const std::byte> head, std::span<const std::byte> body,
             std::uint64_t message_id) noexcept {
    frame_ = &logical_frame;
    head_ = head;
    message_ = body;
    offset_ = 0;
    sequence_ = 0;
    id_ = message_id;
    // A cap of 0 would never make progress; a conforming strategy returns >= 1 anyway.
    cap_ = std::max<std::size_t>(1, strategy_.max_fragment_payload(logical_frame));
    pending_ = true;
  }

  // True when every fragment of the current message has been written (or before any reset()).
  [[nodiscard]] bool done() const noexcept { return !pending_; }

  // Size of the next fragment's frame body: header + payload slice. 0 when done().
  [[nodiscard]] std::size_t next_fragment_size() const noexcept {
    if (!pending_) return 0;
    const FragmentMeta meta = next_meta();
    return strategy_.header_size(meta, *frame_) + meta.payload_length;
  }

  // Writes the next fragment (header, then payload slice) into `dst` and advances. `dst` must
  // hold next_fragment_size() bytes; returns the bytes written (0, and nothing advanced, when
  // done() or when `dst` is too small).
  std::size_t write_next(std::span<std::byte> dst) noexcept {
    if (!pending_) return 0;
    const FragmentMeta meta = next_meta();
    const std::size_t header = strategy_.header_size(meta, *frame_);
    if (dst.size() < header + meta.payload_length) return 0;
    const std::size_t written = strategy_.encode_header(meta, *frame_, dst.first(header));
    const FragmentPayload p = advance(meta);
    if (!p.head.empty()) std::memcpy(dst.data() + written, p.head.data(), p.head.size());
    if (!p.body.empty()) std::memcpy(dst.data() + written + p.head.size(), p.body.data(), p.body.size());
    return written + meta.payload_length;
  }

  // Size of the next fragment's header alone (0 when done()).
  [[nodiscard]] std::size_t next_header_size() const noexcept {
    return pending_ ? strategy_.header_size(next_meta(), *frame_) : 0;
  }

  // For gather writes: writes only the next fragment's header into `dst` (exactly
  // next_header_size() bytes), advances, and returns the payload slices that must follow it on
  // the wire: views into the message, so the payload itself is never copied here. Returns empty
  // slices, and advances nothing, when done() or when `dst` has the wrong size.
  FragmentPayload write_next_header(std::span<std::byte> dst) noexcept {
    if (!pending_) return {};
    const FragmentMeta meta = next_meta();
    if (dst.size() != strategy_.header_size(meta, *frame_)) return {};
    (void)strategy_.encode_header(meta, *frame_, dst);
    return advance(meta);
  }

  // The header of a message of `size` bytes sent whole, as one final fragment: what the
  // Fragmenter would write for it, without needing the message's bytes in memory first (the
  // connection encodes the packet straight behind the header).
  [[nodiscard]] static FragmentMeta single_fragment_meta(std::size_t size, std::uint64_t message_id) noexcept {
    FragmentMeta meta;
    meta.payload_length = size;
    meta.is_final = true;
    meta.message_id = message_id;
    meta.sequence = 0;
    meta.total_length = static_cast<std::uint64_t>(size);
    return meta;
  }

  // Fragments the whole current message takes (at least 1).
  [[nodiscard]] std::size_t fragment_count() const noexcept {
    return total() == 0 ? 1 : (total() + cap_ - 1) / cap_;
  }
  // Payload bytes not yet written.
  [[nodiscard]] std::size_t remaining_bytes() const noexcept { return total() - offset_; }
  [[nodiscard]] const Strategy& strategy() const noexcept { return strategy_; }

 private:
  [[nodiscard]] std::size_t total() const noexcept { return head_.size() + message_.size(); }

  [[nodiscard]] FragmentMeta next_meta() const noexcept {
    FragmentMeta meta;
    meta.payload_length = std::min(cap_, total() - offset_);
    meta.is_final = offset_ + meta.payload_length == total();
    meta.message_id = id_;
    meta.sequence = sequence_;
    if (sequence_ == 0) meta.total_length = static_cast<std::uint64_t>(total());
    return meta;
  }

  // The slices of the next fragment's payload (meta.payload_length bytes from offset_), then
  // past it.
  FragmentPayload advance(const FragmentMeta& meta) noexcept {
    FragmentPayload p;
    std::size_t from = offset_;
    std::size_t left = meta.payload_length;
    if (from < head_.size()) {
      p.head = head_.subspan(from, std::min(left, head_.size() - from));
      from += p.head.size();
      left -= p.head.size();
    }
    p.body = message_.subspan(from - head_.size(), left);
    offset_ += meta.payload_length;
    ++sequence_;
    if (meta.is_final) pending_ = false;
    return p;
  }

  Strategy strategy_{};
  const Frame* frame_ = nullptr;
  std::span<const std::byte> head_{};
  std::span<const std::byte> message_{};  // the body: after head_
  std::size_t offset_ = 0;
  std::size_t cap_ = 1;
  std::uint64_t id_ = 0;
  std::uint32_t sequence_ = 0;
  bool pending_ = false;
};

}  // namespace wireframe
