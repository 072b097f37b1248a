#pragma once
// WireframeApp: the fluent builder that describes a protocol server.
//
//   auto app = WireframeApp<>()
//       .route(1, echo_handler)                  // message id -> handler
//       .with_state(std::make_shared<Db>())      // reachable as ctx.state<Db>()
//       .wrap(timing_middleware)                 // around every handler
//       .on_connection_setup(...)
//       .build();                                // validates, freezes, shares
//
// Template parameters: the frame codec, the packet type (Envelope unless your protocol has its
// own header layout) and E, the protocol's typed error.

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "wireframe/app/app_state.hpp"
#include "wireframe/app/connection_context.hpp"
#include "wireframe/app/route_handler.hpp"
#include "wireframe/app/settings.hpp"
#include "wireframe/codec/frame_codec.hpp"
#include "wireframe/codec/length_delimited.hpp"
#include "wireframe/error/wireframe_error.hpp"
#include "wireframe/fragment/fragment_adapter.hpp"
#include "wireframe/fragment/fragment_layer.hpp"
#include "wireframe/fragment/fragment_policy.hpp"
#include "wireframe/fragment/reassembler.hpp"
#include "wireframe/packet/envelope.hpp"
#include "wireframe/packet/message.hpp"
#include "wireframe/packet/packet.hpp"
#include "wireframe/protocol/wireframe_protocol.hpp"
#include "wireframe/push/dead_letter_queue.hpp"
#include "wireframe/push/session_registry.hpp"
#include "wireframe/response/response.hpp"

namespace wireframe {

// Message id of the default error frame (Envelope-like packets): payload is a UTF-8 text.
inline constexpr std::uint32_t error_message_id = 0xFFFF'FFFFu;

template <FrameCodec C, Packet P, class E>
struct BuiltApp;

template <FrameCodec C = LengthDelimitedCodec, Packet P = Envelope, class E = NoProtocolError>
class WireframeApp {
 public:
  using codec_type = C;
  using packet_type = P;
  using error_type = E;
  using response_type = Response<P, E>;
  using Handler = std::function<asio::awaitable<response_type>(P&, ConnectionContext&)>;
  // A handler that never suspends: answered in the reader's turn, with no coroutine frame.
  using SyncHandler = std::function<response_type(P&, ConnectionContext&)>;
  using Middleware =
      std::function<asio::awaitable<response_type>(P&, ConnectionContext&, const Handler&)>;
  using SetupHook = std::function<void(ConnectionContext&)>;
  using TeardownHook = std::function<void(ConnectionContext&, std::error_code)>;
  // Builds the frame sent for unknown ids / failed handlers; nullopt sends nothing.
  using ErrorFrameBuilder = std::function<std::optional<P>(const P&, const WireframeError<E>&)>;
  // Makes a connection's fragmentation state (null function: no fragmentation).
  using FragmentFactory = std::function<std::unique_ptr<detail::FragmentLayer<P>>(const C&)>;

  WireframeApp() {
    if constexpr (std::constructible_from<P, std::uint32_t, std::uint64_t, std::string_view>) {
      error_frame_ = [](const P& request, const WireframeError<E>& err) -> std::optional<P> {
        const std::string text = fmt::format("{}", err);
        return P(error_message_id, request.correlation_id(), std::string_view(text));
      };
    }
  }

  // A handler takes (P& request, ConnectionContext&) or (P& request) and returns either
  //   - asio::awaitable<Response<P, E>>: a coroutine, which may suspend (await I/O, timers), or
  //   - a Response<P, E> (or anything it converts from: a frame, a vector of frames): a plain
  //     function, answered in the turn that decoded the request, without a coroutine frame.
  // The request stays valid until the whole response (a stream included) has been written.
  template <class H>
    requires(!Message<H>)
  WireframeApp& route(std::uint32_t id, H handler) {
    if constexpr (std::is_invocable_v<H&, P&, ConnectionContext&>) {
      add_handler(id, std::move(handler));
    } else {
      static_assert(std::is_invocable_v<H&, P&>,
                    "a handler takes (P&, ConnectionContext&) or (P&) and returns "
                    "asio::awaitable<Response<P, E>> or Response<P, E>");
      add_handler(id, [h = std::move(handler)](P& r, ConnectionContext&) { return h(r); });
    }
    return *this;
  }

