// The preamble, the connection's hooks and every route but the query (pg_query.cpp).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <wireframe/error/errc.hpp>

#include <any>
#include <span>
#include <string_view>
#include <vector>

#include "pg_codec.hpp"
#include "pg_server.hpp"

namespace pg {

using wireframe::ConnectionContext;
using wireframe::PreambleAction;
using wireframe::PreambleReply;

namespace {

// One FATAL ErrorResponse, as bytes for a preamble reply.
std::vector<std::byte> fatal_bytes(std::string_view sqlstate, std::string_view message) {
  std::vector<std::byte> out;
  MessageWriter(out).error("FATAL", sqlstate, message);
  return out;
}

// A FATAL ErrorResponse as the reply to `request`, and the connection closes after it.
Reply fatal(PgPacket& request, ConnectionContext& ctx, std::string_view sqlstate, std::string_view message) {
  request.clear_reply();
  request.writer().error("FATAL", sqlstate, message);
  ctx.close();
  return std::move(request);
}

// Client encodings pg_server can honour: it stores and returns bytes as they are.
bool supported_encoding(std::string_view name) {
  return name.empty() || name == "UTF8" || name == "UNICODE" || name == "utf8" || name == "SQL_ASCII";
}

// The parameters PostgreSQL reports at startup (and on change), with pg_server's values.
void init_settings(Session& s, const StartupPacket& startup, const ServerConfig& config) {
  const std::string_view encoding = startup.parameter("client_encoding");
  s.settings = {
      {"application_name", std::string(startup.parameter("application_name"))},
      {"client_encoding", encoding == "SQL_ASCII" ? "SQL_ASCII" : "UTF8"},
      {"DateStyle", "ISO, MDY"},
      {"default_transaction_read_only", "off"},
      {"in_hot_standby", "off"},
      {"integer_datetimes", "on"},
      {"IntervalStyle", "postgres"},
      {"is_superuser", "off"},
      {"server_encoding", "UTF8"},
      {"server_version", config.server_version},
      {"session_authorization", s.user},
      {"standard_conforming_strings", "on"},
      {"TimeZone", "UTC"},
  };
  s.initial_settings = s.settings;
}

// AuthenticationOk, the reported parameters, BackendKeyData, ReadyForQuery: what a client
// waits for before its first query.
void write_greeting(MessageWriter& w, const Session& s) {
  w.authentication(auth_ok);
  for (const auto& [name, value] : s.settings) w.parameter_status(name, value);
  w.backend_key_data(s.pid, s.secret);
  w.ready_for_query(s.tx);
}

PreambleAction on_startup_message(const Services& services, const StartupPacket& p, PreambleReply& reply) {
  if ((p.version >> 16) != 3) {
    reply.write(fatal_bytes("0A000", fmt::format("unsupported frontend protocol {}.{}: server supports 3.0 to 3.0",
                                                 p.version >> 16, p.version & 0xffff)));
    return PreambleAction::close;
  }
  if (p.parameter("user").empty()) {
    reply.write(fatal_bytes("28000", "no PostgreSQL user name specified in startup packet"));
    return PreambleAction::close;
  }
  if (!supported_encoding(p.parameter("client_encoding"))) {
    reply.write(fatal_bytes("22023", fmt::format("invalid value for parameter \"client_encoding\": \"{}\"",
                                                 p.parameter("client_encoding"))));
    return PreambleAction::close;
  }
  if (!services.config.password.empty()) {
    std::vector<std::byte> ask;
    MessageWriter(ask).authentication(auth_cleartext_password);
    reply.write(ask);
  }
  return PreambleAction::proceed;  // trust: on_setup greets the client
}

}  // namespace

// --- the preamble --------------------------------------------------------------------------------

// [snippet startup]
PreambleAction on_startup(const Services& services, const StartupPacket& p, PreambleReply& reply) {
  switch (p.kind) {
    case StartupPacket::Kind::ssl_request:
      // 'S': the client starts TLS on this socket, then sends its startup message over it.
      if (reply.tls_available()) {
        reply.write("S");
        return PreambleAction::upgrade_tls;
      }
      reply.write("N");
      return PreambleAction::read_next;
    case StartupPacket::Kind::gssenc_request:
      reply.write("N");  // no GSSAPI encryption: the client goes on in plain text or over TLS
      return PreambleAction::read_next;
    case StartupPacket::Kind::cancel_request:
      // Answered with nothing either way, as PostgreSQL does: a wrong key learns nothing.
      if (!services.directory->cancel(p.cancel_pid, p.cancel_secret)) {
        services.log->info("cancel request for process {} ignored (no such session, or a wrong key)", p.cancel_pid);
      }
      return PreambleAction::close;
    case StartupPacket::Kind::startup:
      return on_startup_message(services, p, reply);
  }
  return PreambleAction::close;
// [end snippet startup]
}

void on_startup_failure(const wireframe::PreambleFailure& failure, PreambleReply& reply) {
  reply.write(fatal_bytes("08P01", failure.reason));
}

// --- the connection ------------------------------------------------------------------------------

Session* session_of(ConnectionContext& ctx) {
  auto* s = std::any_cast<std::shared_ptr<Session>>(&ctx.user_data());
  return s ? s->get() : nullptr;
}

std::shared_ptr<Session> shared_session_of(ConnectionContext& ctx) {
  auto* s = std::any_cast<std::shared_ptr<Session>>(&ctx.user_data());
  return s ? *s : nullptr;
}

// [snippet setup]
void on_setup(ConnectionContext& ctx) {
  const Services& services = ctx.state<Services>();
  const StartupPacket* startup = ctx.preamble<StartupPacket>();
  if (startup == nullptr) return;  // cannot happen: the preamble is what started the connection
  auto session = std::make_shared<Session>();
  session->user = startup->parameter("user");
  const std::string_view database = startup->parameter("database");
  session->database = database.empty() ? session->user : std::string(database);
  init_settings(*session, *startup, services.config);
  const SessionDirectory::Key key = services.directory->open(ctx.id(), session->cancel);
  session->pid = key.pid;
  session->secret = key.secret;
  ctx.user_data() = session;
  if (!services.config.password.empty()) return;  // the password message comes next
  session->authenticated = true;
  // Pushed: the greeting is the first thing the client reads, before any request of its own.
  auto greeting = PgPacket::reply_of([&](MessageWriter& w) { write_greeting(w, *session); });
  (void)ctx.push_handle<PgPacket>().try_push(std::move(greeting));  // an empty queue has room
// [end snippet setup]
}

void on_teardown(ConnectionContext& ctx, std::error_code) {
  if (const Session* s = session_of(ctx)) ctx.state<Services>().directory->close(s->pid);
}

// --- routes --------------------------------------------------------------------------------------

Reply password(PgPacket& request, ConnectionContext& ctx) {
  Session* s = session_of(ctx);
  const Services& services = ctx.state<Services>();
  if (s == nullptr || s->authenticated || services.config.password.empty()) {
    return fatal(request, ctx, "08P01", "unexpected password message");
  }
  std::string_view given;
  if (!request.body_cstring(given)) return fatal(request, ctx, "08P01", "invalid password packet");
  if (given != services.config.password) {
    services.log->info("password authentication failed for user \"{}\"", s->user);
    return fatal(request, ctx, "28P01", fmt::format("password authentication failed for user \"{}\"", s->user));
  }
  s->authenticated = true;
  request.clear_reply();
  MessageWriter w = request.writer();
  write_greeting(w, *s);
  return std::move(request);
}

Reply terminate(PgPacket&, ConnectionContext& ctx) {
  ctx.close();
  return Reply{};
}

Reply extended(PgPacket& request, ConnectionContext& ctx) {
  Session* s = session_of(ctx);
  if (s == nullptr || !s->authenticated) {
    return fatal(request, ctx, "08P01",
                 fmt::format("expected password response, got message type {}", static_cast<int>(request.type())));
  }
  const char type = request.type();
  if (type == msg_copy_data || type == msg_copy_done || type == msg_copy_fail) return Reply{};  // no COPY: ignored
  request.clear_reply();
  MessageWriter w = request.writer();
  if (type == msg_sync) {
    s->skip_until_sync = false;
    w.ready_for_query(s->tx);
    return std::move(request);
  }
  if (type == msg_function_call) {  // a simple-protocol message: answered, then ready again
    w.error("ERROR", "0A000", "pg_server does not support the function call protocol");
    w.ready_for_query(s->tx);
    return std::move(request);
  }
  if (s->skip_until_sync) return Reply{};  // PostgreSQL discards until Sync after an error
  s->skip_until_sync = true;
  if (s->tx == TxStatus::in_block) s->tx = TxStatus::failed;
  w.error("ERROR", "0A000",
          fmt::format("pg_server supports the simple query protocol only (got extended-protocol message '{}')", type));
  return std::move(request);
}

Reply unsupported(PgPacket& request, ConnectionContext& ctx) {
  return fatal(request, ctx, "08P01",
               fmt::format("invalid frontend message type {}", static_cast<int>(static_cast<unsigned char>(request.type()))));
}

// [snippet notify]
std::pair<std::size_t, std::size_t> deliver_notify(const Services& services, std::int32_t sender,
                                                   const std::string& channel, const std::string& payload) {
  std::size_t delivered = 0, dropped = 0;
  const PgPacket note = PgPacket::reply_of([&](MessageWriter& w) { w.notification(sender, channel, payload); });
  for (const SessionDirectory::Listener& l : services.directory->listeners(channel)) {
    auto handle = services.registry->find(l.connection);
    if (!handle) continue;  // ended since: nothing to deliver to
    if (handle->try_push(note).ok()) {
      ++delivered;
    } else {
      ++dropped;
      services.log->warn("notification on \"{}\" not delivered to process {}: its push queue is full", channel, l.pid);
    }
  }
  return {delivered, dropped};
// [end snippet notify]
}

// --- protocol hooks ------------------------------------------------------------------------------

void PgProtocol::on_connection_setup(wireframe::PushHandle<PgPacket> handle,
                                     wireframe::ProtocolContext<connection_state>& ctx) const {
  ctx.state().pushes = std::move(handle);
}

// [snippet protocol]
void PgProtocol::handle_error(const wireframe::WireframeError<wireframe::NoProtocolError>& error,
                              wireframe::ProtocolContext<connection_state>& ctx) const {
  if (!error.is_io() || !ctx.state().pushes) return;
  const std::error_code& ec = error.io_error();
  std::string_view sqlstate, message;
  if (ec.category() == errc_category()) {
    sqlstate = "08P01";
    message = ec == Errc::message_too_large ? "message too large" : "invalid message length";
  } else if (ec == wireframe::errc::handler_failed) {
    sqlstate = "XX000";
    message = "internal error in pg_server: the session ends";
  } else {
    return;  // timeouts, resets: nobody to tell, or nothing PostgreSQL would say
  }
  auto packet = PgPacket::reply_of([&](MessageWriter& w) { w.error("FATAL", sqlstate, message); });
  (void)ctx.state().pushes->try_push(std::move(packet), wireframe::PushPriority::high);
// [end snippet protocol]
}

}  // namespace pg
