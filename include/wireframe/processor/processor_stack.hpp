#pragma once
// detail::ProcessorStack<C, P, E, Stages...>: one connection's processor stack
// (docs/architecture.md, "The processor stack"). `Stages` are the app's, in the order they were
// added: FrameProcessors of the user's, at most one FragmentStage (with_fragmentation) above
// them, and at most one ProtocolStage (with_protocol). The stack sorts them into three parts:
//   frames()     FrameStages of the frame processors (inbound fold, outbound sealing)
//   fragments()  a FragmentAdapter, or NoFragments (constant answers, compiled away)
//   protocol()   a ProtocolInstance, or NoProtocol (empty inline hooks)
// and owns a copy of each stage, made when the connection starts. All by concrete type: the
// actor's calls are direct and need no test for a stage that is not there.

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include "wireframe/app/connection_context.hpp"
#include "wireframe/codec/frame_codec.hpp"
#include "wireframe/error/wireframe_error.hpp"
#include "wireframe/fragment/fragment_adapter.hpp"
#include "wireframe/fragment/fragment_layer.hpp"
#include "wireframe/fragment/reassembler.hpp"
#include "wireframe/packet/packet.hpp"
#include "wireframe/processor/frame_processor.hpp"
#include "wireframe/processor/frame_stages.hpp"
#include "wireframe/protocol/wireframe_protocol.hpp"
#include "wireframe/push/push_handle.hpp"

namespace wireframe::detail {

// What the app keeps for with_fragmentation(): each connection makes its FragmentAdapter of it.
template <class Strategy>
struct FragmentStage {
  Strategy strategy;
  ReassemblyLimits limits;
};

// What the app keeps for with_protocol(): each connection makes its ProtocolInstance of it.
template <class Proto>
struct ProtocolStage {
  Proto protocol;
};

template <class T>
inline constexpr bool is_fragment_stage = false;
template <class S>
inline constexpr bool is_fragment_stage<FragmentStage<S>> = true;
template <class T>
inline constexpr bool is_protocol_stage = false;
template <class Proto>
inline constexpr bool is_protocol_stage<ProtocolStage<Proto>> = true;
template <class T>
inline constexpr bool is_frame_stage = !is_fragment_stage<T> && !is_protocol_stage<T>;

// The positions in Stages... of the stages `pick` selects, in order.
template <class... Stages, class Pick>
consteval auto stage_indices(Pick pick) {
  constexpr std::array<bool, sizeof...(Stages)> chosen{decltype(pick)::template test<Stages>...};
  constexpr std::size_t n =
      (std::size_t{0} + ... + std::size_t{decltype(pick)::template test<Stages>});
  std::array<std::size_t, n> out{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    if (chosen[i]) out[k++] = i;
  }
  return out;
}
struct PickFrames {
  template <class T>
  static constexpr bool test = is_frame_stage<T>;
};
struct PickFragments {
  template <class T>
  static constexpr bool test = is_fragment_stage<T>;
};
struct PickProtocol {
  template <class T>
  static constexpr bool test = is_protocol_stage<T>;
};

// The frame processors of a stage list, and a FrameStages of them made from the app's copies.
template <class... Stages>
struct FrameStagesOf {
  static constexpr auto where = stage_indices<Stages...>(PickFrames{});
  template <std::size_t... I>
  static auto type_of(std::index_sequence<I...>)
      -> FrameStages<std::tuple_element_t<where[I], std::tuple<Stages...>>...>;
  using type = decltype(type_of(std::make_index_sequence<where.size()>{}));

  static type make(const std::tuple<Stages...>& stages) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return type(std::make_tuple(std::get<where[I]>(stages)...));
    }
    (std::make_index_sequence<where.size()>{});
  }
};

// The one stage `Pick` selects, if any (the app lets no kind in twice).
template <class Pick, class... Stages>
struct OptionalStage {
  static constexpr auto where = stage_indices<Stages...>(Pick{});
  static_assert(where.size() <= 1);
  static constexpr bool present = where.size() == 1;
  static const auto& get(const std::tuple<Stages...>& stages) requires present {
    return std::get<where[0]>(stages);
  }
};

