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
// own header layout), E, the protocol's typed error, and the processor stack between codec and
// packet, which with_processor(), with_fragmentation() and with_protocol() extend: each returns
// an app of a new type (docs/architecture.md, "The processor stack").

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
#include "wireframe/fragment/fragment_policy.hpp"
#include "wireframe/fragment/reassembler.hpp"
#include "wireframe/log/log.hpp"
#include "wireframe/packet/envelope.hpp"
#include "wireframe/packet/message.hpp"
#include "wireframe/packet/packet.hpp"
#include "wireframe/preamble/preamble_decoder.hpp"
#include "wireframe/preamble/preamble_hooks.hpp"
#include "wireframe/preamble/preamble_runner.hpp"
#include "wireframe/processor/frame_processor.hpp"
#include "wireframe/processor/processor_stack.hpp"
#include "wireframe/protocol/wireframe_protocol.hpp"
#include "wireframe/push/dead_letter_queue.hpp"
#include "wireframe/push/session_registry.hpp"
#include "wireframe/log/event_log.hpp"
#include "wireframe/observe/connection_metrics.hpp"
#include "wireframe/observe/tracer.hpp"
#include "wireframe/response/response.hpp"

namespace wireframe {

// Message id of the default error frame (Envelope-like packets): payload is a UTF-8 text.
inline constexpr std::uint32_t error_message_id = 0xFFFF'FFFFu;

template <FrameCodec C, Packet P, class E, class... Stages>
struct BuiltApp;

namespace detail {
// Whether an app was used: built, or passed on (extended by a stage method, copied, moved). A
// copy is a fresh, unused app; its source counts as passed on.
struct UseMark {
  mutable bool used = false;
  UseMark() = default;
  UseMark(const UseMark& from) noexcept { from.used = true; }
  UseMark& operator=(const UseMark& from) noexcept {
    from.used = true;
    used = false;
    return *this;
  }
};
}  // namespace detail

template <FrameCodec C = LengthDelimitedCodec, Packet P = Envelope, class E = NoProtocolError, class... Stages>
class WireframeApp {
  static constexpr bool has_fragmentation = (detail::is_fragment_stage<Stages> || ...);
  static constexpr bool has_protocol = (detail::is_protocol_stage<Stages> || ...);

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

