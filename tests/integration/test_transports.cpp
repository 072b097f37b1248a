// Transports: the same app over TCP and over a Unix domain socket (echo, pushes, fragmented
// messages, the transport a handler sees), and the Unix socket file's life (stale files,
// live servers, files that are not sockets, permissions, removal on stop).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "support/async_test.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;
using Resp = Response<Envelope>;

namespace {

constexpr std::uint32_t echo_id = 1;
constexpr std::uint32_t transport_id = 2;  // answers with the transport the handler sees
constexpr std::uint32_t push_id = 3;       // answers, then pushes two frames after its reply

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

auto transport_app() {
  return WireframeApp<>()
      .route(echo_id, [](Envelope& e) -> Resp { return std::move(e); })
      .route(transport_id,
             [](Envelope& e, ConnectionContext& ctx) -> Resp {
               const bool unix_socket = ctx.transport() == Transport::unix_domain;
               return Envelope(e.id(), e.correlation_id(), unix_socket ? "unix " + ctx.peer_name() : ctx.peer_name());
             })
      .route(push_id, [](Envelope& e, ConnectionContext& ctx) -> asio::awaitable<Resp> {
        auto handle = ctx.push_handle<Envelope>();
        CHECK(handle.try_push(Envelope(9, 0, "high"), PushPriority::high).ok());
        CHECK(handle.try_push(Envelope(9, 0, "low"), PushPriority::low).ok());
        co_return std::move(e);
      });
}

enum class Via { tcp, unix_socket };

asio::awaitable<std::error_code> connect(WireframeClient<>& client, const ServerFixture& fx, Via via) {
  if (via == Via::tcp) co_return co_await client.connect(fx.endpoint());
  co_return co_await client.connect_unix(fx.unix_path());
}

// Pipelined echoes of every size, replies in order and byte-exact; the handler sees the transport.
// 240 KB in all: the client writes everything before it reads, so the replies must fit in the
// socket buffers and the server's outbound budget (a Unix socket buffers about 200 KB).
void check_echo(Via via) {
  ServerFixture fx(transport_app().build(), 1, 2s, true);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(connect(client, fx, via));
    std::vector<Envelope> batch;
    for (std::size_t i = 0; i < 20; ++i) {
      batch.emplace_back(echo_id, i + 1, random_bytes(i * i * 97, static_cast<unsigned>(i)));
    }
    CO_REQUIRE_OK(client.send_all(batch));
    for (const Envelope& sent : batch) {
      auto [ec, reply] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(reply == sent);
    }
    auto [ec, seen] = co_await client.call(Envelope(transport_id, 0, ""));
    REQUIRE_FALSE(ec);
    if (via == Via::unix_socket) {
      CHECK(seen.payload_text() == "unix unix");
    } else {
      CHECK(seen.payload_text().starts_with("127.0.0.1:"));
    }
  });
}

// A handler's pushes reach the peer on either transport: queued before its reply, they go out
// before it (the writer's biased select: pushes before responses), the high one first.
void check_pushes(Via via) {
  ServerFixture fx(transport_app().build(), 1, 2s, true);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(connect(client, fx, via));
    CO_REQUIRE_OK(client.send(Envelope(push_id, 7, "request")));
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i) {
      auto [ec, frame] = co_await client.receive();
      REQUIRE_FALSE(ec);
      got.emplace_back(frame.payload_text());
    }
    CHECK(got == std::vector<std::string>{"high", "low", "request"});
  });
}

// A 3 MiB message split into 32 KiB frames both ways.
void check_fragments(Via via) {
  LengthDelimitedCodec::Options o;
  o.max_frame_length = 32 * 1024;
  const LenFlag32K strategy(o.max_frame_length - LenFlag32K::header_length);
  ReassemblyLimits limits;
  limits.max_message_size = 8 * 1024 * 1024;
  limits.max_buffered_bytes = 8 * 1024 * 1024;
  ServerFixture fx(transport_app().with_codec(LengthDelimitedCodec(o)).with_fragmentation(strategy, limits).build(),
                   1, 2s, true);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor, LengthDelimitedCodec(o));
    client.with_fragmentation(strategy, limits);
    CO_REQUIRE_OK(connect(client, fx, via));
    const Envelope big(echo_id, 5, random_bytes(3 * 1024 * 1024 + 11, 5));
    auto [ec, reply] = co_await client.call(big);
    REQUIRE_FALSE(ec);
    CHECK(reply == big);
  }, 30s);
}

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

}  // namespace

