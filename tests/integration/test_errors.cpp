// Bad input, failing handlers and hooks: each closes (or reports on) its own connection only.
#include <atomic>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/async_test.hpp"
#include "support/log_capture.hpp"

using namespace wireframe;
using namespace wireframe::test;

namespace test_errors_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

asio::awaitable<Resp> echo(Envelope& req) { co_return std::move(req); }

Stream<Envelope> two_then_error() {
  co_yield Envelope(30, 0, "one");
  co_yield Envelope(30, 0, "two");
  co_yield WireframeError<NoProtocolError>::io(make_error_code(errc::malformed_message));
  co_yield Envelope(30, 0, "never");
}

Stream<Envelope> one_then_throw() {
  co_yield Envelope(31, 0, "one");
  throw std::runtime_error("stream broke");
}

// An app with hooks recording setup count and teardown reasons.
auto hooked_app(TeardownLog& log, std::atomic<int>& setups) {
  return WireframeApp<>()
      .route(1, echo)
      .on_connection_setup([&setups](ConnectionContext&) { ++setups; })
      .on_connection_teardown([&log](ConnectionContext&, std::error_code ec) { log.add(ec); });
}

// Checks that a fresh client on the same server still gets answers.
asio::awaitable<void> still_serves(const asio::ip::tcp::endpoint& ep) {
  WireframeClient<> other(co_await asio::this_coro::executor);
  CO_REQUIRE_OK(other.connect(ep));
  auto [ec, r] = co_await other.call(Envelope(1, 0, "alive"));
  REQUIRE_FALSE(ec);
  CHECK(r.payload_text() == "alive");
}

// A codec that throws on a frame whose body ends in 0xEE: a fault in user code that the actor
// calls from its reader, outside any handler.
struct ThrowingCodec : LengthDelimitedCodec {
  DecodeResult decode(std::span<const std::byte> input) const {
    DecodeResult r = LengthDelimitedCodec::decode(input);
    if (r.status == DecodeStatus::frame && !r.frame.empty() && r.frame.back() == std::byte{0xEE}) {
      throw std::runtime_error("codec broke");
    }
    return r;
  }
};

// A codec that throws when asked to encode a frame of 1 000 bytes or more: a fault in user
// code that the actor calls from its writer.
struct EncodeThrowingCodec : LengthDelimitedCodec {
  template <class Fill>
  std::error_code encode(std::size_t body_len, ByteBuffer& out, Fill&& fill) const {
    if (body_len >= 1000) throw std::runtime_error("encode broke");
    return LengthDelimitedCodec::encode(body_len, out, std::forward<Fill>(fill));
  }
};

// Pushes its request's payload back to its own connection: a pushed frame is encoded only by
// the writer.
Resp push_back(Envelope& req, ConnectionContext& ctx) {
  (void)ctx.push_handle<Envelope>().try_push(Envelope(2, req.correlation_id(), req.payload()));
  return Resp{};
}

}  // namespace

TEST_CASE("a duplicate route is an error at build time", "[integration][app]") {
  auto app = WireframeApp<>().route(1, echo).route(2, echo).route(1, echo);
  try {
    (void)app.build();
    FAIL("build() accepted a duplicate route");
  } catch (const std::system_error& e) {
    CHECK(e.code() == make_error_code(errc::duplicate_route));
    CHECK(std::string(e.what()).find("message id 1") != std::string::npos);
  }
}

TEST_CASE("unknown ids are dropped by default and the connection carries on", "[integration]") {
  ServerFixture fx(WireframeApp<>().route(1, echo).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch{Envelope(77, 1, "?"), Envelope(1, 2, "ok")};
    CO_REQUIRE_OK(client.send_all(batch));
    auto [ec, f] = co_await client.receive();
    REQUIRE_FALSE(ec);
    CHECK(f.correlation_id() == 2);  // nothing came back for id 77
  });
}

