#pragma once
// mqtt_broker's routes (one per packet type a client may send) and connection hooks, as
// main.cpp registers them. Each handler is a plain function: it never waits (delivery is
// try_push), so wireframe runs it inline in the read that decoded its packet.

#include <wireframe/app/connection_context.hpp>
#include <wireframe/response/response.hpp>

#include <system_error>

#include "mqtt_packet.hpp"

namespace mqtt_broker {

using Reply = wireframe::Response<MqttPacket>;

Reply on_connect(MqttPacket& request, wireframe::ConnectionContext& ctx);
Reply on_publish(MqttPacket& request, wireframe::ConnectionContext& ctx);
Reply on_puback(MqttPacket& request, wireframe::ConnectionContext& ctx);
Reply on_pubrel(MqttPacket& request, wireframe::ConnectionContext& ctx);
Reply on_subscribe(MqttPacket& request, wireframe::ConnectionContext& ctx);
Reply on_unsubscribe(MqttPacket& request, wireframe::ConnectionContext& ctx);
Reply on_pingreq(MqttPacket& request, wireframe::ConnectionContext& ctx);
Reply on_disconnect(MqttPacket& request, wireframe::ConnectionContext& ctx);
// A packet a client must not send a broker (CONNACK, SUBACK, PUBREC, ...): closes (4.8).
Reply on_violation(MqttPacket& request, wireframe::ConnectionContext& ctx);

// The connection ended, however: its session goes offline, its will (if any) is published.
void on_teardown(wireframe::ConnectionContext& ctx, std::error_code reason);

}  // namespace mqtt_broker
