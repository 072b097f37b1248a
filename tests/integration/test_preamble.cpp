// The connection preamble (WireframeApp::with_preamble) over plain TCP: read before the codec,
// answered by its hooks, bounded by its timeout and size, every failure ending that connection
// only. The preamble over TLS and the upgrade to TLS are in tests/tls/test_tls_preamble.cpp.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <asio/read.hpp>

#include "support/async_test.hpp"
#include "support/hello_preamble.hpp"
#include "support/log_capture.hpp"
#include "support/raw_frames.hpp"

using namespace wireframe;
using namespace wireframe::test;

namespace test_preamble_cpp {  // this file's names, apart from the other files of a unity build

namespace {

// A full Hello exchange and a round trip on a fresh connection: the server serves others.
asio::awaitable<bool> hello_bystander(const asio::ip::tcp::endpoint& ep) {
  WireframeClient<> c(co_await asio::this_coro::executor);
  if (co_await c.connect(ep)) co_return false;
  const std::string ok = co_await exchange(c, hello_bytes(1, "bystander"), 2);
  if (ok != "OK") co_return false;
  const std::string who = co_await whoami(c);
  co_return who == "bystander";
}

using wireframe::test::text_of;  // overloaded here, not hidden
std::string text_of(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

std::vector<std::uint8_t> as_u8(const std::vector<std::byte>& bytes) {
  std::vector<std::uint8_t> out;
  for (std::byte b : bytes) out.push_back(std::to_integer<std::uint8_t>(b));
  return out;
}

}  // namespace

TEST_CASE(
    "a preamble is answered, handlers see its value, and bytes sent with it are the first frame",
    "[integration][preamble]") {
  ServerFixture fx(hello_app().build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    // The preamble and a frame in one write: the frame's bytes arrive with the preamble's.
    std::vector<std::byte> both = hello_bytes(1, "alice");
    const auto frame = frame_bytes(1, 5, 3);
    for (auto b : frame) both.push_back(std::byte{b});
    CO_REQUIRE_OK(client.send_bytes(both));
    std::vector<std::byte> reply(2);
    CO_REQUIRE_OK(client.receive_bytes(reply));
    CHECK(text_of(reply) == "OK");
    auto [ec, echoed] = co_await client.receive();
    REQUIRE_FALSE(ec);
    CHECK(echoed.correlation_id() == 5);
    CHECK(echoed.payload_text() == "ppp");
    const std::string who = co_await whoami(client);
    CHECK(who == "alice");
  });
}

TEST_CASE("a preamble can take several messages: a refused probe, then the real one",
          "[integration][preamble]") {
  ServerFixture fx(hello_app().build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    const std::string probe = co_await exchange(client, hello_bytes(0, "probe"), 1);
    CHECK(probe == "N");
    // Asking for TLS where the listener has none: the hook sees it cannot, refuses, reads on.
    const std::string tls = co_await exchange(client, hello_bytes(7, "tls?"), 1);
    CHECK(tls == "N");
    const std::string ok = co_await exchange(client, hello_bytes(1, "bob"), 2);
    CHECK(ok == "OK");
    const std::string who = co_await whoami(client);
    CHECK(who == "bob");
  });
}

TEST_CASE(
    "a malformed preamble is answered by the failure hook and closed, and a bystander is served",
    "[integration][preamble]") {
  LogCapture log;
  ServerFixture fx(hello_app().build());
  run_async([&]() -> asio::awaitable<void> {
    auto bad = co_await raw_connect(fx.endpoint());
    const std::vector<std::uint8_t> junk{'X', 'Y', 1, 0};
    co_await raw_write(bad, junk);
    const auto answer = co_await read_until_closed(bad);
    CHECK(text_of(answer) == "ERR bad magic");
    CO_CHECK(hello_bystander(fx.endpoint()));
  });
  CHECK(log.has({"preamble refused", "invalid preamble", "bad magic"}));
}

TEST_CASE("a preamble longer than the decoder's max_size is refused", "[integration][preamble]") {
  HelloDecoder small;
  small.max = 16;
  ServerFixture fx(hello_app(small).build());
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx.endpoint());
    co_await raw_write(s, as_u8(hello_bytes(1, std::string(40, 'n'))));  // 44 bytes, past 16
    const auto answer = co_await read_until_closed(s);
    CHECK(text_of(answer) == "ERR no preamble within 16 bytes");
    CO_CHECK(hello_bystander(fx.endpoint()));
  });
}

TEST_CASE("bytes sent with the preamble beyond the connection's read buffer close that connection only",
          "[integration][preamble]") {
  // The preamble may buffer up to 8 KiB, the connection's read buffer holds one 256-byte frame
  // and a 512-byte read: 3 000 bytes behind the preamble, read with it, cannot be handed over.
  LogCapture log;
  HelloDecoder roomy;
  roomy.max = 8192;
  LengthDelimitedCodec::Options small;
  small.max_frame_length = 256;
  ServerFixture fx(hello_app(roomy).with_codec(LengthDelimitedCodec(small)).read_chunk_size(512).build());
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx.endpoint());
    std::vector<std::uint8_t> both = as_u8(hello_bytes(1, "big"));
    both.resize(both.size() + 3000, 0);  // one write: the preamble's first read takes it all
    co_await raw_write(s, both);
    const auto answer = co_await read_until_closed(s);
    CHECK(text_of(answer) == "OK");  // the preamble was answered, then the connection closed
    CO_CHECK(hello_bystander(fx.endpoint()));
  });
  CHECK(log.has({"frame exceeds the maximum frame length", "the bytes after the preamble exceed the read buffer"}));
}

