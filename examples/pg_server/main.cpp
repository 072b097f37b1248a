// pg_server: a PostgreSQL wire-protocol (v3) mock database on wireframe. psql, libpq and the
// drivers built on it (psycopg2, ...) connect to it as to PostgreSQL. It swaps wireframe's
// pluggable parts for PostgreSQL's: PgCodec (typed messages), PgPacket (the message type is the
// route), StartupDecoder (the untyped startup packets, as a preamble that may upgrade the
// connection to TLS); the router, back-pressure, pushes, the session registry and graceful
// shutdown are wireframe's. docs/pg-server.md walks through it.
//
// What it answers: the simple query protocol over an in-memory table store (CREATE TABLE,
// DROP TABLE, INSERT, SELECT [WHERE col = value], DELETE), SELECT * FROM generate_series(a, b)
// streamed (cancellable), BEGIN/COMMIT/ROLLBACK (no undo: a rollback says so), LISTEN/NOTIFY,
// SHOW/SET. Authentication: trust, or one cleartext password for every user (--password).
//
// Prints "listening on HOST:PORT" (with " (TLS on request)" when TLS is configured), then
// "listening on unix:DIR/.s.PGSQL.PORT" with --unix-dir, as its first stdout lines; logs go to
// stderr. Stops gracefully on SIGINT/SIGTERM and exits 0.
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
#include "pg_codec.hpp"
#include "pg_server.hpp"

using namespace wireframe;

namespace {

struct PgFlags {
  std::string unix_dir;
  std::string password;
  unsigned long max_message = 4ul * 1024 * 1024;

  void add_to(CLI::App& app) {
    app.add_option("--unix-dir", unix_dir, "also listen on DIR/.s.PGSQL.<port>, where psql -h DIR looks")
        ->type_name("DIR")
        ->check(CLI::ExistingDirectory);
    app.add_option("--password", password,
                   "ask every client for this password (in clear text: use TLS); without it, trust")
        ->type_name("TEXT")
        ->check(example::non_empty());
    app.add_option("--max-message-bytes", max_message, "longest message (a query) a client may send")
        ->type_name("BYTES")
        ->transform(example::decimal(1024, 1ul << 30));
  }
};

std::shared_ptr<pg::Services> make_services(const PgFlags& flags, std::shared_ptr<spdlog::logger> log) {
  auto services = std::make_shared<pg::Services>();
  services->config.password = flags.password;
  services->store = std::make_shared<pg::sql::TableStore>();
  services->directory = std::make_shared<pg::SessionDirectory>();
  services->registry = std::make_shared<SessionRegistry<pg::PgPacket>>();
  services->log = std::move(log);
  return services;
}

auto make_app(const std::shared_ptr<pg::Services>& services, const PgFlags& flags, const example::LimitFlags& limits,
              std::shared_ptr<Metrics> metrics) {
  // [snippet app]
  auto builder = WireframeApp<pg::PgCodec, pg::PgPacket>();
  limits.apply(builder)
      .with_codec(pg::PgCodec(flags.max_message))
      .metrics(std::move(metrics))  // --metrics-port (null without it)
      .with_state(services)
      .with_session_registry(services->registry)
      .with_preamble(
          pg::StartupDecoder{},
          [services](const pg::StartupPacket& p, PreambleReply& reply) { return pg::on_startup(*services, p, reply); },
          pg::on_startup_failure)
      .on_connection_setup(pg::on_setup)
      .on_connection_teardown(pg::on_teardown)
      .route(pg::msg_query, pg::query)
      .route(pg::msg_password, pg::password)
      .route(pg::msg_terminate, pg::terminate)
      .route(pg::msg_unsupported, pg::unsupported)
      // A handler that throws ends its session; PgProtocol tells the client first (FATAL XX000).
      .handler_error_policy(HandlerErrorPolicy::close);
  for (const pg::Frontend type : {pg::msg_parse, pg::msg_bind, pg::msg_describe, pg::msg_execute, pg::msg_close,
                                  pg::msg_flush, pg::msg_sync, pg::msg_function_call, pg::msg_copy_data,
                                  pg::msg_copy_done, pg::msg_copy_fail}) {
    builder.route(type, pg::extended);
  }
  return builder.with_protocol(pg::PgProtocol{}).build();
  // [end snippet app]
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli("A PostgreSQL wire-protocol mock database: psql and libpq's drivers talk to it.", "pg_server");
  example::use_conventions(cli);
  example::ListenFlags listen_flags(5433, 1);  // 5433: beside a real PostgreSQL on 5432
  PgFlags flags;
  example::TlsFlags tls;
  example::LimitFlags limits;
  example::MetricsFlags metrics;
  listen_flags.add_to(cli);
  flags.add_to(cli);
  tls.add_server_flags(cli);
  limits.add_to(cli);
  metrics.add_to(cli);
  if (const auto status = example::parse_flags(cli, argc, argv)) return *status;
  if (const int status = tls.prepare_server("pg_server", false)) return status;

  auto log = spdlog::stderr_color_mt("pg_server");
  set_logger(log);  // wireframe's own messages go to the same place
  const auto services = make_services(flags, log);
  const auto app = make_app(services, flags, limits, metrics.metrics());
  example::log_limits(*log, app->settings, app->codec.max_frame_length(), limits);

  WireframeServer server(app);
  limits.apply(server);
  std::string where = listen_flags.host + ":" + std::to_string(listen_flags.port);
  std::string unix_path;
  asio::ip::tcp::endpoint bound;
  try {
    server.workers(listen_flags.workers).stop_on_signals();
    // With TLS: plain text until a client's SSLRequest asks for TLS (on_startup answers 'S').
    tls.bind(server, app, listen_flags.host, listen_flags.port, example::TlsFlags::Start::on_request);
    bound = tls.bound(server);
    where = example::endpoint_text(bound);
    if (!flags.unix_dir.empty()) {  // named for the TCP port, as PostgreSQL names its socket
      unix_path = flags.unix_dir + "/.s.PGSQL." + std::to_string(bound.port());
      where = "unix:" + unix_path;
      server.bind_unix(unix_path);
    }
  } catch (const std::exception& e) {
    std::cerr << "pg_server: cannot listen on " << where << ": " << e.what() << '\n';
    return 1;
  }
  std::cout << "listening on " << example::endpoint_text(bound) << (tls.enabled() ? " (TLS on request)" : "") << '\n';
  if (!unix_path.empty()) std::cout << "listening on unix:" << unix_path << '\n';
  std::cout << std::flush;
  if (const int status = metrics.start("pg_server", listen_flags.host)) return status;
  server.run();  // returns after SIGINT/SIGTERM, once every connection has ended
  log->info("stopped");
  return server.drain_interrupted() ? 130 : 0;  // a second signal cut the drain short
}
