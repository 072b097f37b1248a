#pragma once
// FragmentAdapter<Strategy, Codec, Packet>: the frame processor between the codec and the
// Packet layer that makes a connection fragment (docs/fragmentation.md). One per connection,
// created by the app (WireframeApp::with_fragmentation) or a client; used only on that
// connection's executor, so it needs no locks.
//
//   inbound   codec frame body -> Reassembler -> whole message bytes -> Packet::decode_from
//   outbound  Packet -> fits one fragment?  yes: header + packet encoded in place, one frame
//                                           no:  its header (or, for packets that cannot
//                                                encode it alone, the whole packet) encoded
//                                                into the lane's buffer, then one fragment per
//                                                write_next()
//
// Outbound fragments are written with the codec's encode_prefix() when it has one
// (PrefixFrameCodec): the codec prefix and fragment header are appended to the write buffer and
// the payload goes out as borrowed slices of the lane's buffer and of the packet's own payload
// (SplitEncodablePacket), so a large message is never copied, nor held twice. Codecs without it
// get each fragment copied into the frame body.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/buffer/gather_buffer.hpp"
#include "wireframe/codec/frame_codec.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/fragment/fragment_layer.hpp"
#include "wireframe/fragment/fragment_strategy.hpp"
#include "wireframe/fragment/fragmenter.hpp"
#include "wireframe/fragment/reassembler.hpp"
#include "wireframe/packet/packet.hpp"

namespace wireframe {

template <class Strategy, FrameCodec C, Packet P>
  requires FragmentStrategy<Strategy, P>
class FragmentAdapter final : public detail::FragmentLayer<P> {
  using Base = detail::FragmentLayer<P>;
  using Lane = detail::Lane;
  using time_point = typename Base::clock::time_point;

 public:
  static constexpr bool interleaves = fragment_interleaving_v<Strategy>;
  // A lane's message buffer larger than this (or than ReassemblyLimits::retained_buffer_bytes,
  // if larger) is freed once its message has been written, so a connection that once sent a
  // huge message does not keep that much memory.
  static constexpr std::size_t default_retained_lane_buffer = 1024 * 1024;

  // Keeps a copy of `codec` (codecs are small values) to write fragment frames.
  FragmentAdapter(const C& codec, const Strategy& strategy, const ReassemblyLimits& limits)
      : codec_(codec), strategy_(strategy), reassembler_(strategy, limits),
        retained_lane_buffer_(std::max(default_retained_lane_buffer, limits.retained_buffer_bytes)) {
    for (auto& lane : lanes_) lane.fragmenter = Fragmenter<Strategy, P>(strategy);
  }

  // --- inbound -------------------------------------------------------------------------------

  ReassemblyResult feed(std::span<const std::byte> body, time_point now) noexcept override {
    return reassembler_.feed(body, now);
  }
  [[nodiscard]] std::optional<time_point> next_deadline() const noexcept override {
    return reassembler_.next_deadline();
  }
  std::size_t expire(time_point now, const typename Base::Report& report) override {
    return reassembler_.expire(now, report);
  }
  void release() noexcept override { reassembler_.release(); }
  [[nodiscard]] std::size_t buffered_bytes() const noexcept override { return reassembler_.buffered_bytes(); }
  [[nodiscard]] std::size_t partials() const noexcept override { return reassembler_.partials(); }
  [[nodiscard]] std::size_t retained_bytes() const noexcept override { return reassembler_.retained_bytes(); }

  // --- outbound ------------------------------------------------------------------------------

  std::optional<P> write(Lane lane, P&& frame, GatherBuffer& out, std::error_code& ec) override {
    const std::size_t n = frame.encoded_size();
    if (n <= strategy_.max_fragment_payload(frame)) {
      ec = write_single(frame, n, out);
      return std::move(frame);
    }
    LaneState& l = lanes_[index(lane)];
    l.frame.emplace(std::move(frame));
    if (auto e = start_lane_message(l, n)) {
      ec = e;
      return take_frame(l);
    }
    return write_next(lane, out, ec);
  }

