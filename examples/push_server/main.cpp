// push_server: a small publish/subscribe broker built on server pushes. Clients SUBSCRIBE to
// topics and PUBLISH messages; the server pushes each message to the topic's subscribers and a
// TICK to every connected client every --tick-ms. The protocol, byte by byte, is in
// docs/push-server-protocol.md; the push API in docs/duplex-messaging.md. Prints
// "listening on HOST:PORT" (over TLS "listening on tls:HOST:PORT") as its first stdout line;
// logs go to stderr. Stops gracefully on SIGINT/SIGTERM and exits 0.
//
//   push_server [--host ADDR] [--port N] [--workers N] [--tick-ms MS] [--max-wait-ms MS] [tls]
//               [limits]
#include <wireframe/wireframe.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "../common/cli.hpp"
#include "../common/endpoint_flags.hpp"
#include "../common/endpoint_text.hpp"
#include "../common/limit_flags.hpp"
#include "../common/metrics_flags.hpp"
#include "../common/tls_flags.hpp"

using namespace wireframe;

namespace {

using example::endpoint_text;

// Message ids (docs/push-server-protocol.md).
constexpr std::uint32_t subscribe_id = 1, unsubscribe_id = 2, publish_id = 3;
constexpr std::uint32_t message_id = 100, tick_id = 101;
constexpr std::size_t max_topic = 255;

// `width` bytes of `value`, most significant first.
std::string big_endian(std::uint64_t value, std::size_t width) {
  std::string out(width, '\0');
  for (std::size_t i = width; i-- > 0; value >>= 8) out[i] = static_cast<char>(value & 0xff);
  return out;
}

bool valid_topic(std::string_view topic) { return !topic.empty() && topic.size() <= max_topic; }

// The topic of a PUBLISH (or MESSAGE) payload: u16 BE length, topic bytes, message bytes.
std::optional<std::string_view> topic_of(std::string_view payload) {
  if (payload.size() < 2) return std::nullopt;
  const std::size_t length =
      static_cast<unsigned char>(payload[0]) << 8 | static_cast<unsigned char>(payload[1]);
  if (payload.size() - 2 < length || !valid_topic(payload.substr(2, length))) return std::nullopt;
  return payload.substr(2, length);
}

// One subscribed connection, shared by all the topics it subscribed to.
struct Subscriber {
  explicit Subscriber(PushHandle<Envelope> h) : handle(std::move(h)) {}
  PushHandle<Envelope> handle;
  std::atomic<bool> lagging{false};      // a wait for room timed out: offer, do not wait
  std::atomic<std::uint64_t> missed{0};  // messages it did not get since it began to lag
};

// Who listens to what. Handlers on every worker share it, so one mutex guards the maps; the
// pushes themselves happen on a copy, outside the lock.
class Broker {
 public:
  void subscribe(std::string_view topic, PushHandle<Envelope> handle) {
    std::lock_guard lock(mutex_);
    const ConnectionId id = handle.connection_id();
    auto& subscriber = connections_[id];
    if (!subscriber) subscriber = std::make_shared<Subscriber>(std::move(handle));
    topics_[std::string(topic)].insert_or_assign(id, subscriber);
  }
  void unsubscribe(std::string_view topic, ConnectionId id) {
    std::lock_guard lock(mutex_);
    if (auto it = topics_.find(topic);
        it != topics_.end() && it->second.erase(id) && it->second.empty()) {
      topics_.erase(it);
    }
  }
  void forget(ConnectionId id) {  // the connection has ended
    std::lock_guard lock(mutex_);
    connections_.erase(id);
    for (auto it = topics_.begin(); it != topics_.end();) {
      it = it->second.erase(id) && it->second.empty() ? topics_.erase(it) : std::next(it);
    }
  }
  std::vector<std::shared_ptr<Subscriber>> subscribers(std::string_view topic) const {
    std::vector<std::shared_ptr<Subscriber>> out;
    std::lock_guard lock(mutex_);
    if (auto it = topics_.find(topic); it != topics_.end()) {
      for (const auto& [id, subscriber] : it->second) out.push_back(subscriber);
    }
    return out;
  }