TEST_CASE("unknown ids get an error frame under UnknownIdPolicy::error_frame", "[integration]") {
  ServerFixture fx(
      WireframeApp<>().route(1, echo).unknown_id_policy(UnknownIdPolicy::error_frame).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, f] = co_await client.call(Envelope(77, 0, "?"));
    REQUIRE_FALSE(ec);
    CHECK(f.id() == error_message_id);
    CHECK(f.payload_text().find("no route") != std::string_view::npos);
    auto [ec2, ok] = co_await client.call(Envelope(1, 0, "ok"));
    REQUIRE_FALSE(ec2);
    CHECK(ok.payload_text() == "ok");
  });
}

TEST_CASE("a throwing handler never takes the server down", "[integration]") {
  auto base = [] {
    return WireframeApp<>().route(1, echo).route(
        2, [](Envelope&) -> asio::awaitable<Resp> {
          throw std::runtime_error("boom");
          co_return Resp{};
        });
  };

  SECTION("default policy: logged, connection continues") {
    ServerFixture fx(base().build());
    run_async([&]() -> asio::awaitable<void> {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      std::vector<Envelope> batch{Envelope(2, 1, ""), Envelope(1, 2, "next")};
      CO_REQUIRE_OK(client.send_all(batch));
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(f.correlation_id() == 2);
    });
  }
  SECTION("error_frame policy: the client is told, with the request's correlation id") {
    ServerFixture fx(base().handler_error_policy(HandlerErrorPolicy::error_frame).build());
    run_async([&]() -> asio::awaitable<void> {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      auto [ec, f] = co_await client.call(Envelope(2, 0, ""));
      REQUIRE_FALSE(ec);
      CHECK(f.id() == error_message_id);
      CHECK(f.payload_text().find("handler failed") != std::string_view::npos);
      co_await still_serves(fx.endpoint());
    });
  }
  SECTION("close policy: that connection closes, others are untouched") {
    TeardownLog log;
    std::atomic<int> setups{0};
    ServerFixture fx(hooked_app(log, setups)
                         .route(2, [](Envelope&) -> asio::awaitable<Resp> {
                           throw std::runtime_error("boom");
                           co_return Resp{};
                         })
                         .handler_error_policy(HandlerErrorPolicy::close)
                         .build());
    run_async([&]() -> asio::awaitable<void> {
      WireframeClient<> bystander(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(bystander.connect(fx.endpoint()));
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      CO_REQUIRE_OK(client.send(Envelope(2, 1, "")));
      auto [ec, none] = co_await client.receive();
      CHECK(ec == make_error_code(errc::connection_closed));
      auto [ec2, r] = co_await bystander.call(Envelope(1, 0, "still here"));
      REQUIRE_FALSE(ec2);
      CHECK(r.payload_text() == "still here");
      CO_CHECK(eventually_async([&] { return log.size() == 1; }));
      CHECK(log.reasons().at(0) == make_error_code(errc::handler_failed));
    });
  }
}

TEST_CASE("a stream that fails sends what it yielded, then reports the error", "[integration]") {
  auto app = WireframeApp<>()
                 .route(3, [](Envelope&) -> asio::awaitable<Resp> { co_return two_then_error(); })
                 .route(4, [](Envelope&) -> asio::awaitable<Resp> { co_return one_then_throw(); })
                 .route(5, [](Envelope&) -> asio::awaitable<Resp> {
                   co_return Resp::error(WireframeError<NoProtocolError>::io(
                       make_error_code(errc::malformed_message)));
                 })
                 .route(1, echo)
                 .handler_error_policy(HandlerErrorPolicy::error_frame)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch{Envelope(3, 8, ""), Envelope(4, 9, ""), Envelope(5, 10, ""),
                                Envelope(1, 11, "end")};
    CO_REQUIRE_OK(client.send_all(batch));
    std::vector<std::pair<std::uint64_t, std::string>> got;
    for (int i = 0; i < 7; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      got.emplace_back(f.correlation_id(),
                       f.id() == error_message_id ? "ERR" : std::string(f.payload_text()));
    }
    const std::vector<std::pair<std::uint64_t, std::string>> want{
        {8, "one"}, {8, "two"}, {8, "ERR"}, {9, "one"}, {9, "ERR"}, {10, "ERR"}, {11, "end"}};
    CHECK(got == want);
  });
}

