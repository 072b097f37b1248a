#include "handlers.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string_view>
#include <utility>
#include <variant>

#include "broker.hpp"
#include "mqtt/packets.hpp"

namespace mqtt_broker {

namespace {

Broker& broker_of(wireframe::ConnectionContext& ctx) { return ctx.state<Broker>(); }

// The connection's client, from its CONNECT on; null before.
ClientConnection* client_of(wireframe::ConnectionContext& ctx) {
  auto* c = std::any_cast<std::shared_ptr<ClientConnection>>(&ctx.user_data());
  return c != nullptr ? c->get() : nullptr;
}

// 4.8: on a protocol violation the server closes the connection, without a word to the client.
Reply violation(wireframe::ConnectionContext& ctx, std::string_view why) {
  // The connection's own fields (conn=, peer=), as wireframe's events carry them.
  broker_of(ctx).log().warn("mqtt.protocol_violation {} why=\"{}\"", ctx.log_fields(), why);
  ctx.close();
  return Reply{};
}

// The packet `request` carried, as type T, or the reason it is not a valid one.
template <class T>
mqtt::Result<T> parse_as(const MqttPacket& request) {
  auto parsed = mqtt::parse_packet(request.type(), request.flags(), request.body());
  if (!parsed) return parsed.error();
  return std::get<T>(std::move(*parsed));
}

// The reply to `request`, in its own buffers: one encoded packet.
template <class P>
Reply answer(MqttPacket& request, const P& packet) {
  request.clear_reply();
  mqtt::encode(packet, request.out());
  return std::move(request);
}

Reply refuse_connect(MqttPacket& request, wireframe::ConnectionContext& ctx, mqtt::ConnectReturnCode code,
                     std::string_view why) {
  broker_of(ctx).log().info("connection {} ({}): CONNECT refused ({}): {}", ctx.id(), ctx.peer_name(),
                            static_cast<int>(code), why);
  ctx.close();  // after the CONNACK (3.2.2-5)
  return answer(request, mqtt::ConnAck{false, code});
}

}  // namespace

// [snippet on_connect]
Reply on_connect(MqttPacket& request, wireframe::ConnectionContext& ctx) {
  if (client_of(ctx) != nullptr) return violation(ctx, "a second CONNECT (3.1.0-2)");
  auto parsed = mqtt::parse_connect(request.body());
  if (!parsed) {
    const auto code = mqtt::connack_code_for(parsed.error());
    if (!code) return violation(ctx, parsed.error().reason);
    return refuse_connect(request, ctx, *code, parsed.error().reason);
  }
  mqtt::Connect& c = *parsed;
  if (c.client_id.empty()) c.client_id = "wireframe-" + std::to_string(ctx.id());  // 3.1.3-6
  request.clear_reply();
  auto session = broker_of(ctx).connect(c, ctx.id(), ctx.push_handle<MqttPacket>(), request);
  if (!session) {
    return refuse_connect(request, ctx, mqtt::ConnectReturnCode::server_unavailable, "too many sessions");
  }
  auto client = std::make_shared<ClientConnection>();
  client->session = std::move(session);
  client->id = ctx.id();
  client->will = std::move(c.will);
  ctx.user_data() = std::move(client);
  // 3.1.2-24: silent for one and a half keep-alives, the client is gone.
  if (c.keep_alive > 0) ctx.set_read_idle_timeout(std::chrono::milliseconds(c.keep_alive) * 1500);
  if (request.out().empty()) return Reply{};  // the CONNACK went out as a push (Broker::connect)
  return std::move(request);
}
// [end snippet on_connect]

// [snippet on_publish]
Reply on_publish(MqttPacket& request, wireframe::ConnectionContext& ctx) {
  ClientConnection* client = client_of(ctx);
  if (client == nullptr) return violation(ctx, "PUBLISH before CONNECT (3.1.0-1)");
  auto parsed = parse_as<mqtt::Publish>(request);
  if (!parsed) return violation(ctx, parsed.error().reason);
  const mqtt::Publish& p = *parsed;
  switch (p.qos) {
    case mqtt::QoS::at_most_once:
      broker_of(ctx).publish(p);
      return Reply{};
    case mqtt::QoS::at_least_once:
      broker_of(ctx).publish(p);
      return answer(request, mqtt::PubAck{p.packet_id});
    case mqtt::QoS::exactly_once:  // delivered on receipt, once per packet id until PUBREL (4.3.3)
      if (client->awaiting_pubrel.insert(p.packet_id).second) broker_of(ctx).publish(p);
      return answer(request, mqtt::PubRec{p.packet_id});
  }
  return violation(ctx, "invalid QoS");
}
// [end snippet on_publish]

Reply on_puback(MqttPacket& request, wireframe::ConnectionContext& ctx) {
  ClientConnection* client = client_of(ctx);
  if (client == nullptr) return violation(ctx, "PUBACK before CONNECT (3.1.0-1)");
  auto parsed = parse_as<mqtt::PubAck>(request);
  if (!parsed) return violation(ctx, parsed.error().reason);
  broker_of(ctx).acknowledge(*client->session, parsed->packet_id);
  return Reply{};
}

Reply on_pubrel(MqttPacket& request, wireframe::ConnectionContext& ctx) {
  ClientConnection* client = client_of(ctx);
  if (client == nullptr) return violation(ctx, "PUBREL before CONNECT (3.1.0-1)");
  auto parsed = parse_as<mqtt::PubRel>(request);
  if (!parsed) return violation(ctx, parsed.error().reason);
  client->awaiting_pubrel.erase(parsed->packet_id);
  return answer(request, mqtt::PubComp{parsed->packet_id});  // also for an unknown id (4.3.3)
}

Reply on_subscribe(MqttPacket& request, wireframe::ConnectionContext& ctx) {
  ClientConnection* client = client_of(ctx);
  if (client == nullptr) return violation(ctx, "SUBSCRIBE before CONNECT (3.1.0-1)");
  auto parsed = parse_as<mqtt::Subscribe>(request);
  if (!parsed) return violation(ctx, parsed.error().reason);
  request.clear_reply();
  broker_of(ctx).subscribe(*client->session, *parsed, request);
  return std::move(request);  // SUBACK, then the retained messages the filters match
}

Reply on_unsubscribe(MqttPacket& request, wireframe::ConnectionContext& ctx) {
  ClientConnection* client = client_of(ctx);
  if (client == nullptr) return violation(ctx, "UNSUBSCRIBE before CONNECT (3.1.0-1)");
  auto parsed = parse_as<mqtt::Unsubscribe>(request);
  if (!parsed) return violation(ctx, parsed.error().reason);
  broker_of(ctx).unsubscribe(*client->session, *parsed);
  return answer(request, mqtt::UnsubAck{parsed->packet_id});
}

Reply on_pingreq(MqttPacket& request, wireframe::ConnectionContext& ctx) {
  if (client_of(ctx) == nullptr) return violation(ctx, "PINGREQ before CONNECT (3.1.0-1)");
  auto parsed = parse_as<mqtt::PingReq>(request);
  if (!parsed) return violation(ctx, parsed.error().reason);
  return answer(request, mqtt::PingResp{});
}

Reply on_disconnect(MqttPacket& request, wireframe::ConnectionContext& ctx) {
  ClientConnection* client = client_of(ctx);
  if (client == nullptr) return violation(ctx, "DISCONNECT before CONNECT (3.1.0-1)");
  auto parsed = parse_as<mqtt::Disconnect>(request);
  if (!parsed) return violation(ctx, parsed.error().reason);
  client->disconnected = true;  // its will is discarded (3.14.4-3)
  ctx.close();
  return Reply{};
}

Reply on_violation(MqttPacket& request, wireframe::ConnectionContext& ctx) {
  return violation(ctx, "a packet of type " + std::to_string(static_cast<int>(request.type())) +
                            " is never sent to a broker");
}

void on_teardown(wireframe::ConnectionContext& ctx, std::error_code reason) {
  ClientConnection* client = client_of(ctx);
  if (client == nullptr) return;
  broker_of(ctx).log().debug("client {} (connection {}) gone: {}", client->session->client_id, ctx.id(),
                             reason ? reason.message() : "closed");
  broker_of(ctx).disconnected(*client);
}

}  // namespace mqtt_broker
