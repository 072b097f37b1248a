// The preamble with TLS: a plain connection upgraded in place when its preamble asks
// (TlsStart::on_request, PostgreSQL's SSLRequest), the preamble read again over TLS, plaintext
// smuggled before the handshake refused, and a preamble behind an immediate handshake.
#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "support/hello_preamble.hpp"
#include "tls_fixture.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace wireframe::test::tls;
using namespace std::chrono_literals;

namespace test_tls_preamble_cpp {  // this file's names, apart from the other files of a unity build

namespace {

template <class Built>
std::unique_ptr<ServerFixture> serve(Built built, TlsStart start) {
  return std::make_unique<ServerFixture>(built, 1, 2s, false, [built, start](WireframeServer& s) {
    s.bind_tls("127.0.0.1", 0, tls_listener(built, server_context(), start));
  });
}

}  // namespace

TEST_CASE(
    "a plain connection whose preamble asks for TLS is upgraded in place, and the preamble read "
    "again",
    "[tls][preamble]") {
  auto fx = serve(hello_app().build(), TlsStart::on_request);
  run_async([&]() -> asio::awaitable<void> {
    const auto context = client_context();
    const TlsClientOptions options;
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx->server().tls_local_endpoint()));
    const std::string s = co_await exchange(client, hello_bytes(7, "wants tls"), 1);
    REQUIRE(s == "S");
    CO_REQUIRE_OK(start_tls(client, localhost, *context, options));
    const std::string ok = co_await exchange(client, hello_bytes(1, "carol"), 2);
    CHECK(ok == "OK");
    const std::string who = co_await whoami(client);
    CHECK(who == "carol+tls");
    // A bystander on the same listener who stays plain (the hook allows it here).
    WireframeClient<> plain(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(plain.connect(fx->server().tls_local_endpoint()));
    const std::string plain_ok = co_await exchange(plain, hello_bytes(1, "dave"), 2);
    CHECK(plain_ok == "OK");
    const std::string plain_who = co_await whoami(plain);
    CHECK(plain_who == "dave");
  });
}

TEST_CASE("bytes sent between the request for TLS and the handshake are refused",
          "[tls][preamble]") {
  LogCapture log;
  auto fx = serve(hello_app().build(), TlsStart::on_request);
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx->server().tls_local_endpoint());
    std::vector<std::uint8_t> smuggled;
    for (std::byte b : hello_bytes(7, "tls")) smuggled.push_back(std::to_integer<std::uint8_t>(b));
    for (char c : std::string("\x16not a handshake"))
      smuggled.push_back(static_cast<std::uint8_t>(c));
    co_await raw_write(s, smuggled);
    const auto answer = co_await read_until_closed(s);
    CHECK(std::string(answer.begin(), answer.end()) == "S");  // the reply, then nothing more
  });
  CHECK(log.has({"bytes arrived between the request for TLS and the handshake: refused"}));
}

TEST_CASE("a TLS request answered, then no handshake: closed by the handshake timeout",
          "[tls][preamble]") {
  LogCapture log;
  auto fx = serve(hello_app().handshake_timeout(300ms).build(), TlsStart::on_request);
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx->server().tls_local_endpoint());
    std::vector<std::uint8_t> request;
    for (std::byte b : hello_bytes(7, "tls")) request.push_back(std::to_integer<std::uint8_t>(b));
    co_await raw_write(s, request);
    const auto answer = co_await read_until_closed(s);  // bounded: run_async fails a hang
    CHECK(std::string(answer.begin(), answer.end()) == "S");
  });
  CHECK(log.has({"TLS handshake timed out"}));
}

TEST_CASE("with an immediate handshake the preamble is read over TLS", "[tls][preamble]") {
  auto fx = serve(hello_app().build(), TlsStart::immediately);
  run_async([&]() -> asio::awaitable<void> {
    const auto context = client_context();
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(
        connect_tls(client, localhost, fx->server().tls_local_endpoint().port(), *context));
    // Over TLS already: asking again is refused by the hook (no TLS left to start), then the real
    // one.
    const std::string again = co_await exchange(client, hello_bytes(7, "more tls"), 1);
    CHECK(again == "N");
    const std::string ok = co_await exchange(client, hello_bytes(1, "erin"), 2);
    CHECK(ok == "OK");
    const std::string who = co_await whoami(client);
    CHECK(who == "erin+tls");
  });
}

TEST_CASE("TlsStart::on_request without a preamble is a configuration error", "[tls][preamble]") {
  const auto built = WireframeApp<>().build();
  try {
    (void)tls_listener(built, server_context(), TlsStart::on_request);
    FAIL("tls_listener accepted on_request without a preamble");
  } catch (const std::system_error& e) {
    CHECK(e.code() == make_error_code(errc::invalid_configuration));
  }
}

}  // namespace test_tls_preamble_cpp