TEST_CASE("an oversized frame closes only that connection, before any allocation of its size",
          "[integration]") {
  TeardownLog log;
  std::atomic<int> setups{0};
  LengthDelimitedCodec::Options opts;
  opts.max_frame_length = 1024;
  ServerFixture fx(hooked_app(log, setups).with_codec(LengthDelimitedCodec(opts)).build());
  run_async([&]() -> asio::awaitable<void> {
    auto bad = co_await raw_connect(fx.endpoint());
    // Announces 4 GiB - 1: the server must refuse on the prefix alone.
    const std::vector<std::uint8_t> prefix{0xff, 0xff, 0xff, 0xff};
    co_await raw_write(bad, prefix);
    auto rest = co_await read_until_closed(bad);
    CHECK(rest.empty());
    CO_CHECK(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons().at(0) == make_error_code(errc::frame_too_large));
    co_await still_serves(fx.endpoint());
  });
}

TEST_CASE("a frame cut off by EOF is reported as truncated", "[integration]") {
  TeardownLog log;
  std::atomic<int> setups{0};
  ServerFixture fx(hooked_app(log, setups).build());
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx.endpoint());
    const std::vector<std::uint8_t> half{0, 0, 0, 20, 0, 0, 0, 1, 0, 0};  // 20 announced, 6 sent
    co_await raw_write(s, half);
    s.shutdown(asio::ip::tcp::socket::shutdown_send);
    (void)co_await read_until_closed(s);
    CO_CHECK(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons().at(0) == make_error_code(errc::truncated_frame));
  });
}

TEST_CASE("a frame too short for an envelope closes the connection as malformed",
          "[integration]") {
  TeardownLog log;
  std::atomic<int> setups{0};
  ServerFixture fx(hooked_app(log, setups).build());
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx.endpoint());
    const std::vector<std::uint8_t> frame{0, 0, 0, 3, 1, 2, 3};  // a 3-byte body: no header
    co_await raw_write(s, frame);
    (void)co_await read_until_closed(s);
    CO_CHECK(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons().at(0) == make_error_code(errc::malformed_frame));
    co_await still_serves(fx.endpoint());
  });
}

TEST_CASE("setup and teardown run once per connection, on normal close too", "[integration]") {
  TeardownLog log;
  std::atomic<int> setups{0};
  ServerFixture fx(hooked_app(log, setups).build());
  run_async([&]() -> asio::awaitable<void> {
    {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      auto [ec, r] = co_await client.call(Envelope(1, 0, "x"));
      REQUIRE_FALSE(ec);
      CHECK(setups == 1);
      CHECK(log.size() == 0);  // still open
      client.close();
    }
    CO_CHECK(eventually_async([&] { return log.size() == 1; }));
    CHECK_FALSE(log.reasons().at(0));  // orderly: no error
    CO_CHECK(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
}

TEST_CASE("a setup hook that throws closes that connection only", "[integration]") {
  TeardownLog log;
  std::atomic<int> setups{0};  // connection ids are unique per process, not per server: count
  auto app = WireframeApp<>()
                 .route(1, echo)
                 .on_connection_setup([&setups](ConnectionContext&) {
                   if (setups++ == 0) throw std::runtime_error("no");
                 })
                 .on_connection_teardown([&](ConnectionContext&, std::error_code ec) { log.add(ec); })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    auto first = co_await raw_connect(fx.endpoint());
    auto rest = co_await read_until_closed(first);
    CHECK(rest.empty());
    CO_CHECK(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons().at(0) == make_error_code(errc::handler_failed));
    co_await still_serves(fx.endpoint());
  });
}

// The teardown hook runs as the connection ends: a throw there is logged and contained (the
// connection is gone already; its worker and the other connections carry on, and the tracker
// still forgets it).
TEST_CASE("a teardown hook that throws is logged, and the server serves on", "[integration]") {
  LogCapture log;
  std::atomic<int> teardowns{0};
  auto app = WireframeApp<>()
                 .route(1, echo)
                 .on_connection_teardown([&teardowns](ConnectionContext&, std::error_code) {
                   ++teardowns;
                   throw std::runtime_error("teardown broke");
                 })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      auto [ec, r] = co_await client.call(Envelope(1, 0, "once"));
      REQUIRE_FALSE(ec);
    }
    CO_CHECK(eventually_async([&] { return teardowns.load() == 1 && fx.server().connection_count() == 0; }));
    CHECK(log.has({"hook.failed conn=", "hook=on_connection_teardown", "teardown broke"}));
    co_await still_serves(fx.endpoint());
  });
}