// An app without fragmentation: every question the actor asks has a constant answer.
template <class P>
struct NoFragments {
  [[nodiscard]] static constexpr bool active(Lane) noexcept { return false; }
  [[nodiscard]] static constexpr bool any_active() noexcept { return false; }
  [[nodiscard]] static constexpr bool ready(Lane) noexcept { return true; }
  [[nodiscard]] static constexpr std::optional<Lane> exclusive() noexcept { return std::nullopt; }
  [[nodiscard]] static constexpr std::size_t held_bytes(Lane) noexcept { return 0; }
  [[nodiscard]] static std::optional<P> abandon(Lane) noexcept { return std::nullopt; }
};

// An app without a protocol: its hooks are empty.
template <class P, class E>
struct NoProtocol {
  static constexpr bool sees_frames = false;
  void on_connection_setup(PushHandle<P>) noexcept {}
  void before_send(P&) noexcept {}
  void on_command_end() noexcept {}
  void handle_error(const WireframeError<E>&) noexcept {}
  std::optional<P> stream_end_frame() noexcept { return std::nullopt; }
  void on_eof(std::span<const std::byte>) noexcept {}
};

template <class Stage, class Codec, class P, class E>
struct StageInstance;
template <class Strategy, class Codec, class P, class E>
struct StageInstance<FragmentStage<Strategy>, Codec, P, E> {
  using type = FragmentAdapter<Strategy, Codec, P>;
};
template <class Proto, class Codec, class P, class E>
struct StageInstance<ProtocolStage<Proto>, Codec, P, E> {
  using type = ProtocolInstance<Proto, P, E>;
};

template <FrameCodec C, Packet P, class E, class... Stages>
class ProcessorStack {
  using Frames = FrameStagesOf<Stages...>;
  using FragmentPart = OptionalStage<PickFragments, Stages...>;
  using ProtocolPart = OptionalStage<PickProtocol, Stages...>;

  template <class Part, class Absent, class Codec>
  static auto instance_type() {
    if constexpr (Part::present) {
      using Stage = std::tuple_element_t<Part::where[0], std::tuple<Stages...>>;
      return std::type_identity<typename StageInstance<Stage, Codec, P, E>::type>{};
    } else {
      return std::type_identity<Absent>{};
    }
  }

 public:
  using frames_type = typename Frames::type;
  using codec_type = sealing_codec_t<C, frames_type>;
  using fragments_type =
      typename decltype(instance_type<FragmentPart, NoFragments<P>, codec_type>())::type;
  using protocol_type =
      typename decltype(instance_type<ProtocolPart, NoProtocol<P, E>, codec_type>())::type;
  static constexpr bool has_fragments = FragmentPart::present;
  static constexpr bool has_protocol = ProtocolPart::present;
  static constexpr bool protocol_sees_frames = protocol_type::sees_frames;

  ProcessorStack(const C& codec, const std::tuple<Stages...>& stages, ConnectionContext& connection)
      : frames_(Frames::make(stages)),
        codec_(codec, frames_),
        fragments_(make_fragments(stages)),
        protocol_(make_protocol(stages, connection)) {}

  ProcessorStack(const ProcessorStack&) = delete;  // the codec points at frames_
  ProcessorStack& operator=(const ProcessorStack&) = delete;

  [[nodiscard]] frames_type& frames() noexcept { return frames_; }
  [[nodiscard]] const codec_type& codec() const noexcept { return codec_; }
  [[nodiscard]] fragments_type& fragments() noexcept { return fragments_; }
  [[nodiscard]] const fragments_type& fragments() const noexcept { return fragments_; }
  [[nodiscard]] protocol_type& protocol() noexcept { return protocol_; }

 private:
  fragments_type make_fragments(const std::tuple<Stages...>& stages) {
    if constexpr (has_fragments) {
      const auto& stage = FragmentPart::get(stages);
      return fragments_type(codec_, stage.strategy, stage.limits);
    } else {
      return {};
    }
  }

  protocol_type make_protocol(const std::tuple<Stages...>& stages, ConnectionContext& connection) {
    if constexpr (ProtocolPart::present) {
      return protocol_type(ProtocolPart::get(stages).protocol, connection);
    } else {
      (void)connection;
      return {};
    }
  }

  frames_type frames_;
  codec_type codec_;
  fragments_type fragments_;
  protocol_type protocol_;
};

}  // namespace wireframe::detail