  // A preamble read before the codec starts (preamble/preamble_decoder.hpp, docs/transports.md):
  // `decoder` reads it, `on_success(const T&, PreambleReply&)` may answer it and returns a
  // PreambleAction (or nothing: proceed), `on_failure(const PreambleFailure&, PreambleReply&)`
  // may answer a refused one before the connection closes. Bounded by preamble_timeout; the
  // handlers find the value in ConnectionContext::preamble<T>().
  template <PreambleDecoder D, class Success, class Failure>
    requires std::invocable<const Success&, const typename D::value_type&, PreambleReply&> &&
             std::invocable<const Failure&, const PreambleFailure&, PreambleReply&>
  WireframeApp& with_preamble(D decoder, Success on_success, Failure on_failure) {
    preamble_ = std::make_shared<detail::TypedPreambleRunner<D, Success, Failure>>(
        std::move(decoder), std::move(on_success), std::move(on_failure));
    return *this;
  }
  // The same, a refused preamble answered with nothing.
  template <PreambleDecoder D, class Success>
  WireframeApp& with_preamble(D decoder, Success on_success) {
    return with_preamble(std::move(decoder), std::move(on_success),
                         [](const PreambleFailure&, PreambleReply&) {});
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
  // gets its own copy of `protocol`. Returns the app with the protocol in its processor stack
  // (a new type: use the result).
  template <class Proto>
    requires WireframeProtocol<Proto, P, E>
  [[nodiscard]] WireframeApp<C, P, E, Stages..., detail::ProtocolStage<Proto>> with_protocol(Proto protocol) const {
    static_assert(!has_protocol, "an app has one protocol: with_protocol() once");
    // Instantiates the connection's view of it here, so its hook checks fail at this call.
    static_assert(sizeof(detail::ProtocolInstance<Proto, P, E>) > 0);
    return {*this, detail::ProtocolStage<Proto>{std::move(protocol)}};
  }

  // A frame processor of your own (processor/frame_processor.hpp) on top of the ones added
  // before it; each connection gets its own copy. Returns the app with it in its processor
  // stack (a new type: use the result).
  template <FrameProcessor T>
  [[nodiscard]] WireframeApp<C, P, E, Stages..., T> with_processor(T processor) const {
    static_assert(!has_fragmentation,
                  "add frame processors before with_fragmentation(): they run on every wire "
                  "frame, below the fragment layer");
    return {*this, std::move(processor)};
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

  // Every connection of the app (and the server that runs it) counts into `metrics`: frames,
  // bytes, requests by route and outcome with their latency, pushes, back-pressure, reassembly,
  // timeouts, connections by close reason (observe/metrics.hpp, docs/observability.md). None
  // by default; the cost with them on is measured in docs/performance.md.
  WireframeApp& metrics(std::shared_ptr<Metrics> metrics) {
    metrics_ = std::move(metrics);
    return *this;
  }

  // Where the app's events go (log/events.hpp, docs/observability.md): `logger`, or nowhere when
  // it is null. By default, the process-wide logger (set_logger) as each connection starts.
  WireframeApp& logger(std::shared_ptr<spdlog::logger> logger) {
    logger_.logger = std::move(logger);
    return *this;
  }

  // The spans of the app's connections, requests and pushes go to `tracer` (observe/tracer.hpp,
  // docs/observability.md): LoggingTracer logs them, or bridge them to OpenTelemetry. None by
  // default.
  WireframeApp& tracer(std::shared_ptr<Tracer> tracer) {
    tracer_ = std::move(tracer);
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
  // fragment fits the codec's max_frame_length() (less the frame processors' overhead) and that
  // `limits` are valid. Returns the app with the fragment layer in its processor stack, above
  // the frame processors added before (a new type: use the result).
  template <class Strategy>
    requires FragmentStrategy<Strategy, P>
  [[nodiscard]] WireframeApp<C, P, E, Stages..., detail::FragmentStage<Strategy>> with_fragmentation(
      Strategy strategy, ReassemblyLimits limits = {},
      FragmentErrorPolicy policy = FragmentErrorPolicy::by_kind) const {
    static_assert(!has_fragmentation, "an app has one fragment layer: with_fragmentation() once");
    WireframeApp<C, P, E, Stages..., detail::FragmentStage<Strategy>> next(
        *this, detail::FragmentStage<Strategy>{strategy, limits});
    try {
      (void)Reassembler<Strategy>(strategy, limits);  // validates the limits
    } catch (const std::invalid_argument& e) {
      next.fragment_error_ = e.what();
    }
    next.fragment_frame_size_ = saturating_add(strategy.max_header_size(), strategy.max_fragment_payload(P{}));
    next.fragment_policy_ = policy;
    return next;
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
  // Timeouts; zero switches one off. Defaults: read 30 s, write 30 s, idle off, read-idle off,
  // handshake off, preamble as the TLS handshake, linger 2 s. A handler may change idle and
  // read-idle for its own connection (ConnectionContext::set_idle_timeout).
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
  WireframeApp& read_idle_timeout(std::chrono::milliseconds t) {
    settings_.read_idle_timeout = t;
    return *this;
  }
  WireframeApp& handshake_timeout(std::chrono::milliseconds t) {
    settings_.handshake_timeout = t;
    return *this;
  }
  // Zero (the default): the TLS handshake's limit, handshake_timeout else read_timeout.
  WireframeApp& preamble_timeout(std::chrono::milliseconds t) {
    settings_.preamble_timeout = t;
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
  [[nodiscard]] std::shared_ptr<const BuiltApp<C, P, E, Stages...>> build() const;

  // A stage method returns a new app; building the old one instead would drop the stage
  // silently (a chain whose result is thrown away: `builder.x().with_fragmentation(s).route(..);`
  // leaves `builder` without fragmentation). An app with stages that is neither built nor
  // extended says so when it goes away.
  ~WireframeApp() {
    if constexpr (sizeof...(Stages) > 0) {
      if (!used_.used) {
        detail::log(LogLevel::warn,
                    "a WireframeApp with {} processor stage(s) was destroyed without build(): the "
                    "result of with_processor(), with_fragmentation() or with_protocol() was "
                    "discarded (each returns a new app)",
                    sizeof...(Stages));
      }
    }
  }
  WireframeApp(const WireframeApp&) = default;
  WireframeApp(WireframeApp&&) = default;
  WireframeApp& operator=(const WireframeApp&) = default;
  WireframeApp& operator=(WireframeApp&&) = default;

 private:
  template <FrameCodec, Packet, class, class...>
  friend class WireframeApp;

  // This app with one more stage on top of its processor stack.
  template <class... Old, class Added>
  WireframeApp(const WireframeApp<C, P, E, Old...>& o, Added added)
      : codec_(o.codec_), routes_(o.routes_), duplicates_(o.duplicates_), middleware_(o.middleware_),
        state_(o.state_), setup_(o.setup_), teardown_(o.teardown_),
        unknown_policy_(o.unknown_policy_), error_policy_(o.error_policy_),
        error_frame_(o.error_frame_), settings_(o.settings_), registry_(o.registry_),
        dead_letters_(o.dead_letters_), metrics_(o.metrics_), logger_(o.logger_), tracer_(o.tracer_), preamble_(o.preamble_), fragment_policy_(o.fragment_policy_),
        fragment_frame_size_(o.fragment_frame_size_), fragment_error_(o.fragment_error_),
        stages_(std::tuple_cat(o.stages_, std::make_tuple(std::move(added)))) {
    o.used_.used = true;
  }

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
  std::shared_ptr<DeadLetterQueue<P>> dead_letters_;
  std::shared_ptr<Metrics> metrics_;
  detail::LoggerChoice logger_;
  std::shared_ptr<Tracer> tracer_;
  std::shared_ptr<const detail::PreambleRunner> preamble_;  // null: no preamble
  FragmentErrorPolicy fragment_policy_ = FragmentErrorPolicy::by_kind;
  std::size_t fragment_frame_size_ = 0;
  std::string fragment_error_;
  std::tuple<Stages...> stages_;  // the app's copy of each stage: each connection copies them
  detail::UseMark used_;          // built, extended or copied (see ~WireframeApp)

  void check_fragmentation() const;
  void check_budgets() const;
};

// The frozen app: shared by all connections of all workers, never mutated.
template <FrameCodec C, Packet P, class E, class... Stages>
struct BuiltApp {
  using App = WireframeApp<C, P, E, Stages...>;
  using codec_type = C;
  using packet_type = P;
  using error_type = E;
  using response_type = Response<P, E>;
  using Handler = typename App::Handler;
  using SyncHandler = typename App::SyncHandler;
  using Route = detail::RouteHandler<Handler, SyncHandler>;
  using stack_type = detail::ProcessorStack<C, P, E, Stages...>;  // one per connection

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
  std::shared_ptr<DeadLetterQueue<P>> dead_letters;  // may be null
  FragmentErrorPolicy fragment_policy;
  std::tuple<Stages...> stages;  // the processor stack's prototypes
  std::shared_ptr<const detail::PreambleRunner> preamble;  // null: no preamble
  std::shared_ptr<const detail::ConnectionMetrics> metrics;  // null: no metrics
  detail::LoggerChoice logger;
  std::shared_ptr<Tracer> tracer;  // null: no spans

  [[nodiscard]] const Route* find(std::uint32_t id) const noexcept {
    auto it = std::lower_bound(routes.begin(), routes.end(), id,
                               [](const auto& r, std::uint32_t key) { return r.first < key; });
    return it != routes.end() && it->first == id ? &it->second : nullptr;
  }
  // Where a route find() returned sits in `routes` (its metrics are kept in that order).
  [[nodiscard]] std::size_t position_of(const Route* route) const noexcept {
    const auto distance = reinterpret_cast<const char*>(route) - reinterpret_cast<const char*>(&routes.front().second);
    return static_cast<std::size_t>(distance) / sizeof(routes.front());
  }
};

template <FrameCodec C, Packet P, class E, class... Stages>
std::shared_ptr<const BuiltApp<C, P, E, Stages...>> WireframeApp<C, P, E, Stages...>::build() const {
  used_.used = true;
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

  auto built = std::make_shared<BuiltApp<C, P, E, Stages...>>(BuiltApp<C, P, E, Stages...>{
      codec_, {}, state_, setup_, teardown_, unknown_policy_, error_policy_, error_frame_, s,
      registry_, dead_letters_, fragment_policy_, stages_, preamble_, nullptr, logger_, tracer_});
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
  if (metrics_) {
    std::vector<std::uint32_t> ids;
    for (const auto& r : built->routes) ids.push_back(r.first);
    built->metrics = std::make_shared<const detail::ConnectionMetrics>(metrics_, ids);
  }
  return built;
}

template <FrameCodec C, Packet P, class E, class... Stages>
void WireframeApp<C, P, E, Stages...>::check_budgets() const {
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
      s.read_idle_timeout < negative || s.handshake_timeout < negative || s.preamble_timeout < negative || s.linger_timeout < negative) {
    throw std::system_error(make_error_code(errc::invalid_configuration),
                            "timeouts must not be negative (zero switches one off)");
  }
}

template <FrameCodec C, Packet P, class E, class... Stages>
void WireframeApp<C, P, E, Stages...>::check_fragmentation() const {
  if constexpr (has_fragmentation) {
    if (!fragment_error_.empty()) {
      throw std::system_error(make_error_code(errc::invalid_configuration), fragment_error_);
    }
    // The frame processors below the fragment layer add their overhead to every fragment.
    auto frames = detail::FrameStagesOf<Stages...>::make(stages_);
    const std::size_t room = detail::sealing_codec_t<C, decltype(frames)>(codec_, frames).max_frame_length();
    if (room < fragment_frame_size_) {
      throw std::system_error(make_error_code(errc::invalid_configuration),
                              fmt::format("fragments of up to {} bytes (header + payload) do not fit "
                                          "the {} bytes a frame body has room for (the codec's "
                                          "max_frame_length() less the frame processors' "
                                          "overhead): lower the strategy's payload cap or raise "
                                          "the codec's limit",
                                          fragment_frame_size_, room));
    }
  }
}

// The app most servers start with; its connection actor is compiled once into the library.
using DefaultBuiltApp = BuiltApp<LengthDelimitedCodec, Envelope, NoProtocolError>;

}  // namespace wireframe
