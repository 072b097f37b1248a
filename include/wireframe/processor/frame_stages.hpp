#pragma once
// detail::FrameStages<T...>: a connection's frame processors (frame_processor.hpp), nearest the
// codec first, and detail::SealingCodec<C, T...>: the codec as the outbound path sees it, which
// reserves every stage's overhead around a frame body and lets the stages seal it. Shared by the
// connection actor and the client, so both ends run the same code. With no stages both reduce
// to the codec itself: the inbound fold is empty and encode() forwards.

#include <cstddef>
#include <span>
#include <system_error>
#include <tuple>
#include <utility>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/codec/frame_codec.hpp"
#include "wireframe/processor/frame_processor.hpp"

namespace wireframe::detail {

template <FrameProcessor... T>
class FrameStages {
 public:
  static constexpr bool empty = sizeof...(T) == 0;

  FrameStages() = default;
  explicit FrameStages(std::tuple<T...> stages) : stages_(std::move(stages)) {}

  // The frame through every stage, nearest the codec first; stops at the first that holds or
  // fails.
  InboundFrame inbound(std::span<const std::byte> frame, const FrameContext& ctx) {
    InboundFrame result = InboundFrame::pass(frame);
    std::apply([&](auto&... stage) { (void)(next(stage, result, ctx) && ...); }, stages_);
    return result;
  }

  // Bytes all stages add around a body.
  [[nodiscard]] FrameOverhead overhead() const noexcept {
    FrameOverhead total;
    std::apply([&](const auto&... stage) { ((add(total, stage.overhead())), ...); }, stages_);
    return total;
  }

  // `frame` is the whole frame body (`total`, the overhead() the caller sized it with, around the
  // encoded body): each stage writes its prefix and suffix, innermost (the last added) first, so
  // an outer checksum covers the inner stages' bytes too.
  void seal(std::span<std::byte> frame, FrameOverhead total) noexcept {
    seal_from<sizeof...(T)>(frame, total);
  }

 private:
  template <class S>
  static bool next(S& stage, InboundFrame& result, const FrameContext& ctx) {
    result = stage.inbound(result.frame, ctx);
    return result.status == InboundFrame::Status::pass;
  }

  static void add(FrameOverhead& total, const FrameOverhead& o) noexcept {
    total.prefix += o.prefix;
    total.suffix += o.suffix;
  }

  // Seals stages [0, N) from the innermost out; `outer` is the overhead of stages [0, N).
  template <std::size_t N>
  void seal_from(std::span<std::byte> frame, FrameOverhead outer) noexcept {
    if constexpr (N > 0) {
      auto& stage = std::get<N - 1>(stages_);
      const FrameOverhead own = stage.overhead();
      outer.prefix -= own.prefix;
      outer.suffix -= own.suffix;
      stage.outbound(frame.subspan(outer.prefix, frame.size() - outer.prefix - outer.suffix));
      seal_from<N - 1>(frame, outer);
    }
  }

  std::tuple<T...> stages_;
};

// The codec under a connection's frame stages, for the outbound path (inbound, the caller runs
// FrameStages::inbound on what decode() found, since a stage may hold a frame). Points at the
// app's codec and the connection's stages: both outlive it.
template <FrameCodec C, FrameProcessor... T>
class SealingCodec {
 public:
  SealingCodec(const C& codec, FrameStages<T...>& stages) noexcept
      : codec_(&codec), stages_(&stages) {}

  DecodeResult decode(std::span<const std::byte> input) const { return codec_->decode(input); }

  template <class Fill>
  std::error_code encode(std::size_t body_len, ByteBuffer& out, Fill&& fill) const {
    if constexpr (sizeof...(T) == 0) {
      return codec_->encode(body_len, out, std::forward<Fill>(fill));
    } else {
      const FrameOverhead o = stages_->overhead();
      return codec_->encode(o.prefix + body_len + o.suffix, out, [&](std::span<std::byte> frame) {
        fill(frame.subspan(o.prefix, body_len));
        stages_->seal(frame, o);
      });
    }
  }

  // Only without stages: a stage's suffix could not follow a payload the caller appends itself.
  std::error_code encode_prefix(std::size_t body_len, ByteBuffer& out) const
      requires(sizeof...(T) == 0 && PrefixFrameCodec<C>) {
    return codec_->encode_prefix(body_len, out);
  }

  // The largest body the stages above may hand down (the codec's limit less the overhead).
  [[nodiscard]] std::size_t max_frame_length() const {
    const FrameOverhead o = stages_->overhead();
    const std::size_t max = codec_->max_frame_length();
    return max > o.prefix + o.suffix ? max - o.prefix - o.suffix : 0;
  }
  [[nodiscard]] std::size_t max_overhead() const {
    const FrameOverhead o = stages_->overhead();
    return codec_->max_overhead() + o.prefix + o.suffix;
  }

  [[nodiscard]] const C& base() const noexcept { return *codec_; }

 private:
  const C* codec_;
  FrameStages<T...>* stages_;
};

template <class C, class Frames>
struct sealing_codec;
template <class C, class... T>
struct sealing_codec<C, FrameStages<T...>> {
  using type = SealingCodec<C, T...>;
};
template <class C, class Frames>
using sealing_codec_t = typename sealing_codec<C, Frames>::type;

}  // namespace wireframe::detail
