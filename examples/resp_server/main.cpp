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
#include "../common/example_flags.hpp"
#include "../common/limit_flags.hpp"
#include "../common/tls_flags.hpp"

using namespace wireframe;
using resp::KeyValueStore;
using resp::RespCodec;
using resp::RespPacket;

namespace {

using example::parse;
using example::valid_address;

using Reply = Response<RespPacket>;
using App = WireframeApp<RespCodec, RespPacket>;

constexpr std::string_view usage =
    "usage: resp_server [--host ADDR] [--port N] [--workers N] [--max-bulk-len BYTES]\n"
    "                   [--max-args N] [tls] [limits]\n"
    "  --host ADDR           address to listen on (default 127.0.0.1)\n"
    "  --port N              TCP port, 0 = any free port (default 6380)\n"
    "  --workers N           worker threads (default 1)\n"
    "  --max-bulk-len BYTES  largest argument accepted (default 536870912, as Redis)\n"
    "  --max-args N          most arguments in one request (default 65536)\n";

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
  std::string host = "127.0.0.1";
  unsigned long long port = 6380, workers = 1;
  resp::Limits limits;
  example::LimitFlags server_limits;
  example::TlsFlags tls;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage << example::TlsFlags::server_usage << example::LimitFlags::usage;
      return 0;
    }
    const std::string_view value = i + 1 < argc ? argv[i + 1] : "";
    bool ok = i + 1 < argc;
    unsigned long long n = 0;
    if (flag == "--host") {
      host = value;
      ok = ok && valid_address(host);
    } else if (flag == "--port") {
      ok = ok && parse(value, 65535, port);
    } else if (flag == "--workers") {
      ok = ok && parse(value, 1024, workers) && workers > 0;
    } else if (flag == "--max-bulk-len") {
      ok = ok && parse(value, limits.max_request_length - 64, n) && n > 0;
      limits.max_bulk_length = static_cast<std::size_t>(n);
    } else if (flag == "--max-args") {
      ok = ok && parse(value, 1ull << 31, n) && n > 0;
      limits.max_array_elements = static_cast<std::size_t>(n);
    } else if (!server_limits.parse(flag, value, ok) && !tls.parse(flag, value, ok)) {
      ok = false;
    }
    if (!ok) {
      std::cerr << "resp_server: bad argument '" << flag << "'\n"
                << usage << example::TlsFlags::server_usage << example::LimitFlags::usage;
      return 2;
    }
    ++i;
  }
  if (const int status = tls.prepare_server("resp_server", false)) return status;

  auto log = spdlog::stderr_color_mt("resp_server");
  set_logger(log);  // wireframe's own messages (e.g. a connection closed for a protocol error)

  auto builder = App();
  server_limits.apply(builder)
                 .with_codec(RespCodec(limits))
                 // One worker needs no sharding (one uncontended lock); several get 64 shards.
                 .with_state(std::make_shared<KeyValueStore>(workers == 1 ? 1 : 64))
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
    server.workers(workers).stop_on_signals();
    tls.bind(server, app, host, static_cast<std::uint16_t>(port));
  } catch (const std::exception& e) {
    std::cerr << "resp_server: cannot listen on " << tls.prefix() << host << ":" << port << ": "
              << e.what() << '\n';
    return 1;
  }
  std::cout << "listening on " << tls.bound_text(server) << std::endl;
  server.run();  // returns after SIGINT/SIGTERM, once every connection has ended
  log->info("stopped");
  return server.drain_interrupted() ? 130 : 0;  // a second signal cut the drain short
}
