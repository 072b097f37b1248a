// mqtt_broker: an MQTT 3.1.1 broker on wireframe. mosquitto_pub, mosquitto_sub and every MQTT
// 3.1.1 client library talk to it. It swaps wireframe's pluggable parts for MQTT's: MqttCodec
// (the fixed header's varint length), MqttPacket (the packet type is the route); sessions,
// subscriptions and retained messages are the Broker's (broker.hpp), delivery is wireframe's
// push queues, keep-alive is the connection's read-idle timeout, a takeover or a too slow
// subscriber is PushHandle::close. docs/mqtt-broker.md walks through it.
//
// What it does: CONNECT (clean and persistent sessions, takeover, last will, keep-alive),
// PUBLISH at QoS 0, 1 and 2 (QoS 2 received; subscriptions are granted at most QoS 1),
// retained messages, SUBSCRIBE/UNSUBSCRIBE with '+' and '#', PINGREQ, DISCONNECT. No
// authentication (a username and password are accepted and ignored) and no persistence to disk.
//
// Prints "listening on HOST:PORT", then "listening on tls:HOST:PORT" with the TLS flags, then
// "listening on unix:PATH" with --unix, as its first stdout lines; logs go to stderr. Stops
// gracefully on SIGINT/SIGTERM, logs its counters ("stats: ...") and exits 0.
#include <wireframe/wireframe.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <string>

#include "../common/cli.hpp"
#include "../common/endpoint_flags.hpp"
#include "../common/endpoint_text.hpp"
#include "../common/limit_flags.hpp"
#include "../common/metrics_flags.hpp"
#include "../common/tls_flags.hpp"
#include "broker.hpp"
#include "handlers.hpp"
#include "mqtt_codec.hpp"

using namespace wireframe;

namespace {

struct BrokerFlags {
  std::string unix_path;
  std::uint16_t tls_port = 8883;
  unsigned long max_packet = 1ul << 20;
  unsigned long subscriber_queue = 1000;
  unsigned long max_queued_messages = 1000;
  unsigned long max_queued_bytes = 8ul << 20;
  unsigned long max_sessions = 100'000;

