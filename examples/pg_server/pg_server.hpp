#pragma once
// pg_server's parts, as main.cpp puts them together: the shared services every connection's
// handlers reach through ConnectionContext::state<Services>(), the preamble and connection
// hooks, the routes (one per frontend message type) and PgProtocol, the protocol hooks that
// answer a message the codec cannot frame. docs/pg-server.md walks through them.

#include <wireframe/app/connection_context.hpp>
#include <wireframe/error/wireframe_error.hpp>
#include <wireframe/preamble/preamble_hooks.hpp>
#include <wireframe/protocol/wireframe_protocol.hpp>
#include <wireframe/push/push_handle.hpp>
#include <wireframe/push/session_registry.hpp>
#include <wireframe/response/response.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "pg_packet.hpp"
#include "pg_session.hpp"
#include "pg_startup.hpp"
#include "sql/table_store.hpp"

namespace spdlog {
class logger;
}

namespace pg {

using Reply = wireframe::Response<PgPacket>;

struct ServerConfig {
  std::string password;  // empty: trust (no password asked); else cleartext password auth
  std::string server_version = "15.0";  // what clients parse for feature checks
  std::size_t max_listen_channels = 1000;         // per session
  std::size_t max_pending_notifies = 10000;       // per transaction block
  std::size_t max_notify_payload = 7999;          // PostgreSQL's limit (8000 bytes with the NUL)
  std::size_t result_chunk_bytes = 64 * 1024;     // a query's answer is sent in packets this big
};

struct Services {
  ServerConfig config;
  std::shared_ptr<sql::TableStore> store;
  std::shared_ptr<SessionDirectory> directory;
  std::shared_ptr<wireframe::SessionRegistry<PgPacket>> registry;
  std::shared_ptr<spdlog::logger> log;
};

// --- the preamble ----------------------------------------------------------------------------
wireframe::PreambleAction on_startup(const Services& services, const StartupPacket& packet,
                                     wireframe::PreambleReply& reply);
void on_startup_failure(const wireframe::PreambleFailure& failure, wireframe::PreambleReply& reply);

// --- the connection --------------------------------------------------------------------------
void on_setup(wireframe::ConnectionContext& ctx);
void on_teardown(wireframe::ConnectionContext& ctx, std::error_code reason);

// --- routes ----------------------------------------------------------------------------------
Reply password(PgPacket& request, wireframe::ConnectionContext& ctx);
Reply query(PgPacket& request, wireframe::ConnectionContext& ctx);  // pg_query.cpp
Reply terminate(PgPacket& request, wireframe::ConnectionContext& ctx);
Reply extended(PgPacket& request, wireframe::ConnectionContext& ctx);
Reply unsupported(PgPacket& request, wireframe::ConnectionContext& ctx);

// The session of a connection (made by on_setup); null before it.
Session* session_of(wireframe::ConnectionContext& ctx);
std::shared_ptr<Session> shared_session_of(wireframe::ConnectionContext& ctx);

// Delivers a NotificationResponse to every session listening on `channel` (the sender's too,
// as PostgreSQL does). A listener whose push queue is full loses it: logged, and counted in the
// return value's second member. Returns {delivered, dropped}.
std::pair<std::size_t, std::size_t> deliver_notify(const Services& services, std::int32_t sender,
                                                   const std::string& channel, const std::string& payload);

// Protocol hooks: a message the codec refuses (a length below 4 or above the limit), and a
// handler that failed (the app's policy closes the connection then), are answered with a FATAL
// ErrorResponse before the connection closes, as PostgreSQL answers a protocol violation or an
// internal error that ends a session.
struct PgProtocol {
  using hooks = wireframe::protocol_hooks<wireframe::hook::on_connection_setup, wireframe::hook::handle_error>;
  struct connection_state {
    std::optional<wireframe::PushHandle<PgPacket>> pushes;
  };
  void on_connection_setup(wireframe::PushHandle<PgPacket> handle,
                           wireframe::ProtocolContext<connection_state>& ctx) const;
  void handle_error(const wireframe::WireframeError<wireframe::NoProtocolError>& error,
                    wireframe::ProtocolContext<connection_state>& ctx) const;
};

}  // namespace pg
