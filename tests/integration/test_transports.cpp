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

#include "support/transport_checks.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_transports_cpp {  // this file's names, apart from the other files of a unity build

namespace {

using transport::app;
using transport::echo_id;

struct ViaTcp {
  static constexpr bool unix_socket = false;
  template <class App>
  static void bind(WireframeServer&, std::shared_ptr<const App>) {}
  static asio::awaitable<std::error_code> connect(WireframeClient<>& client, ServerFixture& fx) {
    co_return co_await client.connect(fx.endpoint());
  }
  static void check_peer(std::string_view seen) { CHECK(seen.starts_with("127.0.0.1:")); }
};

struct ViaUnix {
  static constexpr bool unix_socket = true;
  template <class App>
  static void bind(WireframeServer&, std::shared_ptr<const App>) {}
  static asio::awaitable<std::error_code> connect(WireframeClient<>& client, ServerFixture& fx) {
    co_return co_await client.connect_unix(fx.unix_path());
  }
  static void check_peer(std::string_view seen) { CHECK(seen == "unix unix"); }
};

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

}  // namespace

TEST_CASE("echo over TCP and over a Unix domain socket", "[integration][transport]") {
  SECTION("tcp") { transport::check_echo<ViaTcp>(); }
  SECTION("unix") { transport::check_echo<ViaUnix>(); }
}

TEST_CASE("pushes over TCP and over a Unix domain socket", "[integration][transport][push]") {
  SECTION("tcp") { transport::check_pushes<ViaTcp>(); }
  SECTION("unix") { transport::check_pushes<ViaUnix>(); }
}

TEST_CASE("fragmented round trips over TCP and over a Unix domain socket", "[integration][transport][fragment]") {
  SECTION("tcp") { transport::check_fragments<ViaTcp>(); }
  SECTION("unix") { transport::check_fragments<ViaUnix>(); }
}

TEST_CASE("a server listening on both serves both at once, and removes its socket file on stop",
          "[integration][transport]") {
  ServerFixture fx(app().build(), 2, 2s, true);
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
    WireframeServer server(app().build());
    server.workers(1).bind_unix(path);  // the stale file is replaced
    CHECK(server.unix_path() == path);
    std::thread runner([&] { server.run(); });
    // A second server on the live path is refused, and the live server keeps its file.
    WireframeServer second(app().build());
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
    WireframeServer server(app().build());
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
  WireframeServer server(app().build());
  using std::filesystem::perms;
  server.workers(1).bind_unix(path, perms::owner_read | perms::owner_write);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
}  // never run: the destructor removes the file

}  // namespace test_transports_cpp
