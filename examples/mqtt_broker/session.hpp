#pragma once
// Session: what the broker keeps of one client id (MQTT 3.1.1, 3.1.2.4): its subscriptions (in
// the broker's SubscriptionTree, under its SubscriberId) and its QoS 1 messages, sent and not
// yet acknowledged (in flight) or waiting to be sent (queued). A clean session lives as long as
// its connection; a persistent one (clean_session = 0) outlives it, keeps collecting QoS 1
// messages while its client is away, and sends them when it comes back: those in flight again
// with DUP set (4.4), then the queued ones.
//
// Bounded: in flight and queued together hold at most BrokerLimits::max_queued_messages
// messages and max_queued_bytes bytes of topic and payload. Guarded by the broker's mutex.

#include <wireframe/app/connection_id.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "mqtt/packets.hpp"
#include "mqtt/subscription_tree.hpp"
#include "mqtt_packet.hpp"

namespace mqtt_broker {

struct Session {
  Session(std::string id, mqtt::SubscriberId sub, bool clean_session)
      : client_id(std::move(id)), subscriber(sub), clean(clean_session) {}

  std::string client_id;
  mqtt::SubscriberId subscriber;
  bool clean;
  std::optional<wireframe::ConnectionId> connection;  // while a client is connected (its handle:
                                                      // the broker's SessionRegistry)
  bool closing = false;  // asked to close (too slow): sends it nothing more
  std::deque<mqtt::Publish> in_flight;  // QoS 1, sent (packet_id set), in send order
  std::deque<mqtt::Publish> queued;     // QoS 1, waiting to be sent
  std::size_t held_bytes = 0;           // topic + payload bytes of both

  [[nodiscard]] bool online() const noexcept { return connection.has_value() && !closing; }
  [[nodiscard]] std::size_t held_messages() const noexcept { return in_flight.size() + queued.size(); }

  // The next packet id not in flight (2.3.1: non-zero, unique among the unacknowledged).
  // Precondition: fewer than 65535 in flight (max_queued_messages is bounded below that).
  std::uint16_t next_packet_id() noexcept {
    for (;;) {
      const std::uint16_t id = next_id_;
      next_id_ = static_cast<std::uint16_t>(next_id_ == 65535 ? 1 : next_id_ + 1);
      bool used = false;
      for (const auto& p : in_flight) used = used || p.packet_id == id;
      if (!used) return id;
    }
  }

 private:
  std::uint16_t next_id_ = 1;
};

inline std::size_t held_size(const mqtt::Publish& p) noexcept { return p.topic.size() + p.payload.size(); }

}  // namespace mqtt_broker