TEST_CASE(
    "a preamble that never completes is closed by preamble_timeout, and a bystander is served "
    "throughout",
    "[integration][preamble]") {
  LogCapture log;
  ServerFixture fx(hello_app().preamble_timeout(400ms).build());
  run_async([&]() -> asio::awaitable<void> {
    auto slow = co_await raw_connect(fx.endpoint());
    const std::vector<std::uint8_t> start{'W', 'F'};
    co_await raw_write(slow, start);           // and never the rest
    CO_CHECK(hello_bystander(fx.endpoint()));  // while the slow one waits
    const auto answer = co_await read_until_closed(slow);
    CHECK(text_of(answer) == "ERR not complete within 400 ms");
    CO_CHECK(hello_bystander(fx.endpoint()));
  });
  CHECK(log.has({"preamble refused", "preamble timed out"}));
}

TEST_CASE(
    "a preamble hook can close the connection, and asking for TLS where none can start closes it",
    "[integration][preamble]") {
  LogCapture log;
  std::atomic<int> served{0};
  ServerFixture fx(hello_app().on_connection_setup([&](ConnectionContext&) { ++served; }).build());
  run_async([&]() -> asio::awaitable<void> {
    auto bye = co_await raw_connect(fx.endpoint());
    co_await raw_write(bye, as_u8(hello_bytes(9, "leaving")));
    const auto answer = co_await read_until_closed(bye);
    CHECK(text_of(answer) == "BYE");
    auto upgrade = co_await raw_connect(fx.endpoint());
    co_await raw_write(upgrade, as_u8(hello_bytes(8, "tls!")));
    const auto nothing = co_await read_until_closed(upgrade);
    CHECK(nothing.empty());
  });
  CHECK(served == 0);  // neither reached its actor
  CHECK(log.has({"the preamble asked for TLS, which this listener cannot start"}));
}

TEST_CASE("a preamble hook that throws ends its own connection, logged",
          "[integration][preamble]") {
  LogCapture log;
  ServerFixture fx(hello_app().build());
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx.endpoint());
    co_await raw_write(s, as_u8(hello_bytes(66, "boom")));
    const auto answer = co_await read_until_closed(s);
    CHECK(answer.empty());
    CO_CHECK(hello_bystander(fx.endpoint()));
  });
  CHECK(log.has({"the connection's opening failed", "hello hook boom"}));
}

TEST_CASE("stopping the server ends connections still in their preamble at once",
          "[integration][preamble]") {
  // The preamble may take 30 s and a stop waits up to 20 s for connections: both far longer
  // than the stop, which must not wait for either.
  ServerFixture fx(hello_app().preamble_timeout(30s).build(), 1, 20s);
  run_async([&]() -> asio::awaitable<void> {
    auto waiting = co_await raw_connect(fx.endpoint());
    CO_CHECK(hello_bystander(fx.endpoint()));  // the server is up, the first one accepted
    const auto took = fx.stop();
    CHECK(took < 10s);
    const auto answer = co_await read_until_closed(waiting);
    CHECK(answer.empty());
  });
}

TEST_CASE("connections in their preamble count against max_connections",
          "[integration][preamble]") {
  WireframeServer* server = nullptr;
  ServerFixture fx(hello_app().build(), 1, 2s, false, [&](WireframeServer& s) {
    s.max_connections(1);
    server = &s;
  });
  run_async([&]() -> asio::awaitable<void> {
    auto first = co_await raw_connect(fx.endpoint());  // holds the one slot in its preamble
    CO_REQUIRE(eventually_async([&] { return server->connection_count() == 1; }, 5s));
    auto second = co_await raw_connect(fx.endpoint());
    const auto refused = co_await read_until_closed(second);
    CHECK(refused.empty());
    co_await raw_write(first, as_u8(hello_bytes(1, "first")));
    std::vector<std::uint8_t> ok(2);
    co_await asio::async_read(first, asio::buffer(ok), asio::use_awaitable);
    CHECK(text_of(ok) == "OK");
    const auto frame = frame_bytes(1, 3, 2);
    co_await raw_write(first, frame);
    std::vector<std::uint8_t> echoed(frame.size());
    co_await asio::async_read(first, asio::buffer(echoed), asio::use_awaitable);
    CHECK(echoed == frame);
    // The opening leaves the count just after its actor joins it (the actor may already have
    // answered by then): the count is one connection again, not two.
    CO_CHECK(eventually_async([&] { return server->connection_count() == 1; }, 5s));
    auto third = co_await raw_connect(fx.endpoint());  // the actor holds the slot: still full
    const auto refused_again = co_await read_until_closed(third);
    CHECK(refused_again.empty());
    first.close();  // the slot comes back once the actor ends
    CO_REQUIRE(eventually_async([&] { return server->connection_count() == 0; }, 5s));
    CO_CHECK(hello_bystander(fx.endpoint()));
  });
}

}  // namespace test_preamble_cpp
