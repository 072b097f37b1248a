// TLS: the transport checks over TLS, mutual TLS, refused certificates (with the reason
// logged), plaintext on the TLS port, the handshake bounded and ended by shutdown, close_notify
// on a graceful end, SNI and ALPN, large writes to a slow reader (the write backlog), and TLS
// files that cannot be used.
#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tls_fixture.hpp"

#include <asio/ssl/error.hpp>
#include <asio/read.hpp>
#include <asio/ssl/stream.hpp>

using namespace wireframe;
using namespace wireframe::test;
using namespace wireframe::test::tls;
using namespace std::chrono_literals;

namespace test_tls_cpp {  // this file's names, apart from the other files of a unity build

using transport::app;
using transport::echo_id;
using transport::peer_id;

namespace {

constexpr std::uint32_t big_id = 4;    // answers with 4 MiB in 64 KiB frames
constexpr std::uint32_t alpn_id = 5;  // answers with the SNI and ALPN the handler sees

auto tls_app() {
  return app()
      .route(big_id, [](Envelope& e) -> Response<Envelope> {
        std::vector<Envelope> frames;
        for (int i = 0; i < 64; ++i) frames.emplace_back(e.id(), e.correlation_id(), transport::random_bytes(64 * 1024, static_cast<unsigned>(i)));
        return frames;
      })
      .route(alpn_id, [](Envelope& e, ConnectionContext& ctx) -> Response<Envelope> {
        const TlsSession* tls = ctx.tls();
        return Envelope(e.id(), e.correlation_id(), tls ? tls->server_name + " " + tls->alpn : "plain");
      });
}

// A server with a TLS listener (and its plain one), over `context`.
template <class Built>
std::unique_ptr<ServerFixture> serve_tls(Built built, std::shared_ptr<asio::ssl::context> context) {
  return std::make_unique<ServerFixture>(built, 1, 2s, false, [built, context](WireframeServer& s) {
    s.bind_tls("127.0.0.1", 0, tls_listener(built, context));
  });
}

std::uint16_t tls_port(ServerFixture& fx) { return fx.server().tls_local_endpoint().port(); }

// An echo through `client` works.
asio::awaitable<bool> echoes(WireframeClient<>& client, std::string text) {
  auto [ec, reply] = co_await client.call(Envelope(echo_id, 0, text));
  co_return !ec && reply.payload_text() == text;
}

}  // namespace

TEST_CASE("echo over TLS", "[tls][transport]") { transport::check_echo<ViaTls>(); }
TEST_CASE("pushes over TLS", "[tls][transport][push]") { transport::check_pushes<ViaTls>(); }
TEST_CASE("fragmented round trips over TLS", "[tls][transport][fragment]") { transport::check_fragments<ViaTls>(); }

TEST_CASE("mutual TLS: a client with a certificate from the trusted CA is served and identified", "[tls]") {
  auto fx = serve_tls(tls_app().build(), server_context("server", true));
  run_async([&]() -> asio::awaitable<void> {
    const auto context = client_context("client");
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(connect_tls(client, localhost, tls_port(*fx), *context));
    CO_CHECK(echoes(client, "mutual"));
  });
}

TEST_CASE("mutual TLS: clients without a certificate, or with an untrusted one, are refused with a logged reason",
          "[tls]") {
  LogCapture log;
  auto fx = serve_tls(tls_app().build(), server_context("server", true));
  for (const std::string identity : {"", "rogue_client"}) {
    INFO("client identity: " << (identity.empty() ? "none" : identity));
    run_async([&]() -> asio::awaitable<void> {
      const auto context = client_context(identity);
      WireframeClient<> client(co_await asio::this_coro::executor);
      // TLS 1.3 lets the client finish its handshake before the server has checked it: the
      // refusal arrives as an alert on the client's first read.
      const std::error_code ec = co_await connect_tls(client, localhost, tls_port(*fx), *context);
      if (!ec) {
        auto [call_ec, reply] = co_await client.call(Envelope(echo_id, 0, "let me in"));
        CHECK(call_ec);
      }
    });
  }
  CHECK(eventually([&] { return log.has({"TLS handshake failed", "peer did not return a certificate"}); }));
  CHECK(eventually([&] { return log.has({"TLS handshake failed", "certificate verify failed", "unable to get local issuer"}); }));
  run_async([&]() -> asio::awaitable<void> {  // and the server goes on serving
    const auto context = client_context("client");
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(connect_tls(client, localhost, tls_port(*fx), *context));
    CO_CHECK(echoes(client, "still serving"));
  });
}

TEST_CASE("without mutual TLS a client certificate is optional, and verified when sent", "[tls]") {
  auto fx = serve_tls(tls_app().build(), server_context());
  run_async([&]() -> asio::awaitable<void> {
    for (const std::string identity : {"", "client"}) {
      const auto context = client_context(identity);
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(connect_tls(client, localhost, tls_port(*fx), *context));
      CO_CHECK(echoes(client, "optional"));
    }
  });
}

TEST_CASE("the client refuses a server whose certificate it does not trust, or that names another host", "[tls]") {
  auto rogue = serve_tls(tls_app().build(), server_context("rogue_server"));
  auto real = serve_tls(tls_app().build(), server_context());
  run_async([&]() -> asio::awaitable<void> {
    const auto context = client_context();
    WireframeClient<> untrusted(co_await asio::this_coro::executor);
    const std::error_code ec = co_await connect_tls(untrusted, localhost, tls_port(*rogue), *context);
    REQUIRE(ec);
    CHECK(ec.category() == asio::error::get_ssl_category());
    CHECK(ec.message().find("certificate verify failed") != std::string::npos);

    WireframeClient<> wrong_name(co_await asio::this_coro::executor);
    const std::error_code ec2 = co_await connect_tls(wrong_name, localhost, tls_port(*real), *context,
                                                     client_options("db.example.com"));
    CHECK(ec2);

    WireframeClient<> right(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(connect_tls(right, localhost, tls_port(*real), *context));
    CO_CHECK(echoes(right, "trusted"));
  });
}

TEST_CASE("a plaintext client on the TLS port is closed: at once when it speaks, by the handshake timeout when silent",
          "[tls][timeout]") {
  LogCapture log;
  auto built = tls_app().handshake_timeout(300ms).build();
  auto fx = serve_tls(built, server_context());
  const asio::ip::tcp::endpoint tls_endpoint = fx->server().tls_local_endpoint();
  run_async([&]() -> asio::awaitable<void> {
    // Speaks the plain protocol: not a TLS record, refused as soon as it is read.
    auto talker = co_await raw_connect(tls_endpoint);
    const auto start = std::chrono::steady_clock::now();
    const std::uint8_t frame[] = {0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'h', 'i', '!', '!'};
    co_await raw_write(talker, frame);
    (void)co_await read_until_closed(talker);
    CHECK(std::chrono::steady_clock::now() - start < 250ms);

    // Silent: closed when the handshake timeout passes, while a bystander is served.
    auto silent = co_await raw_connect(tls_endpoint);
    const auto silent_start = std::chrono::steady_clock::now();
    const auto context = client_context();
    WireframeClient<> bystander(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(connect_tls(bystander, localhost, tls_endpoint.port(), *context));
    CO_CHECK(echoes(bystander, "unaffected"));
    (void)co_await read_until_closed(silent);
    const auto waited = std::chrono::steady_clock::now() - silent_start;
    CHECK(waited >= 250ms);
    CHECK(waited < 3s);
    CO_CHECK(echoes(bystander, "still unaffected"));
  });
  CHECK(eventually([&] { return log.has({"TLS handshake failed"}); }));
  CHECK(eventually([&] { return log.has({"TLS handshake timed out"}); }));
}

TEST_CASE("stopping the server ends connections still in their TLS handshake at once", "[tls][shutdown]") {
  auto fx = serve_tls(tls_app().build(), server_context());  // handshake limit: read_timeout, 30 s
  asio::io_context io;
  asio::ip::tcp::socket silent(io);
  silent.connect(fx->server().tls_local_endpoint());
  REQUIRE(eventually([&] { return fx->server().connection_count() == 1; }));
  CHECK(fx->stop() < 2s);
}

TEST_CASE("a graceful end sends close_notify before the TCP close", "[tls][shutdown]") {
  auto fx = serve_tls(tls_app().build(), server_context());
  run_async([&]() -> asio::awaitable<void> {
    // A bare asio::ssl::stream tells close_notify (eof) from a cut connection (stream_truncated).
    const auto context = client_context();
    asio::ssl::stream<asio::ip::tcp::socket> stream(co_await asio::this_coro::executor, *context);
    co_await stream.next_layer().async_connect(fx->server().tls_local_endpoint(), asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    // One echo first, so that the server's side of the handshake is over too (a connection
    // still in its handshake is simply closed by shutdown).
    const std::uint8_t frame[] = {0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 'p', 'i', 'n', 'g'};
    co_await asio::async_write(stream, asio::buffer(frame), asio::use_awaitable);
    std::array<std::uint8_t, sizeof frame> reply{};
    co_await asio::async_read(stream, asio::buffer(reply), asio::use_awaitable);
    CHECK(std::ranges::equal(reply, frame));
    fx->server().stop();
    std::array<char, 64> buf;
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), detail::use_nothrow);
    CHECK(n == 0);
    CHECK(ec == asio::error::eof);  // close_notify; without it asio reports stream_truncated
  });
}

TEST_CASE("SNI and ALPN reach the handler, and a client with no protocol in common is refused", "[tls]") {
  auto fx = serve_tls(tls_app().build(), server_context("server", false, {"wf/2", "wf/1"}));
  run_async([&]() -> asio::awaitable<void> {
    const auto context = client_context();
    // (Options made outside the co_await: g++ 12 fails on a braced list inside one.)
    const TlsClientOptions wf1 = client_options("localhost", {"wf/1"});
    const std::string loopback = "127.0.0.1";
    const TlsClientOptions h2 = client_options("", {"h2"});
    const TlsClientOptions too_long = client_options("", {std::string(256, 'x')});
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(connect_tls(client, loopback, tls_port(*fx), *context, wf1));
    auto [ec, reply] = co_await client.call(Envelope(alpn_id, 0, ""));
    REQUIRE_FALSE(ec);
    CHECK(reply.payload_text() == "localhost wf/1");

    WireframeClient<> other(co_await asio::this_coro::executor);
    const std::error_code refused = co_await connect_tls(other, localhost, tls_port(*fx), *context, h2);
    CHECK(refused);

    // A name ALPN cannot carry (over 255 bytes) is an error before anything is sent.
    WireframeClient<> invalid(co_await asio::this_coro::executor);
    const std::error_code bad = co_await connect_tls(invalid, localhost, tls_port(*fx), *context, too_long);
    CHECK(bad == std::errc::invalid_argument);
  });
}

TEST_CASE("4 MiB to a client that stops reading for a while arrive whole", "[tls][backpressure]") {
  auto fx = serve_tls(tls_app().build(), server_context());
  run_async([&]() -> asio::awaitable<void> {
    const auto context = client_context();
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(connect_tls(client, localhost, tls_port(*fx), *context));
    CO_REQUIRE_OK(client.send(Envelope(big_id, 42, "")));
    co_await sleep_for(300ms);  // the server's writes fill the socket and wait
    for (int i = 0; i < 64; ++i) {
      auto [ec, frame] = co_await client.receive_for(42);
      REQUIRE_FALSE(ec);
      const auto expected = transport::random_bytes(64 * 1024, static_cast<unsigned>(i));
      REQUIRE(std::ranges::equal(frame.payload(), expected));
    }
    CO_CHECK(echoes(client, "after the flood"));
  }, 30s);
}

namespace {

// What making a context from `files` throws (empty: nothing).
template <class Files, class Make>
std::string refusal(const Files& files, Make make) {
  try {
    (void)make(files);
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

bool says(const std::string& what, std::initializer_list<std::string_view> parts) {
  return std::ranges::all_of(parts, [&](std::string_view p) { return what.find(p) != std::string::npos; });
}

}  // namespace

TEST_CASE("TLS files that cannot be used are refused when the context is made, naming the file", "[tls]") {
  const auto server = [](const TlsServerFiles& f) { return tls_server_context(f); };
  const auto client = [](const TlsClientFiles& f) { return tls_client_context(f); };
  const std::string absent = cert("absent.pem");
  TlsServerFiles good;
  good.cert_file = cert("server.crt");
  good.key_file = cert("server.key");
  REQUIRE(refusal(good, server).empty());

  TlsServerFiles f = good;
  f.cert_file = absent;
  CHECK(says(refusal(f, server), {"cannot load TLS certificate", absent}));
  f = good;
  f.key_file = cert("server.crt");  // a certificate where the key should be
  CHECK(says(refusal(f, server), {"cannot load TLS private key", "server.crt"}));
  f = good;
  f.key_file = cert("client.key");  // a key, but another certificate's
  CHECK(says(refusal(f, server), {"cannot load TLS private key", "client.key", "key values mismatch"}));
  f = good;
  f.ca_file = absent;
  CHECK(says(refusal(f, server), {"cannot load TLS CA file", absent}));
  f = good;
  f.require_client_cert = true;  // and no CA to check clients against
  CHECK(says(refusal(f, server), {"require_client_cert needs a CA file"}));
  f = good;
  f.alpn = {"wf/1", ""};
  CHECK(says(refusal(f, server), {"ALPN protocol names are 1 to 255 bytes"}));

  TlsClientFiles c;
  c.ca_file = absent;
  CHECK(says(refusal(c, client), {"cannot load TLS CA file", absent}));
  c.ca_file = cert("ca.crt");
  c.cert_file = cert("client.crt");
  c.key_file = cert("server.key");
  CHECK(says(refusal(c, client), {"cannot load TLS private key", "server.key", "key values mismatch"}));
}

}  // namespace test_tls_cpp