  // A typed handler: (Req, ConnectionContext&) -> awaitable<Rep>, or -> Rep for a plain
  // function. The payload is decoded as Req (message.hpp); a payload that does not decode is a
  // failure (errc::malformed_message). Rep is either a Message, sent back as one frame with the
  // request's id, or a Response<P, E>.
  template <Message Req, class H>
    requires std::constructible_from<P, std::uint32_t, std::uint64_t, std::vector<std::byte>>
  WireframeApp& route(std::uint32_t id, H handler) {
    using Result = std::remove_cvref_t<std::invoke_result_t<H&, Req, ConnectionContext&>>;
    if constexpr (detail::is_awaitable_v<Result>) {
      add_route(id, Handler([h = std::move(handler)](P& r, ConnectionContext& ctx)
                                -> asio::awaitable<response_type> {
        Req req{};
        if (auto ec = decode_message(std::span<const std::byte>(r.payload()), req)) {
          co_return response_type::error(WireframeError<E>::io(ec));
        }
        co_return typed_reply(r, co_await h(std::move(req), ctx));
      }));
    } else {
      add_route(id, SyncHandler([h = std::move(handler)](P& r, ConnectionContext& ctx) -> response_type {
        Req req{};
        if (auto ec = decode_message(std::span<const std::byte>(r.payload()), req)) {
          return response_type::error(WireframeError<E>::io(ec));
        }
        return typed_reply(r, h(std::move(req), ctx));
      }));
    }
    return *this;
  }

  // Middleware: (P&, ConnectionContext&, const Handler& next) -> awaitable<Response<P, E>>.
  // The first one added is the outermost: it sees the request first and the response last.
  WireframeApp& wrap(Middleware middleware) {
    middleware_.push_back(std::move(middleware));
    return *this;
  }

  WireframeApp& with_codec(C codec) {
    codec_ = std::move(codec);
    return *this;
  }

  template <class T>
  WireframeApp& with_state(std::shared_ptr<T> value) {
    state_.add(std::move(value));
    return *this;
  }
  template <class T>
    requires(!std::is_pointer_v<std::decay_t<T>>)
  WireframeApp& with_state(T value) {
    state_.add(std::make_shared<T>(std::move(value)));
    return *this;
  }

  // Runs on the connection's thread before its first request is read.
  WireframeApp& on_connection_setup(SetupHook hook) {
    setup_ = std::move(hook);
    return *this;
  }
  // Runs once however the connection ends; `reason` is empty for an orderly close.
  WireframeApp& on_connection_teardown(TeardownHook hook) {
    teardown_ = std::move(hook);
    return *this;
  }

  WireframeApp& unknown_id_policy(UnknownIdPolicy policy) {
    unknown_policy_ = policy;
    return *this;
  }
  WireframeApp& handler_error_policy(HandlerErrorPolicy policy) {
    error_policy_ = policy;
    return *this;
  }
  WireframeApp& error_frame(ErrorFrameBuilder builder) {
    error_frame_ = std::move(builder);
    return *this;
  }

  WireframeApp& max_pipelined_requests(std::size_t n) {
    settings_.max_pipelined_requests = n;
    return *this;
  }
  WireframeApp& max_queued_frames(std::size_t n) {
    settings_.max_queued_frames = n;
    return *this;
  }
  WireframeApp& read_chunk_size(std::size_t bytes) {
    settings_.read_chunk_size = bytes;
    return *this;
  }
  WireframeApp& max_write_batch(std::size_t bytes) {
    settings_.max_write_batch = bytes;
    return *this;
  }
  WireframeApp& push_queue_capacity(std::size_t high, std::size_t low) {
    settings_.high_push_capacity = high;
    settings_.low_push_capacity = low;
    return *this;
  }
  // The protocol's connection-level hooks (protocol/wireframe_protocol.hpp); each connection
  // gets its own copy of `protocol`.
  template <class Proto>
    requires WireframeProtocol<Proto, P, E>
  WireframeApp& with_protocol(Proto protocol) {
    protocol_ = [proto = std::move(protocol)](ConnectionContext& connection)
        -> std::unique_ptr<detail::ProtocolHooks<P, E>> {
      return std::make_unique<detail::ProtocolInstance<Proto, P, E>>(proto, connection);
    };
    return *this;
  }

