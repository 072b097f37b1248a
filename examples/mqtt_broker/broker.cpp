#include "broker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace mqtt_broker {

using mqtt::QoS;

Broker::Broker(BrokerLimits limits, std::shared_ptr<Registry> registry, std::shared_ptr<spdlog::logger> log)
    : limits_(limits), registry_(std::move(registry)), log_(std::move(log)), tree_(limits.tree), retained_(limits.retained) {}

// The connected client's push handle; none while away, or once its connection is ending.
std::optional<Handle> Broker::handle_of(const Session& s) const {
  if (!s.online()) return std::nullopt;
  return registry_->find(*s.connection);
}

// [snippet connect]
std::shared_ptr<Session> Broker::connect(const mqtt::Connect& c, wireframe::ConnectionId connection, Handle handle,
                                         MqttPacket& reply) {
  ++stats_.connects;
  std::lock_guard lock(mutex_);
  const auto found = sessions_.find(c.client_id);
  std::shared_ptr<Session> slot = found == sessions_.end() ? nullptr : found->second;
  if (slot && slot->connection) {  // the same client id is connected: the older one goes (3.1.4-2)
    if (auto old = registry_->find(*slot->connection)) old->close(wireframe::CloseMode::immediate);
    slot->connection.reset();
    ++stats_.takeovers;
    log_->info("client {}: taken over by connection {}", c.client_id, connection);
  }
  // A clean session ends with its connection; asking for one also discards a stored one.
  if (slot && (slot->clean || c.clean_session)) {
    forget(*slot);
    slot.reset();
  }
  const bool present = slot != nullptr;
  if (!slot) {
    if (sessions_.size() >= limits_.max_sessions) return nullptr;  // CONNACK 3: server unavailable
    slot = std::make_shared<Session>(c.client_id, next_subscriber_++, c.clean_session);
    sessions_.emplace(c.client_id, slot);
    by_subscriber_[slot->subscriber] = slot.get();
  }
  Session& s = *slot;
  s.closing = false;
  mqtt::encode(mqtt::ConnAck{present, mqtt::ConnectReturnCode::accepted}, reply.out());
  for (auto& p : s.in_flight) {  // sent before and not acknowledged: again, as duplicates (4.4)
    p.dup = true;
    mqtt::encode(p, reply.out());
    ++stats_.delivered;
  }
  while (!s.queued.empty()) {
    auto p = std::move(s.queued.front());
    s.queued.pop_front();
    append_in_flight(s, std::move(p), reply);
  }
  // No PUBLISH before the CONNACK (3.2.0-1): deliveries are low-priority pushes, which the
  // writer takes only once the high queue is empty, so the CONNACK goes out as a high one,
  // queued before the session records its connection (before any delivery can find it). As a
  // response it could be overtaken: the writer takes pushes before responses. A refusal leaves
  // it in `reply`.
  auto refused = handle.try_push(std::move(reply), wireframe::PushPriority::high);
  if (!refused.ok() && refused.has_frame()) reply = std::move(*refused.take_frame());
  s.connection = connection;
  return slot;
}
// [end snippet connect]

void Broker::disconnected(const ClientConnection& c) {
  {
    std::lock_guard lock(mutex_);
    Session& s = *c.session;
    if (s.connection == c.id) {  // not taken over meanwhile
      s.connection.reset();
      s.closing = false;
      if (s.clean) forget(s);
    }
  }
  if (c.will && !c.disconnected) {
    ++stats_.wills;
    publish(mqtt::Publish{false, c.will->qos, c.will->retain, c.will->topic, 0, c.will->message});
  }
}

// Drops a session: its subscriptions, what it holds, its entries. Under mutex_.
void Broker::forget(Session& s) {
  tree_.remove_all(s.subscriber);
  by_subscriber_.erase(s.subscriber);
  const auto it = sessions_.find(s.client_id);
  if (it != sessions_.end() && it->second.get() == &s) sessions_.erase(it);
  s.in_flight.clear();
  s.queued.clear();
  s.held_bytes = 0;
}

// [snippet publish]
void Broker::publish(const mqtt::Publish& message) {
  ++stats_.published;
  std::lock_guard lock(mutex_);
  if (message.retain) {
    const auto outcome = retained_.set(message.topic, message.payload, message.qos);
    if (outcome == mqtt::RetainOutcome::too_many_messages || outcome == mqtt::RetainOutcome::over_budget) {
      log_->warn("retained message for {} refused: the retained store is full", message.topic);
    }
  }
  std::optional<MqttPacket> at_most_once;  // the QoS 0 copy, encoded for the first who gets one
  for (const auto& sub : tree_.match(message.topic)) {
    const auto it = by_subscriber_.find(sub.id);
    if (it != by_subscriber_.end()) deliver(*it->second, message, std::min(message.qos, sub.qos), at_most_once);
  }
}

// One subscriber's copy: RETAIN clear (3.3.1-9), QoS the lower of the two (3.8.4-6). Every QoS 0
// copy is the same bytes, so they are encoded once per PUBLISH and copied; a QoS 1 copy has a
// packet id of its own and is kept by the session until acknowledged.
void Broker::deliver(Session& s, const mqtt::Publish& message, QoS qos, std::optional<MqttPacket>& at_most_once) {
  if (qos == QoS::at_most_once) {
    auto handle = handle_of(s);
    if (!handle) return;
    if (!at_most_once) at_most_once = MqttPacket::of(mqtt::Publish{false, qos, false, message.topic, 0, message.payload});
    if (handle->try_push(MqttPacket(*at_most_once)).ok()) ++stats_.delivered;
    else ++stats_.dropped_qos0;
    return;
  }
  if (hold(s, mqtt::Publish{false, qos, false, message.topic, 0, message.payload})) send_queued(s);
}
// [end snippet publish]