 private:
  using Subscribers = std::unordered_map<ConnectionId, std::shared_ptr<Subscriber>>;
  mutable std::mutex mutex_;
  Subscribers connections_;  // every subscribed connection, whatever its topics
  std::map<std::string, Subscribers, std::less<>> topics_;
};

// A lagging subscriber is only offered a message (no wait); the first that fits ends its lag.
bool offer(Subscriber& subscriber, const Envelope& message, spdlog::logger& log) {
  if (!subscriber.handle.try_push(message, PushPriority::low).ok()) {
    ++subscriber.missed;  // still behind (or leaving: teardown forgets it)
    return false;
  }
  if (subscriber.lagging.exchange(false)) {
    log.info("connection {}: subscriber caught up after missing {} message(s)",
             subscriber.handle.connection_id(), subscriber.missed.exchange(0));
  }
  return true;
}

// Queues `message` for one subscriber; true if it was queued. During a burst a prompt
// subscriber's queue is full for a moment whenever the publisher outruns its writer (which runs
// on another worker): the publisher then waits for room, up to `max_wait`, so a subscriber that
// reads gets every message. One whose wait runs out is lagging: it misses this message, and
// later ones are only offered to it until one fits again. So a stalled or dead subscriber costs
// the publisher one wait, not one per message.
asio::awaitable<bool> deliver(Subscriber& subscriber, const Envelope& message,
                              std::chrono::milliseconds max_wait, spdlog::logger& log) {
  if (subscriber.lagging.load()) co_return offer(subscriber, message, log);
  PushResult<Envelope> result = co_await subscriber.handle.try_push_for(message, max_wait, PushPriority::low);
  if (result.ok()) co_return true;
  if (result.error() == errc::connection_closed) co_return false;  // leaving: teardown forgets it
  ++subscriber.missed;
  if (!subscriber.lagging.exchange(true)) {
    log.warn("connection {}: slow subscriber: queue still full after {} ms; it misses messages "
             "until it reads again",
             subscriber.handle.connection_id(), max_wait.count());
  }
  co_return false;
}

using Reply = asio::awaitable<Response<Envelope>>;

// A request whose payload breaks the protocol: answered with the library's error frame.
Response<Envelope> malformed() {
  return Response<Envelope>::error(
      WireframeError<NoProtocolError>::io(make_error_code(errc::malformed_message)));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli("A publish/subscribe broker on server pushes (docs/push-server-protocol.md).",
               "push_server");
  example::use_conventions(cli);
  example::ListenFlags listen_flags(7879, 1);
  unsigned long tick_ms = 1000, max_wait_ms = 500;
  example::TlsFlags tls;
  example::LimitFlags limits;
  example::MetricsFlags metrics;
  listen_flags.add_to(cli);
  cli.add_option("--tick-ms", tick_ms, "TICK period in milliseconds, 0 = no ticks")
      ->type_name("MS")
      ->transform(example::decimal(0, 3'600'000));
  cli.add_option("--max-wait-ms", max_wait_ms,
                 "longest a PUBLISH waits for one subscriber's full queue before it counts as "
                 "lagging")
      ->type_name("MS")
      ->transform(example::decimal(0, 3'600'000));
  tls.add_server_flags(cli);
  limits.add_to(cli);
  metrics.add_to(cli);
  if (const auto status = example::parse_flags(cli, argc, argv)) return *status;
  if (const int status = tls.prepare_server("push_server", false)) return status;

  auto log = spdlog::stderr_color_mt("push_server");
  set_logger(log);

  // SUBSCRIBE / UNSUBSCRIBE: the payload is the topic; the reply echoes the request.
  auto subscribe = [](Envelope& request, ConnectionContext& ctx) -> Reply {
    if (!valid_topic(request.payload_text())) co_return malformed();
    ctx.state<Broker>().subscribe(request.payload_text(), ctx.push_handle<Envelope>());
    co_return std::move(request);
  };
  auto unsubscribe = [](Envelope& request, ConnectionContext& ctx) -> Reply {
    if (!valid_topic(request.payload_text())) co_return malformed();
    ctx.state<Broker>().unsubscribe(request.payload_text(), ctx.id());
    co_return std::move(request);
  };
  // PUBLISH: a MESSAGE with the same payload goes to every subscriber with low priority, one
  // subscriber after the other (deliver() above: a prompt one gets every message; a stalled one
  // delays the publisher by max_wait each time it falls behind, not for every message). The
  // reply says how many were reached.
  auto publish = [log, max_wait = std::chrono::milliseconds(max_wait_ms)](
                     Envelope& request, ConnectionContext& ctx) -> Reply {
    const auto topic = topic_of(request.payload_text());
    if (!topic) co_return malformed();
    const Envelope message(message_id, 0, request.payload_text());
    std::uint32_t reached = 0;
    const auto subscribers = ctx.state<Broker>().subscribers(*topic);  // a copy: no lock held
    for (const auto& subscriber : subscribers) {
      const bool queued = co_await deliver(*subscriber, message, max_wait, *log);
      if (queued) ++reached;
    }
    co_return Envelope(publish_id, 0, big_endian(reached, 4));
  };

  auto broker = std::make_shared<Broker>();
  auto registry = std::make_shared<SessionRegistry<Envelope>>();
  auto opened = [log](ConnectionContext& ctx) {
    log->info("connection {} from {} opened", ctx.id(), endpoint_text(ctx.peer()));
  };
  auto closed = [log, broker](ConnectionContext& ctx, std::error_code reason) {
    broker->forget(ctx.id());
    log->info("connection {} closed ({})", ctx.id(), reason ? reason.message() : "orderly");
  };
  auto builder = WireframeApp<>();
  limits.apply(builder)
                 .route(subscribe_id, subscribe)
                 .route(unsubscribe_id, unsubscribe)
                 .route(publish_id, publish)
                 .with_state(broker)
                 .with_session_registry(registry)  // for the TICK broadcast
                 .push_queue_capacity(16, 256)     // high: ticks; low: messages
                 .unknown_id_policy(UnknownIdPolicy::error_frame)
                 .handler_error_policy(HandlerErrorPolicy::error_frame)
                 .on_connection_setup(opened)
                 .on_connection_teardown(closed);
  builder.metrics(metrics.metrics());  // null without --metrics-port: nothing counted
  const auto app = builder.build();
  example::log_limits(*log, app->settings, app->codec.max_frame_length(), limits);

  WireframeServer server(app);
  limits.apply(server);
  try {
    server.workers(listen_flags.workers).stop_on_signals();
    tls.bind(server, app, listen_flags.host, listen_flags.port);
  } catch (const std::exception& e) {
    std::cerr << "push_server: cannot listen on " << tls.prefix() << listen_flags.host << ":"
              << listen_flags.port << ": " << e.what() << '\n';
    return 1;
  }
  std::cout << "listening on " << tls.bound_text(server) << std::endl;
  if (const int status = metrics.start("push_server", listen_flags.host)) return status;

  // TICK: a plain thread (not an Asio thread) broadcasts through the registry with high
  // priority. A client too slow to take ticks loses them silently: the next one supersedes it.
  auto ticks = [registry, period = std::chrono::milliseconds(tick_ms)](std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    auto next = std::chrono::steady_clock::now();
    for (std::uint64_t seq = 1;; ++seq) {
      next += period;
      (void)wake.wait_until(lock, stop, next, [] { return false; });  // until `next` or stop
      if (stop.stop_requested()) return;
      registry->broadcast(Envelope(tick_id, 0, big_endian(seq, 8)), PushPriority::high,
                          PushPolicy::drop_if_full);
    }
  };
  std::jthread ticker;
  if (tick_ms > 0) ticker = std::jthread(ticks);

  server.run();  // returns after SIGINT/SIGTERM, once every connection has ended
  if (ticker.joinable()) {
    ticker.request_stop();
    ticker.join();
  }
  log->info("stopped");
  return server.drain_interrupted() ? 130 : 0;  // a second signal cut the drain short
}