  // Per-connection push rate limit: `frames_per_second` on average, bursts up to `burst`.
  // Enforced on every push; push() waits for a token, try_push() fails with errc::rate_limited.
  WireframeApp& push_rate_limit(double frames_per_second, std::size_t burst) {
    settings_.push_rate = frames_per_second;
    settings_.push_burst = burst;
    return *this;
  }

  // Where refused and lost pushes go (push/dead_letter_queue.hpp).
  WireframeApp& with_dead_letter_queue(std::shared_ptr<DeadLetterQueue<P>> dlq) {
    dead_letters_ = std::move(dlq);
    return *this;
  }

  // Every connection registers itself here while it lives (push/session_registry.hpp).
  WireframeApp& with_session_registry(std::shared_ptr<SessionRegistry<P>> registry) {
    registry_ = std::move(registry);
    return *this;
  }
  // Transparent fragmentation (docs/fragmentation.md): every frame on the connection carries
  // one fragment of `strategy` (LenFlag32K, Multiplexed or your own FragmentStrategy); handlers
  // see whole messages, and responses and pushes larger than a fragment are split. `limits`
  // bound what a peer can make a connection buffer; `policy` says which reassembly errors close
  // the connection. Both peers must be configured alike. build() checks that the largest
  // fragment fits the codec's max_frame_length() and that `limits` are valid.
  template <class Strategy>
    requires FragmentStrategy<Strategy, P>
  WireframeApp& with_fragmentation(Strategy strategy, ReassemblyLimits limits = {},
                                   FragmentErrorPolicy policy = FragmentErrorPolicy::by_kind) {
    fragment_error_.clear();
    try {
      (void)Reassembler<Strategy>(strategy, limits);  // validates the limits
    } catch (const std::invalid_argument& e) {
      fragment_error_ = e.what();
    }
    fragment_frame_size_ = saturating_add(strategy.max_header_size(), strategy.max_fragment_payload(P{}));
    fragment_policy_ = policy;
    fragmentation_ = [strategy, limits](const C& codec) -> std::unique_ptr<detail::FragmentLayer<P>> {
      return std::make_unique<FragmentAdapter<Strategy, C, P>>(codec, strategy, limits);
    };
    return *this;
  }

  WireframeApp& max_high_before_low(std::size_t n) {
    settings_.max_high_before_low = n;
    return *this;
  }

  // --- hardening (docs/hardening.md) ----------------------------------------------------------
  // Bytes of decoded requests waiting for or held by their handler (default 1 MiB).
  WireframeApp& max_inbound_bytes(std::size_t bytes) {
    settings_.max_inbound_bytes = bytes;
    return *this;
  }
  // Outbound byte watermarks (defaults 256 KiB / 1 MiB): above `high` reading, responses and
  // pushes pause until the queued bytes fall to `low`.
  WireframeApp& outbound_watermarks(std::size_t low, std::size_t high) {
    settings_.outbound_low_watermark = low;
    settings_.outbound_high_watermark = high;
    return *this;
  }
  // Absolute cap on queued outbound bytes (default 16 MiB).
  WireframeApp& max_outbound_bytes(std::size_t bytes) {
    settings_.max_outbound_bytes = bytes;
    return *this;
  }
  // Timeouts; zero switches one off. Defaults: read 30 s, write 30 s, idle off, handshake off,
  // linger 2 s.
  WireframeApp& read_timeout(std::chrono::milliseconds t) {
    settings_.read_timeout = t;
    return *this;
  }
  WireframeApp& write_timeout(std::chrono::milliseconds t) {
    settings_.write_timeout = t;
    return *this;
  }
  WireframeApp& idle_timeout(std::chrono::milliseconds t) {
    settings_.idle_timeout = t;
    return *this;
  }
  WireframeApp& handshake_timeout(std::chrono::milliseconds t) {
    settings_.handshake_timeout = t;
    return *this;
  }
  WireframeApp& linger_timeout(std::chrono::milliseconds t) {
    settings_.linger_timeout = t;
    return *this;
  }
  [[nodiscard]] const ConnectionSettings& settings() const noexcept { return settings_; }

  // Validates and freezes the description. Throws std::system_error with
  // errc::duplicate_route (naming the id) or errc::invalid_configuration: mistakes in setup are
  // reported before the server starts, never discovered on the wire.
  [[nodiscard]] std::shared_ptr<const BuiltApp<C, P, E>> build() const;