TEST_CASE("a typed route rejects a payload that does not decode", "[integration]") {
  auto app = WireframeApp<>()
                 .route<std::uint32_t>(5, [](std::uint32_t x, ConnectionContext&) -> asio::awaitable<std::uint32_t> {
                   co_return x;
                 })
                 .handler_error_policy(HandlerErrorPolicy::error_frame)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, f] = co_await client.call(Envelope(5, 0, "too long for a u32"));
    REQUIRE_FALSE(ec);
    CHECK(f.id() == error_message_id);
    CHECK(f.payload_text().find("payload does not decode") != std::string_view::npos);
  });
}

TEST_CASE("a codec that throws closes that connection only, and its worker serves on", "[integration]") {
  TeardownLog log;
  auto app = WireframeApp<ThrowingCodec>()
                 .route(1, echo)
                 .on_connection_teardown([&](ConnectionContext&, std::error_code ec) { log.add(ec); })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, reply] = co_await client.call(Envelope(1, 0, "fine"));
    REQUIRE_FALSE(ec);
    CHECK(reply.payload_text() == "fine");
    CO_REQUIRE_OK(client.send(Envelope(1, 7, std::string("boom\xEE"))));
    auto [closed, none] = co_await client.receive();
    CHECK(closed);  // the server closed this connection
    CO_CHECK(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons().at(0) == make_error_code(errc::handler_failed));
    co_await still_serves(fx.endpoint());  // the worker thread survived it
  });
}

TEST_CASE("a codec that throws while encoding closes that connection only, logged", "[integration]") {
  LogCapture captured;
  TeardownLog log;
  auto app = WireframeApp<EncodeThrowingCodec>()
                 .route(1, echo)
                 .route(2, push_back)
                 .on_connection_teardown([&](ConnectionContext&, std::error_code ec) { log.add(ec); })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    {  // a response: encoded where the dispatcher queues it
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      auto [ec, reply] = co_await client.call(Envelope(1, 0, "fine"));
      REQUIRE_FALSE(ec);
      CHECK(reply.payload_text() == "fine");
      CO_REQUIRE_OK(client.send(Envelope(1, 7, std::string(1000, 'x'))));
      auto [closed, none] = co_await client.receive();
      CHECK(closed);
    }
    {  // a push: encoded by the writer
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      CO_REQUIRE_OK(client.send(Envelope(2, 8, "small")));
      auto [ec, pushed] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(pushed.payload_text() == "small");
      CO_REQUIRE_OK(client.send(Envelope(2, 9, std::string(1000, 'x'))));
      auto [closed, none] = co_await client.receive();
      CHECK(closed);
    }
    CO_CHECK(eventually_async([&] { return log.size() == 2; }));
    CHECK(log.reasons().at(0) == make_error_code(errc::handler_failed));
    CHECK(log.reasons().at(1) == make_error_code(errc::handler_failed));
    co_await still_serves(fx.endpoint());
  });
  for (const auto& line : captured.lines()) UNSCOPED_INFO(line);
  CHECK(captured.has({"connection.closed conn=", " reason=handler_failed ", "encode broke"}));
  CHECK(captured.has({"connection.fault conn=", " part=writer ", "encode broke"}));
}

}  // namespace test_errors_cpp
