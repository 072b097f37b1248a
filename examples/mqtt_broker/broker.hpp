#pragma once
// Broker: the state every connection shares (reached through ConnectionContext::state<Broker>()):
// the sessions by client id, the subscription tree, the retained messages, the counters. One
// mutex guards it all: a PUBLISH's fan-out is one pass over the matching subscribers with the
// lock held, each delivery one try_push into that subscriber's connection (which never waits).
// A session knows its connection's id; the app's SessionRegistry turns that into a PushHandle
// while the connection lives, and into nothing once it is ending (its queues closed), so a
// delivery never reaches a connection that is going away, even before its teardown has run.
//
// Delivery and the slow-subscriber policy (docs/mqtt-broker.md):
//   - QoS 0 to a connected subscriber: try_push; a full push queue drops the message, counted
//     in dropped_qos0 (the subscriber stays connected: QoS 0 promises nothing more).
//   - QoS 0 to a session whose client is away: not kept (3.1.2.4 leaves it to the server).
//   - QoS 1: held by the session (in flight until PUBACK, or queued) up to max_queued_messages
//     and max_queued_bytes. A connected subscriber that lets its session reach either limit is
//     too slow: its connection is closed (PushHandle::close, counted in slow_subscribers_closed)
//     and the message is dropped (dropped_queue_full), as is any QoS 1 message for an away
//     session at its limit. A persistent session keeps what it holds for its next connection.

#include <wireframe/app/connection_id.hpp>
#include <wireframe/push/push_handle.hpp>
#include <wireframe/push/session_registry.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "mqtt/packets.hpp"
#include "mqtt/retained_store.hpp"
#include "mqtt/subscription_tree.hpp"
#include "mqtt_packet.hpp"
#include "session.hpp"

namespace spdlog {
class logger;
}

namespace mqtt_broker {

using Handle = wireframe::PushHandle<MqttPacket>;
using Registry = wireframe::SessionRegistry<MqttPacket>;

struct BrokerLimits {
  std::size_t max_sessions = 100'000;           // connected and persistent ones together
  std::size_t max_queued_messages = 1000;       // per session: QoS 1 in flight + queued
  std::size_t max_queued_bytes = 8u << 20;      // per session: their topics and payloads
  mqtt::TreeLimits tree;
  mqtt::RetainedLimits retained;
};

struct BrokerStats {
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> published{0};     // PUBLISHes received (wills included)
  std::atomic<std::uint64_t> delivered{0};     // PUBLISHes handed to a subscriber's connection
  std::atomic<std::uint64_t> dropped_qos0{0};  // QoS 0, the subscriber's push queue full
  std::atomic<std::uint64_t> dropped_queue_full{0};  // QoS 1, the session at its limit
  std::atomic<std::uint64_t> slow_subscribers_closed{0};
  std::atomic<std::uint64_t> takeovers{0};     // a CONNECT with a client id already connected
  std::atomic<std::uint64_t> wills{0};         // last wills published
};

// What one connection holds (ConnectionContext::user_data, from its CONNECT on).
struct ClientConnection {
  std::shared_ptr<Session> session;
  wireframe::ConnectionId id = 0;
  std::optional<mqtt::Will> will;
  bool disconnected = false;                     // DISCONNECT received: no will (3.14.4-3)
  std::unordered_set<std::uint16_t> awaiting_pubrel;  // QoS 2 PUBLISHes received (4.3.3)
};

class Broker {
 public:
  Broker(BrokerLimits limits, std::shared_ptr<Registry> registry, std::shared_ptr<spdlog::logger> log);

  // The registry the app registers its connections in (WireframeApp::with_session_registry).
  [[nodiscard]] const std::shared_ptr<Registry>& registry() const noexcept { return registry_; }

  // A CONNECT the handler accepted: takes over a connected client of the same id (3.1.4-2),
  // starts or resumes its session (3.1.2.4), and pushes the CONNACK, then what the session
  // holds (the messages in flight again with DUP set, then the queued ones), as one packet made
  // in `reply`. `reply` is left empty, or holds that packet if the push was refused (then the
  // handler answers with it). Null, and nothing done, when a new session would exceed
  // max_sessions.
  std::shared_ptr<Session> connect(const mqtt::Connect& c, wireframe::ConnectionId connection, Handle handle,
                                   MqttPacket& reply);
  // The connection ended (its teardown): the session goes offline (persistent) or away (clean);
  // then the will, unless the client said DISCONNECT.
  void disconnected(const ClientConnection& c);

  // A PUBLISH (or a will): retained if asked (3.3.1.3), then delivered to every match.
  void publish(const mqtt::Publish& message);
  // Appends the SUBACK, then the retained messages the new filters match (3.3.1-6).
  void subscribe(Session& s, const mqtt::Subscribe& request, MqttPacket& reply);
  void unsubscribe(Session& s, const mqtt::Unsubscribe& request);
  // PUBACK: the message leaves flight, and a queued one may take its place.
  void acknowledge(Session& s, std::uint16_t packet_id);

  [[nodiscard]] const BrokerStats& stats() const noexcept { return stats_; }
  [[nodiscard]] spdlog::logger& log() const noexcept { return *log_; }

 private:
  std::optional<Handle> handle_of(const Session& s) const;
  void deliver(Session& s, const mqtt::Publish& message, mqtt::QoS qos, std::optional<MqttPacket>& at_most_once);
  bool hold(Session& s, mqtt::Publish&& message);
  void send_queued(Session& s);
  void close_slow(Session& s);
  void forget(Session& s);
  void append_retained(Session& s, const mqtt::TopicSubscription& t, MqttPacket& reply);
  void append_in_flight(Session& s, mqtt::Publish&& p, MqttPacket& reply);

  BrokerLimits limits_;
  std::shared_ptr<Registry> registry_;
  std::shared_ptr<spdlog::logger> log_;
  BrokerStats stats_;
  std::mutex mutex_;
  mqtt::SubscriptionTree tree_;
  mqtt::RetainedStore retained_;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;   // by client id
  std::unordered_map<mqtt::SubscriberId, Session*> by_subscriber_;       // the same sessions
  mqtt::SubscriberId next_subscriber_ = 1;
};

}  // namespace mqtt_broker