  void add_to(CLI::App& app) {
    app.add_option("--unix", unix_path, "also listen on a Unix domain socket at PATH")
        ->type_name("PATH")
        ->check(example::non_empty());
    app.add_option("--tls-port", tls_port, "TCP port of the TLS listener (with --tls-cert), 0 = any free port")
        ->type_name("N")
        ->transform(example::decimal(0, 65535));
    app.add_option("--max-packet-bytes", max_packet, "largest MQTT packet a client may send")
        ->type_name("BYTES")
        ->transform(example::decimal(64, 256ul << 20));
    app.add_option("--subscriber-queue", subscriber_queue,
                   "messages waiting to be written to one subscriber: past it QoS 0 is dropped")
        ->type_name("N")
        ->transform(example::decimal(1, 1'000'000));
    app.add_option("--max-queued-messages", max_queued_messages,
                   "QoS 1 messages one session holds (unacknowledged or queued): past it a "
                   "connected subscriber is closed as too slow, an away one loses them")
        ->type_name("N")
        ->transform(example::decimal(1, 60'000));
    app.add_option("--max-queued-bytes", max_queued_bytes, "the same, in bytes of topic and payload")
        ->type_name("BYTES")
        ->transform(example::decimal(1024, 1ul << 30));
    app.add_option("--max-sessions", max_sessions, "connected and persistent sessions at most")
        ->type_name("N")
        ->transform(example::decimal(1, 100'000'000));
  }

  [[nodiscard]] mqtt_broker::BrokerLimits limits() const {
    mqtt_broker::BrokerLimits l;
    l.max_queued_messages = max_queued_messages;
    l.max_queued_bytes = max_queued_bytes;
    l.max_sessions = max_sessions;
    return l;
  }
};

auto make_app(const std::shared_ptr<mqtt_broker::Broker>& broker, const BrokerFlags& flags,
              const example::LimitFlags& limits, std::shared_ptr<Metrics> metrics) {
  using namespace mqtt_broker;
  using mqtt::PacketType;
  auto route_id = [](PacketType t) { return static_cast<std::uint32_t>(t); };
  // [snippet app]
  auto builder = WireframeApp<MqttCodec, MqttPacket>();
  limits.apply(builder)
      .with_codec(MqttCodec(flags.max_packet))
      .metrics(std::move(metrics))  // --metrics-port (null without it)
      .with_state(broker)
      .with_session_registry(broker->registry())  // a session's connection id -> its PushHandle
      .handshake_timeout(std::chrono::seconds(10))  // CONNECT comes first, and soon (3.1.4)
      .push_queue_capacity(16, flags.subscriber_queue)  // deliveries are low-priority pushes
      .on_connection_teardown(on_teardown)
      .route(route_id(PacketType::connect), on_connect)
      .route(route_id(PacketType::publish), on_publish)
      .route(route_id(PacketType::puback), on_puback)
      .route(route_id(PacketType::pubrel), on_pubrel)
      .route(route_id(PacketType::subscribe), on_subscribe)
      .route(route_id(PacketType::unsubscribe), on_unsubscribe)
      .route(route_id(PacketType::pingreq), on_pingreq)
      .route(route_id(PacketType::disconnect), on_disconnect)
      .route(route_violation, on_violation)
      // A handler that throws (out of memory) ends its connection, and only that.
      .handler_error_policy(HandlerErrorPolicy::close);
  return builder.build();
  // [end snippet app]
}

void log_stats(spdlog::logger& log, const mqtt_broker::BrokerStats& s) {
  log.info(
      "stats: connects={} published={} delivered={} dropped_qos0={} dropped_queue_full={} "
      "slow_subscribers_closed={} takeovers={} wills={}",
      s.connects.load(), s.published.load(), s.delivered.load(), s.dropped_qos0.load(), s.dropped_queue_full.load(),
      s.slow_subscribers_closed.load(), s.takeovers.load(), s.wills.load());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli("An MQTT 3.1.1 broker: mosquitto_pub, mosquitto_sub and MQTT client libraries talk to it.",
               "mqtt_broker");
  example::use_conventions(cli);
  example::ListenFlags listen_flags(1883, 2);
  BrokerFlags flags;
  example::TlsFlags tls;
  example::LimitFlags limits;
  example::MetricsFlags metrics;
  listen_flags.add_to(cli);
  flags.add_to(cli);
  tls.add_server_flags(cli, "--tls-port");
  limits.add_to(cli);
  metrics.add_to(cli);
  if (const auto status = example::parse_flags(cli, argc, argv)) return *status;
  if (const int status = tls.prepare_server("mqtt_broker", false)) return status;

  auto log = spdlog::stderr_color_mt("mqtt_broker");
  set_logger(log);  // wireframe's own messages go to the same place
  const auto broker = std::make_shared<mqtt_broker::Broker>(
      flags.limits(), std::make_shared<mqtt_broker::Registry>(), log);
  const auto app = make_app(broker, flags, limits, metrics.metrics());
  example::log_limits(*log, app->settings, app->codec.max_frame_length(), limits);

  WireframeServer server(app);
  limits.apply(server);
  std::string where = listen_flags.host + ":" + std::to_string(listen_flags.port);
  try {
    server.workers(listen_flags.workers).stop_on_signals();
    server.bind(listen_flags.host, listen_flags.port);
    if (tls.enabled()) {
      where = "tls:" + listen_flags.host + ":" + std::to_string(flags.tls_port);
      tls.bind(server, app, listen_flags.host, flags.tls_port);
    }
    if (!flags.unix_path.empty()) {
      where = "unix:" + flags.unix_path;
      server.bind_unix(flags.unix_path);
    }
  } catch (const std::exception& e) {
    std::cerr << "mqtt_broker: cannot listen on " << where << ": " << e.what() << '\n';
    return 1;
  }
  std::cout << "listening on " << example::endpoint_text(server.local_endpoint()) << '\n';
  if (tls.enabled()) std::cout << "listening on tls:" << example::endpoint_text(server.tls_local_endpoint()) << '\n';
  if (!flags.unix_path.empty()) std::cout << "listening on unix:" << flags.unix_path << '\n';
  std::cout << std::flush;
  if (const int status = metrics.start("mqtt_broker", listen_flags.host)) return status;
  server.run();  // returns after SIGINT/SIGTERM, once every connection has ended
  log_stats(*log, broker->stats());
  return server.drain_interrupted() ? 130 : 0;  // a second signal cut the drain short
}
