// echo_server: the wireframe demo server. Message id 1 is echoed back unchanged (same id,
// correlation id and payload). Prints "listening on HOST:PORT" (over TLS "listening on
// tls:HOST:PORT", or "listening on unix:PATH") as its first stdout line; logs go to stderr.
// Stops gracefully on SIGINT/SIGTERM and exits 0.
//
//   echo_server [--host ADDR] [--port N | --unix PATH] [--workers N] [tls, limits: see --help]
#include <wireframe/wireframe.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "../common/example_flags.hpp"
#include "../common/limit_flags.hpp"
#include "../common/tls_flags.hpp"

using namespace wireframe;

namespace {

using example::parse;
using example::valid_address;

constexpr std::string_view usage =
    "usage: echo_server [--host ADDR] [--port N | --unix PATH] [--workers N] [tls] [limits]\n"
    "  --host ADDR          address to listen on (default 127.0.0.1)\n"
    "  --port N             TCP port, 0 = any free port (default 7878)\n"
    "  --unix PATH          listen on a Unix domain socket at PATH instead of TCP\n"
    "  --workers N          worker threads (default 1)\n";

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", unix_path;
  unsigned long port = 7878, workers = 1;
  example::LimitFlags limits;
  example::TlsFlags tls;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage << example::TlsFlags::server_usage << example::LimitFlags::usage;
      return 0;
    }
    const std::string_view value = i + 1 < argc ? argv[i + 1] : "";
    bool ok = i + 1 < argc;
    if (flag == "--host") {
      host = value;
      ok = ok && valid_address(host);
    } else if (flag == "--port") {
      ok = ok && parse(value, 65535, port);
    } else if (flag == "--unix") {
      unix_path = value;
      ok = ok && !unix_path.empty();
    } else if (flag == "--workers") {
      ok = ok && parse(value, 1024, workers) && workers > 0;
    } else if (!limits.parse(flag, value, ok) && !tls.parse(flag, value, ok)) {
      ok = false;
    }
    if (!ok) {
      std::cerr << "echo_server: bad argument '" << flag << "'\n"
                << usage << example::TlsFlags::server_usage << example::LimitFlags::usage;
      return 2;
    }
    ++i;
  }
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
  const auto app = limits.apply(builder).build();
  example::log_limits(*log, app->settings, app->codec.max_frame_length(), limits);

  WireframeServer server(app);
  limits.apply(server);
  const std::string where =
      unix_path.empty() ? tls.prefix() + host + ":" + std::to_string(port) : "unix:" + unix_path;
  try {
    server.workers(workers).stop_on_signals();
    if (unix_path.empty()) {
      tls.bind(server, app, host, static_cast<std::uint16_t>(port));
    } else {
      server.bind_unix(unix_path);
    }
  } catch (const std::exception& e) {
    std::cerr << "echo_server: cannot listen on " << where << ": " << e.what() << '\n';
    return 1;
  }
  std::cout << "listening on " << (unix_path.empty() ? tls.bound_text(server) : where) << std::endl;
  server.run();  // returns after SIGINT/SIGTERM, once every connection has ended
  log->info("stopped");
  return server.drain_interrupted() ? 130 : 0;  // a second signal cut the drain short
}
