// echo_server: the wireframe demo server. Message id 1 is echoed back unchanged (same id,
// correlation id and payload). Prints "listening on HOST:PORT" (over TLS "listening on
// tls:HOST:PORT", or "listening on unix:PATH") as its first stdout line; logs go to stderr.
// Stops gracefully on SIGINT/SIGTERM and exits 0.
//
//   echo_server [--host ADDR] [--port N | --unix PATH] [--workers N] [--metrics-port N]
//               [--trace-spans] [tls, limits: see --help]
#include <wireframe/wireframe.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>
#include <memory>
#include <string>

#include "../common/cli.hpp"
#include "../common/endpoint_flags.hpp"
#include "../common/limit_flags.hpp"
#include "../common/metrics_flags.hpp"
#include "../common/tls_flags.hpp"

using namespace wireframe;

int main(int argc, char** argv) {
  CLI::App cli("The wireframe demo server: echoes message id 1 back unchanged.", "echo_server");
  example::use_conventions(cli);
  example::ListenFlags listen_flags(7878, 1);
  example::TlsFlags tls;
  example::LimitFlags limits;
  example::MetricsFlags metrics;
  bool trace_spans = false;
  listen_flags.add_to(cli);
  metrics.add_to(cli);
  cli.add_flag("--trace-spans", trace_spans,
               "hand every span to a LoggingTracer (written at trace level, below this server's info: "
               "the spans are made and timed, not written; what tracing costs before any exporter)");
  listen_flags.add_unix_to(cli);
  tls.add_server_flags(cli);
  limits.add_to(cli);
  if (const auto status = example::parse_flags(cli, argc, argv)) return *status;
  const std::string& unix_path = listen_flags.unix_path;  // empty: TCP
  if (const int status = tls.prepare_server("echo_server", !unix_path.empty())) return status;

  auto log = spdlog::stderr_color_mt("echo_server");
  set_logger(log);  // wireframe's own messages go to the same place

  // A plain function, not a coroutine: it never waits, so the connection answers it in the
  // same turn that read the request (a handler that awaits returns asio::awaitable<...>).
  auto echo = [](Envelope& request) -> Response<Envelope> {
    return std::move(request);  // same id, correlation id and payload
  };
  auto opened = [log](ConnectionContext& ctx) {
    log->info("connection {} from {} opened", ctx.id(), ctx.peer_name());
  };
  auto closed = [log](ConnectionContext& ctx, std::error_code reason) {
    log->info("connection {} closed ({})", ctx.id(), reason ? reason.message() : "orderly");
  };
  auto builder = WireframeApp<>().route(1, echo).on_connection_setup(opened).on_connection_teardown(closed);
  builder.metrics(metrics.metrics());  // null without --metrics-port: nothing counted
  if (trace_spans) builder.tracer(std::make_shared<LoggingTracer>(log));
  const auto app = limits.apply(builder).build();
  example::log_limits(*log, app->settings, app->codec.max_frame_length(), limits);

  WireframeServer server(app);
  limits.apply(server);
  const std::string where =
      unix_path.empty() ? tls.prefix() + listen_flags.host + ":" + std::to_string(listen_flags.port)
                        : "unix:" + unix_path;
  try {
    server.workers(listen_flags.workers).stop_on_signals();
    if (unix_path.empty()) {
      tls.bind(server, app, listen_flags.host, listen_flags.port);
    } else {
      server.bind_unix(unix_path);
    }
  } catch (const std::exception& e) {
    std::cerr << "echo_server: cannot listen on " << where << ": " << e.what() << '\n';
    return 1;
  }
  std::cout << "listening on " << (unix_path.empty() ? tls.bound_text(server) : where) << std::endl;
  if (const int status = metrics.start("echo_server", listen_flags.host)) return status;
  server.run();  // returns after SIGINT/SIGTERM, once every connection has ended
  log->info("stopped");
  return server.drain_interrupted() ? 130 : 0;  // a second signal cut the drain short
}