  std::optional<P> write_next(Lane lane, GatherBuffer& out, std::error_code& ec) override {
    LaneState& l = lanes_[index(lane)];
    if (!l.frame) return std::nullopt;
    ec = write_fragment(l, out);
    if (ec) l.fragmenter = Fragmenter<Strategy, P>(strategy_);  // abandon the rest of it
    if (!l.fragmenter.done()) return std::nullopt;
    if (l.borrows_frame && l.in_flight) {  // the batch still borrows its payload: see reclaim()
      l.retired.emplace(std::move(*l.frame));
      l.frame.reset();
      return std::nullopt;
    }
    return take_frame(l);
  }

  std::error_code write_all(const P& frame, GatherBuffer& out) override {
    const std::size_t n = frame.encoded_size();
    if (n <= strategy_.max_fragment_payload(frame)) return write_single(frame, n, out);
    LaneState& l = lanes_[index(Lane::response)];
    // A second large message in the same batch: the first one's slices still borrow the
    // buffer, so this one gets a buffer of its own and its fragments are copied.
    ByteBuffer spare;
    ByteBuffer& encoded = l.in_flight ? spare : l.encoded;
    if (auto e = encode_message(frame, n, encoded)) return e;
    l.fragmenter.reset(frame, encoded.readable(), next_message_id());
    const bool borrow = !l.in_flight;
    while (!l.fragmenter.done()) {
      if (auto e = write_fragment(l, out, borrow)) {
        l.fragmenter = Fragmenter<Strategy, P>(strategy_);
        return e;
      }
    }
    return {};
  }

  [[nodiscard]] bool active(Lane lane) const noexcept override { return lanes_[index(lane)].frame.has_value(); }
  [[nodiscard]] bool ready(Lane lane) const noexcept override {
    const LaneState& l = lanes_[index(lane)];
    return !l.frame && !l.in_flight;
  }
  [[nodiscard]] std::optional<Lane> exclusive() const noexcept override {
    if constexpr (!interleaves) {
      for (std::size_t i = 0; i < detail::lane_count; ++i) {
        if (lanes_[i].frame) return static_cast<Lane>(i);
      }
    }
    return std::nullopt;
  }

  [[nodiscard]] std::size_t held_bytes(Lane lane) const noexcept override {
    const LaneState& l = lanes_[index(lane)];
    return l.frame ? l.frame->encoded_size() : 0;
  }

  [[nodiscard]] std::optional<P> reclaim(Lane lane) noexcept override {
    LaneState& l = lanes_[index(lane)];
    if (!l.retired || l.in_flight) return std::nullopt;
    std::optional<P> out(std::in_place, std::move(*l.retired));
    l.retired.reset();
    return out;
  }

  void written() noexcept override {
    for (auto& l : lanes_) {
      l.in_flight = false;  // a retired frame's payload is free now: reclaim() hands it back
      if (!l.frame && l.encoded.capacity() > retained_lane_buffer_) l.encoded.release();
    }
  }

  std::optional<P> abandon(Lane lane) noexcept override {
    LaneState& l = lanes_[index(lane)];
    l.fragmenter = Fragmenter<Strategy, P>(strategy_);
    if (!l.frame) return std::nullopt;
    return take_frame(l);
  }

  [[nodiscard]] const Strategy& strategy() const noexcept { return strategy_; }

 private:
  struct LaneState {
    std::optional<P> frame;                // the message being split (kept alive until done)
    std::optional<P> retired;              // a finished message whose payload the batch borrows
    ByteBuffer encoded;                    // its encoded bytes (or only its header): the payloads
    bool borrows_frame = false;            // the fragments' payloads are in `frame` itself
    Fragmenter<Strategy, P> fragmenter{};
    bool in_flight = false;                // `encoded` is referenced by the pending batch
  };

  static constexpr std::size_t index(Lane lane) noexcept { return static_cast<std::size_t>(lane); }

