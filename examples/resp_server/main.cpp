// resp_server: a Redis-protocol (RESP2) server on wireframe. It swaps both pluggable layers:
// RespCodec (a FrameCodec that finds RESP requests instead of length prefixes) and RespPacket
// (a Packet whose id is the command), and keeps wireframe's router, pipelining, back-pressure
// and graceful shutdown as they are. Any Redis client works: redis-cli, redis-benchmark.
//
// Commands: PING [msg], ECHO msg, SET key value, GET key, DEL key [key ...], QUIT.
// Unknown commands get "-ERR unknown command '<name>'" through wireframe's unknown-id policy.
//
// Prints "listening on HOST:PORT" (over TLS "listening on tls:HOST:PORT") as its first stdout
// line; logs go to stderr. Stops gracefully on SIGINT/SIGTERM and exits 0.
//
//   resp_server [--host ADDR] [--port N] [--workers N] [--max-bulk-len BYTES] [--max-args N]
//               [tls] [limits]
#include <wireframe/wireframe.hpp>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kv_store.hpp"
#include "resp_codec.hpp"
#include "resp_packet.hpp"
#include "../common/cli.hpp"
#include "../common/endpoint_flags.hpp"
#include "../common/limit_flags.hpp"
#include "../common/metrics_flags.hpp"
#include "../common/tls_flags.hpp"

using namespace wireframe;
using resp::KeyValueStore;
using resp::RespCodec;
using resp::RespPacket;

namespace {

using Reply = Response<RespPacket>;
using App = WireframeApp<RespCodec, RespPacket>;

// --- commands ------------------------------------------------------------------------------------
// Each handler turns the request into its reply in place and returns it: the packet's buffers
// are recycled by wireframe, so no command allocates in steady state (SET of a new key aside).
// None of them waits for anything, so they are plain functions, not coroutines: wireframe runs
// them in the turn that decoded the request (inline dispatch), with no coroutine frame and no
// hand-off to the dispatcher.

Reply ping(RespPacket& r) {
  if (r.arg_count() == 1) {
    r.set_pong();
  } else if (r.arg_count() == 2) {
    r.set_bulk(r.arg(1));
  } else {
    r.set_wrong_arity();
  }
  return std::move(r);
}

Reply echo(RespPacket& r) {
  if (r.arg_count() == 2) {
    r.set_bulk(r.arg(1));
  } else {
    r.set_wrong_arity();
  }
  return std::move(r);
}

Reply set(RespPacket& r, ConnectionContext& ctx) {
  if (r.arg_count() < 3) {
    r.set_wrong_arity();
  } else if (r.arg_count() > 3) {  // EX, PX, NX, XX, KEEPTTL, GET: not supported here
    r.set_error("ERR syntax error (SET options are not supported by this server)");
  } else {
    ctx.state<KeyValueStore>().set(r.arg(1), r.arg(2));
    r.set_ok();
  }
  return std::move(r);
}

Reply get(RespPacket& r, ConnectionContext& ctx) {
  if (r.arg_count() != 2) {
    r.set_wrong_arity();
  } else {
    // The value is copied into the reply under the shard's lock.
    const bool found = ctx.state<KeyValueStore>().get(r.arg(1), [&r](std::string_view v) { r.set_bulk(v); });
    if (!found) r.set_null();
  }
  return std::move(r);
}

Reply del(RespPacket& r, ConnectionContext& ctx) {
  if (r.arg_count() < 2) {
    r.set_wrong_arity();
  } else {
    auto& store = ctx.state<KeyValueStore>();
    std::int64_t removed = 0;
    for (std::size_t i = 1; i < r.arg_count(); ++i) removed += store.erase(r.arg(i)) ? 1 : 0;
    r.set_integer(removed);
  }
  return std::move(r);
}

Reply quit(RespPacket& r, ConnectionContext& ctx) {
  r.set_ok();
  ctx.close();  // after this reply has been written
  return std::move(r);
}

// "*0\r\n" or a blank inline line: Redis answers nothing.
Reply ignore(RespPacket&) { return Reply{}; }

// The frame wireframe sends for an unknown message id (UnknownIdPolicy::error_frame) and for a
// handler that threw (HandlerErrorPolicy::error_frame).
std::optional<RespPacket> error_reply(const RespPacket& request, const WireframeError<NoProtocolError>& err) {
  if (err.is_io() && err.io_error() == errc::unknown_message_id) {
    return RespPacket::error(fmt::format("ERR unknown command '{}'", request.command_as_sent()));
  }
  return RespPacket::error("ERR internal error");
}

// --- program -------------------------------------------------------------------------------------


}  // namespace