// Queues a QoS 1 message within the session's limits; at a limit the message is dropped and a
// connected subscriber is closed as too slow.
bool Broker::hold(Session& s, mqtt::Publish&& message) {
  const std::size_t size = held_size(message);
  if (s.held_messages() >= limits_.max_queued_messages || s.held_bytes + size > limits_.max_queued_bytes) {
    ++stats_.dropped_queue_full;
    if (s.online()) close_slow(s);
    return false;
  }
  s.held_bytes += size;
  s.queued.push_back(std::move(message));
  return true;
}

// Moves queued messages into flight while the subscriber's push queue takes them.
void Broker::send_queued(Session& s) {
  if (s.queued.empty()) return;
  auto handle = handle_of(s);
  while (handle && !s.queued.empty()) {
    mqtt::Publish& next = s.queued.front();
    next.packet_id = s.next_packet_id();
    if (!handle->try_push(MqttPacket::of(next)).ok()) return;  // full: PUBACKs make room
    ++stats_.delivered;
    s.in_flight.push_back(std::move(next));
    s.queued.pop_front();
  }
}

void Broker::close_slow(Session& s) {
  if (auto handle = handle_of(s)) handle->close(wireframe::CloseMode::immediate);
  s.closing = true;
  ++stats_.slow_subscribers_closed;
  log_->warn("closing slow subscriber {}: {} QoS 1 messages ({} bytes) unacknowledged or queued", s.client_id,
             s.held_messages(), s.held_bytes);
}

void Broker::acknowledge(Session& s, std::uint16_t packet_id) {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(s.in_flight.begin(), s.in_flight.end(),
                               [&](const mqtt::Publish& p) { return p.packet_id == packet_id; });
  if (it == s.in_flight.end()) return;  // not ours (or acknowledged twice): nothing to do
  s.held_bytes -= held_size(*it);
  s.in_flight.erase(it);
  send_queued(s);
}

void Broker::subscribe(Session& s, const mqtt::Subscribe& request, MqttPacket& reply) {
  std::lock_guard lock(mutex_);
  mqtt::SubAck ack{request.packet_id, {}};
  for (const auto& t : request.topics) {
    const QoS granted = std::min(t.qos, QoS::at_least_once);  // QoS 2 is granted as 1 (3.9.3)
    const auto outcome = tree_.subscribe(t.filter, s.subscriber, granted);
    const bool ok = outcome == mqtt::SubscribeOutcome::added || outcome == mqtt::SubscribeOutcome::replaced;
    ack.return_codes.push_back(!ok ? mqtt::SubackCode::failure
                               : granted == QoS::at_least_once ? mqtt::SubackCode::granted_qos1
                                                               : mqtt::SubackCode::granted_qos0);
  }
  mqtt::encode(ack, reply.out());
  for (std::size_t i = 0; i < request.topics.size(); ++i) {
    if (ack.return_codes[i] != mqtt::SubackCode::failure) {
      append_retained(s, {request.topics[i].filter, std::min(request.topics[i].qos, QoS::at_least_once)}, reply);
    }
  }
}

// Retained messages go out with RETAIN set (3.3.1-8), after the SUBACK, in the same write. What
// one SUBSCRIBE sends this way is bounded by the session's byte limit; the rest is skipped.
void Broker::append_retained(Session& s, const mqtt::TopicSubscription& t, MqttPacket& reply) {
  std::size_t skipped = 0;
  retained_.for_each_match(t.filter, [&](std::string_view topic, const mqtt::RetainedMessage& m) {
    mqtt::Publish p{false, std::min(m.qos, t.qos), true, std::string(topic), 0, m.payload};
    if (reply.out().size() + held_size(p) > limits_.max_queued_bytes) {
      ++skipped;
      return;
    }
    if (p.qos == QoS::at_most_once) {
      mqtt::encode(p, reply.out());
      ++stats_.delivered;
    } else if (s.held_messages() < limits_.max_queued_messages) {
      s.held_bytes += held_size(p);
      append_in_flight(s, std::move(p), reply);
    } else {
      ++skipped;
    }
  });
  if (skipped > 0) log_->warn("client {}: {} retained messages for {} skipped (limits)", s.client_id, skipped, t.filter);
}

// `p` is held already (counted in held_bytes): it gets a packet id, goes into the reply and
// into flight.
void Broker::append_in_flight(Session& s, mqtt::Publish&& p, MqttPacket& reply) {
  p.packet_id = s.next_packet_id();
  mqtt::encode(p, reply.out());
  ++stats_.delivered;
  s.in_flight.push_back(std::move(p));
}

void Broker::unsubscribe(Session& s, const mqtt::Unsubscribe& request) {
  std::lock_guard lock(mutex_);
  for (const auto& filter : request.filters) (void)tree_.unsubscribe(filter, s.subscriber);
}

}  // namespace mqtt_broker