  // Moves the lane's frame out (precondition: it has one). Built in place: g++ 12 at -O1 with
  // TSan reports a false maybe-uninitialized on `optional<P> x = std::move(optional)`.
  static std::optional<P> take_frame(LaneState& l) {
    std::optional<P> out(std::in_place, std::move(*l.frame));
    l.frame.reset();
    return out;
  }

  // Ids of outbound messages, for strategies that carry one (Multiplexed writes the low 32
  // bits): a counter per connection, so the (at most three) messages in flight never collide.
  std::uint64_t next_message_id() noexcept { return ++last_id_; }

  // A message that fits: one final fragment, the packet encoded straight behind the header.
  std::error_code write_single(const P& frame, std::size_t n, GatherBuffer& out) {
    const FragmentMeta meta = Fragmenter<Strategy, P>::single_fragment_meta(n, next_message_id());
    const std::size_t header = strategy_.header_size(meta, frame);
    return codec_.encode(header + n, out.bytes(), [&](std::span<std::byte> body) {
      (void)strategy_.encode_header(meta, frame, body.first(header));
      frame.encode_to(body.subspan(header));
    });
  }

  // Starts splitting the lane's frame (of `n` encoded bytes). A packet that can encode its
  // header alone (SplitEncodablePacket) has only that encoded into the lane's buffer, and its
  // payload is fragmented where it lies: a large message is then held once, not twice. Others
  // are encoded whole into the lane's buffer.
  std::error_code start_lane_message(LaneState& l, std::size_t n) {
    const P& frame = *l.frame;
    if constexpr (SplitEncodablePacket<P> && PrefixFrameCodec<C>) {
      (void)n;
      const std::size_t header = frame.encoded_header_size();
      l.encoded.clear();
      const std::span<std::byte> dst = l.encoded.prepare(header);
      if (dst.size() != header) return make_error_code(errc::frame_too_large);
      frame.encode_header_to(dst);
      l.encoded.commit(header);
      l.fragmenter.reset(frame, l.encoded.readable(), frame.payload(), next_message_id());
      l.borrows_frame = true;
    } else {
      if (auto e = encode_message(frame, n, l.encoded)) return e;
      l.fragmenter.reset(frame, l.encoded.readable(), next_message_id());
      l.borrows_frame = false;
    }
    return {};
  }

  static std::error_code encode_message(const P& frame, std::size_t n, ByteBuffer& encoded) {
    encoded.clear();
    const std::span<std::byte> dst = encoded.prepare(n);
    if (dst.size() != n) return make_error_code(errc::frame_too_large);
    frame.encode_to(dst);
    encoded.commit(n);
    return {};
  }

  std::error_code write_fragment(LaneState& l, GatherBuffer& out, bool borrow = true) {
    Fragmenter<Strategy, P>& f = l.fragmenter;
    if constexpr (PrefixFrameCodec<C>) {
      if (borrow) return write_borrowed(l, out);
    }
    return codec_.encode(f.next_fragment_size(), out.bytes(),
                         [&f](std::span<std::byte> body) { (void)f.write_next(body); });
  }

  // Codec prefix and fragment header into the write buffer, the payload as a borrowed slice.
  std::error_code write_borrowed(LaneState& l, GatherBuffer& out)
    requires PrefixFrameCodec<C>
  {
    Fragmenter<Strategy, P>& f = l.fragmenter;
    const std::size_t header = f.next_header_size();
    if (auto ec = codec_.encode_prefix(f.next_fragment_size(), out.bytes())) return ec;
    const std::span<std::byte> dst = out.bytes().prepare(header);
    if (dst.size() != header) return make_error_code(errc::frame_too_large);
    const FragmentPayload payload = f.write_next_header(dst);
    out.bytes().commit(header);
    out.add_borrowed(payload.head);  // go out right after the header just committed
    out.add_borrowed(payload.body);
    l.in_flight = true;
    return {};
  }

  C codec_;
  Strategy strategy_;
  Reassembler<Strategy> reassembler_;
  std::array<LaneState, detail::lane_count> lanes_;  // default-initialised: ByteBuffer is explicit
  std::size_t retained_lane_buffer_;
  std::uint64_t last_id_ = 0;
};

}  // namespace wireframe