TEST_CASE("echo over TCP and over a Unix domain socket", "[integration][transport]") {
  SECTION("tcp") { check_echo(Via::tcp); }
  SECTION("unix") { check_echo(Via::unix_socket); }
}

TEST_CASE("pushes over TCP and over a Unix domain socket", "[integration][transport][push]") {
  SECTION("tcp") { check_pushes(Via::tcp); }
  SECTION("unix") { check_pushes(Via::unix_socket); }
}

TEST_CASE("fragmented round trips over TCP and over a Unix domain socket", "[integration][transport][fragment]") {
  SECTION("tcp") { check_fragments(Via::tcp); }
  SECTION("unix") { check_fragments(Via::unix_socket); }
}

TEST_CASE("a server listening on both serves both at once, and removes its socket file on stop",
          "[integration][transport]") {
  ServerFixture fx(transport_app().build(), 2, 2s, true);
  const std::string path = fx.unix_path();
  REQUIRE(exists(path));
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> over_tcp(co_await asio::this_coro::executor);
    WireframeClient<> over_unix(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(over_tcp.connect(fx.endpoint()));
    CO_REQUIRE_OK(over_unix.connect_unix(path));
    auto [e1, r1] = co_await over_unix.call(Envelope(echo_id, 0, "via unix"));
    auto [e2, r2] = co_await over_tcp.call(Envelope(echo_id, 0, "via tcp"));
    REQUIRE_FALSE(e1);
    REQUIRE_FALSE(e2);
    CHECK(r1.payload_text() == "via unix");
    CHECK(r2.payload_text() == "via tcp");
  });
  (void)fx.stop();
  CHECK_FALSE(exists(path));
}

TEST_CASE("bind_unix replaces a stale socket file, and refuses a live server's and a regular file",
          "[integration][transport]") {
  const std::string path = unique_socket_path();
  {  // a socket file nobody accepts on: what a server killed with SIGKILL leaves behind
    asio::io_context io;
    asio::local::stream_protocol::acceptor dead(io, asio::local::stream_protocol::endpoint(path));
    dead.close();
  }
  REQUIRE(exists(path));
  {
    WireframeServer server(transport_app().build());
    server.workers(1).bind_unix(path);  // the stale file is replaced
    CHECK(server.unix_path() == path);
    std::thread runner([&] { server.run(); });
    // A second server on the live path is refused, and the live server keeps its file.
    WireframeServer second(transport_app().build());
    CHECK_THROWS_AS(second.workers(1).bind_unix(path), std::system_error);
    run_async([&]() -> asio::awaitable<void> {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect_unix(path));
      auto [ec, reply] = co_await client.call(Envelope(echo_id, 0, "still mine"));
      REQUIRE_FALSE(ec);
      CHECK(reply.payload_text() == "still mine");
    });
    server.stop();
    runner.join();
  }
  CHECK_FALSE(exists(path));
  {  // a file that is not a socket is never removed
    std::ofstream(path) << "precious";
    WireframeServer server(transport_app().build());
    try {
      server.workers(1).bind_unix(path);
      FAIL("bind_unix took a regular file's path");
    } catch (const std::system_error& e) {
      CHECK(e.code() == std::errc::file_exists);
    }
    std::ifstream in(path);
    std::string kept;
    in >> kept;
    CHECK(kept == "precious");
    std::filesystem::remove(path);
  }
}

TEST_CASE("bind_unix sets the socket file's permissions", "[integration][transport]") {
  const std::string path = unique_socket_path();
  WireframeServer server(transport_app().build());
  using std::filesystem::perms;
  server.workers(1).bind_unix(path, perms::owner_read | perms::owner_write);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
}  // never run: the destructor removes the file