 private:
  // A handler taking (P&, ConnectionContext&): a coroutine or a plain function, by what it returns.
  template <class H>
  void add_handler(std::uint32_t id, H handler) {
    using Result = std::remove_cvref_t<std::invoke_result_t<H&, P&, ConnectionContext&>>;
    if constexpr (detail::is_awaitable_v<Result>) {
      static_assert(std::is_convertible_v<Result, asio::awaitable<response_type>>,
                    "a coroutine handler returns asio::awaitable<Response<P, E>>");
      add_route(id, Handler(std::move(handler)));
    } else {
      static_assert(std::is_convertible_v<Result, response_type>,
                    "a plain handler returns Response<P, E> (or a frame, or a vector of frames)");
      add_route(id, SyncHandler([h = std::move(handler)](P& r, ConnectionContext& ctx) -> response_type {
        return h(r, ctx);
      }));
    }
  }

  // A typed handler's reply as a response: a Message becomes one frame with the request's id.
  template <class Rep>
  static response_type typed_reply(const P& request, Rep reply) {
    if constexpr (std::is_convertible_v<Rep, response_type>) {
      return response_type(std::move(reply));
    } else {
      std::vector<std::byte> bytes;
      encode_message(reply, bytes);
      return response_type(P(request.id(), request.correlation_id(), std::move(bytes)));
    }
  }

  void add_route(std::uint32_t id, detail::RouteHandler<Handler, SyncHandler> handler) {
    const bool taken = std::any_of(routes_.begin(), routes_.end(),
                                   [id](const auto& r) { return r.first == id; });
    if (taken) duplicates_.push_back(id);
    routes_.emplace_back(id, std::move(handler));
  }

  C codec_{};
  std::vector<std::pair<std::uint32_t, detail::RouteHandler<Handler, SyncHandler>>> routes_;
  std::vector<std::uint32_t> duplicates_;
  std::vector<Middleware> middleware_;
  AppState state_;
  SetupHook setup_;
  TeardownHook teardown_;
  UnknownIdPolicy unknown_policy_ = UnknownIdPolicy::drop;
  HandlerErrorPolicy error_policy_ = HandlerErrorPolicy::log;
  ErrorFrameBuilder error_frame_;
  ConnectionSettings settings_;
  std::shared_ptr<SessionRegistry<P>> registry_;
  detail::ProtocolFactory<P, E> protocol_;
  std::shared_ptr<DeadLetterQueue<P>> dead_letters_;
  FragmentFactory fragmentation_;
  FragmentErrorPolicy fragment_policy_ = FragmentErrorPolicy::by_kind;
  std::size_t fragment_frame_size_ = 0;
  std::string fragment_error_;

  void check_fragmentation() const;
  void check_budgets() const;
};

// The frozen app: shared by all connections of all workers, never mutated.
template <FrameCodec C, Packet P, class E>
struct BuiltApp {
  using App = WireframeApp<C, P, E>;
  using codec_type = C;
  using packet_type = P;
  using error_type = E;
  using response_type = Response<P, E>;
  using Handler = typename App::Handler;
  using SyncHandler = typename App::SyncHandler;
  using Route = detail::RouteHandler<Handler, SyncHandler>;

  C codec;
  std::vector<std::pair<std::uint32_t, Route>> routes;  // sorted by id, middleware applied
  AppState state;
  typename App::SetupHook setup;
  typename App::TeardownHook teardown;
  UnknownIdPolicy unknown_policy;
  HandlerErrorPolicy error_policy;
  typename App::ErrorFrameBuilder error_frame;
  ConnectionSettings settings;
  std::shared_ptr<SessionRegistry<P>> registry;  // may be null
  detail::ProtocolFactory<P, E> protocol;        // may be empty
  std::shared_ptr<DeadLetterQueue<P>> dead_letters;  // may be null
  typename App::FragmentFactory fragmentation;        // empty: no fragmentation
  FragmentErrorPolicy fragment_policy;