int main(int argc, char** argv) {
  CLI::App cli("A Redis-protocol (RESP2) server on wireframe: PING, ECHO, SET, GET, DEL, QUIT.",
               "resp_server");
  example::use_conventions(cli);
  example::ListenFlags listen_flags(6380, 1);
  resp::Limits limits;
  example::TlsFlags tls;
  example::LimitFlags server_limits;
  example::MetricsFlags metrics;
  listen_flags.add_to(cli);
  cli.add_option("--max-bulk-len", limits.max_bulk_length, "largest argument accepted (as Redis)")
      ->type_name("BYTES")
      ->transform(example::decimal(1, limits.max_request_length - 64));
  cli.add_option("--max-args", limits.max_array_elements, "most arguments in one request")
      ->type_name("N")
      ->transform(example::decimal(1, 1ull << 31));
  tls.add_server_flags(cli);
  server_limits.add_to(cli);
  metrics.add_to(cli);
  if (const auto status = example::parse_flags(cli, argc, argv)) return *status;
  if (const int status = tls.prepare_server("resp_server", false)) return status;

  auto log = spdlog::stderr_color_mt("resp_server");
  set_logger(log);  // wireframe's own messages (e.g. a connection closed for a protocol error)

  auto builder = App();
  server_limits.apply(builder)
                 .with_codec(RespCodec(limits))
                 .metrics(metrics.metrics())  // null without --metrics-port: nothing counted
                 // One worker needs no sharding (one uncontended lock); several get 64 shards.
                 .with_state(std::make_shared<KeyValueStore>(listen_flags.workers == 1 ? 1 : 64))
                 .route(resp::cmd_ping, ping)
                 .route(resp::cmd_echo, echo)
                 .route(resp::cmd_set, set)
                 .route(resp::cmd_get, get)
                 .route(resp::cmd_del, del)
                 .route(resp::cmd_quit, quit)
                 .route(resp::empty_request, ignore)
                 .unknown_id_policy(UnknownIdPolicy::error_frame)  // id 0: unknown command
                 .handler_error_policy(HandlerErrorPolicy::error_frame)
                 .error_frame(error_reply)
                 // redis-benchmark -P 16 sends 16 requests at once: read them all ahead.
                 .max_pipelined_requests(128)
                 .max_queued_frames(128);
  const auto app = builder.build();
  example::log_limits(*log, app->settings, app->codec.max_frame_length(), server_limits);

  WireframeServer server(app);
  server_limits.apply(server);
  try {
    server.workers(listen_flags.workers).stop_on_signals();
    tls.bind(server, app, listen_flags.host, listen_flags.port);
  } catch (const std::exception& e) {
    std::cerr << "resp_server: cannot listen on " << tls.prefix() << listen_flags.host << ":"
              << listen_flags.port << ": " << e.what() << '\n';
    return 1;
  }
  std::cout << "listening on " << tls.bound_text(server) << std::endl;
  if (const int status = metrics.start("resp_server", listen_flags.host)) return status;
  server.run();  // returns after SIGINT/SIGTERM, once every connection has ended
  log->info("stopped");
  return server.drain_interrupted() ? 130 : 0;  // a second signal cut the drain short
}