  [[nodiscard]] const Route* find(std::uint32_t id) const noexcept {
    auto it = std::lower_bound(routes.begin(), routes.end(), id,
                               [](const auto& r, std::uint32_t key) { return r.first < key; });
    return it != routes.end() && it->first == id ? &it->second : nullptr;
  }
};

template <FrameCodec C, Packet P, class E>
std::shared_ptr<const BuiltApp<C, P, E>> WireframeApp<C, P, E>::build() const {
  if (!duplicates_.empty()) {
    throw std::system_error(make_error_code(errc::duplicate_route),
                            fmt::format("message id {} is routed more than once", duplicates_[0]));
  }
  const auto& s = settings_;
  if (s.max_pipelined_requests == 0 || s.max_queued_frames == 0 || s.read_chunk_size == 0 ||
      s.max_write_batch == 0 || s.high_push_capacity == 0 || s.low_push_capacity == 0 ||
      s.push_rate < 0 || (s.push_rate > 0 && s.push_burst == 0)) {
    throw std::system_error(make_error_code(errc::invalid_configuration),
                            "connection limits must be positive");
  }
  check_budgets();
  check_fragmentation();
  const bool needs_error_frame = unknown_policy_ == UnknownIdPolicy::error_frame ||
                                 error_policy_ == HandlerErrorPolicy::error_frame;
  if (needs_error_frame && !error_frame_) {
    throw std::system_error(make_error_code(errc::invalid_configuration),
                            "an error_frame policy needs WireframeApp::error_frame(builder)");
  }

  auto built = std::make_shared<BuiltApp<C, P, E>>(BuiltApp<C, P, E>{
      codec_, {}, state_, setup_, teardown_, unknown_policy_, error_policy_, error_frame_, s,
      registry_, protocol_, dead_letters_, fragmentation_, fragment_policy_});
  for (const auto& [id, route] : routes_) {
    if (middleware_.empty()) {
      built->routes.emplace_back(id, route);
      continue;
    }
    // Middleware is a coroutine around a coroutine: a plain handler is awaited as one.
    Handler h = route.sync ? Handler([sync = route.sync](P& r, ConnectionContext& ctx) -> asio::awaitable<response_type> {
      co_return sync(r, ctx);
    }) : route.async;
    // Innermost first, so the first middleware added ends up outermost.
    for (auto m = middleware_.rbegin(); m != middleware_.rend(); ++m) {
      h = [mw = *m, next = std::move(h)](P& r, ConnectionContext& ctx) { return mw(r, ctx, next); };
    }
    built->routes.emplace_back(id, detail::RouteHandler<Handler, SyncHandler>(std::move(h)));
  }
  std::sort(built->routes.begin(), built->routes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return built;
}

template <FrameCodec C, Packet P, class E>
void WireframeApp<C, P, E>::check_budgets() const {
  const auto& s = settings_;
  const auto negative = std::chrono::milliseconds::zero();
  if (s.max_inbound_bytes == 0 || s.outbound_high_watermark == 0 ||
      s.outbound_low_watermark > s.outbound_high_watermark ||
      s.max_outbound_bytes < s.outbound_high_watermark) {
    throw std::system_error(make_error_code(errc::invalid_configuration),
                            "memory budgets: need max_inbound_bytes > 0 and "
                            "0 <= low watermark <= high watermark (> 0) <= max_outbound_bytes");
  }
  if (s.read_timeout < negative || s.write_timeout < negative || s.idle_timeout < negative ||
      s.handshake_timeout < negative || s.linger_timeout < negative) {
    throw std::system_error(make_error_code(errc::invalid_configuration),
                            "timeouts must not be negative (zero switches one off)");
  }
}

template <FrameCodec C, Packet P, class E>
void WireframeApp<C, P, E>::check_fragmentation() const {
  if (!fragmentation_) return;
  if (!fragment_error_.empty()) {
    throw std::system_error(make_error_code(errc::invalid_configuration), fragment_error_);
  }
  if (codec_.max_frame_length() < fragment_frame_size_) {
    throw std::system_error(make_error_code(errc::invalid_configuration),
                            fmt::format("fragments of up to {} bytes (header + payload) do not fit "
                                        "the codec's max_frame_length() of {} bytes: lower the "
                                        "strategy's payload cap or raise the codec's limit",
                                        fragment_frame_size_, codec_.max_frame_length()));
  }
}

// The app most servers start with; its connection actor is compiled once into the library.
using DefaultBuiltApp = BuiltApp<LengthDelimitedCodec, Envelope, NoProtocolError>;

}  // namespace wireframe
