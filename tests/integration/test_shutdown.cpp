// Graceful shutdown: stop() ends run() promptly, lets in-flight work finish up to the deadline,
// and never hangs on a client that stays connected.
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "support/async_test.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_shutdown_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

asio::awaitable<Resp> echo(Envelope& req) { co_return std::move(req); }

// Yields `n` frames, `gap` apart.
Stream<Envelope> paced(int n, std::chrono::milliseconds gap) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < n; ++i) {
    timer.expires_after(gap);
    co_await timer.async_wait(asio::use_awaitable);
    co_yield Envelope::of(40, i);
  }
}

}  // namespace

TEST_CASE("stop() with idle clients connected returns promptly and closes them",
          "[integration][shutdown]") {
  TeardownLog log;
  auto app = WireframeApp<>()
                 .route(1, echo)
                 .on_connection_teardown([&](ConnectionContext&, std::error_code ec) { log.add(ec); })
                 .build();
  ServerFixture fx(app, 2, 5s);
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::unique_ptr<WireframeClient<>>> clients;
    for (int i = 0; i < 4; ++i) {
      clients.push_back(std::make_unique<WireframeClient<>>(ex));
      CO_REQUIRE_OK(clients.back()->connect(fx.endpoint()));
      auto [ec, r] = co_await clients.back()->call(Envelope(1, 0, "hi"));
      REQUIRE_FALSE(ec);
    }
    const auto took = fx.stop();
    CHECK(took < 2s);  // idle connections do not wait for the 5 s deadline
    for (auto& c : clients) {
      auto [ec, none] = co_await c->receive();
      CHECK(ec == make_error_code(errc::connection_closed));
    }
    CHECK(log.size() == 4);
    for (auto reason : log.reasons()) CHECK_FALSE(reason);  // graceful: no error
  });
}

TEST_CASE("a stream in flight at stop() is finished before the connection closes",
          "[integration][shutdown]") {
  std::atomic<bool> started{false};
  auto app = WireframeApp<>()
                 .route(2, [&](Envelope&) -> asio::awaitable<Resp> {
                   started = true;
                   co_return paced(20, 10ms);  // about 200 ms, well inside the deadline
                 })
                 .build();
  ServerFixture fx(app, 1, 5s);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(2, 3, "")));
    CO_REQUIRE(eventually_async([&] { return started.load(); }));
    fx.server().stop();  // not fx.stop(): that would block this thread while we must read
    for (int i = 0; i < 20; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      int v = -1;
      REQUIRE_FALSE(f.decode_as(v));
      CHECK(v == i);
      CHECK(f.correlation_id() == 3);
    }
    auto [ec, none] = co_await client.receive();
    CHECK(ec == make_error_code(errc::connection_closed));
  });
  CHECK(fx.wait_stopped(3s));
}

TEST_CASE("a stream longer than the deadline is cut off at the deadline",
          "[integration][shutdown]") {
  TeardownLog log;
  std::atomic<bool> started{false};
  auto app = WireframeApp<>()
                 .route(2, [&](Envelope&) -> asio::awaitable<Resp> {
                   started = true;
                   co_return paced(100000, 5ms);  // ~8 minutes
                 })
                 .on_connection_teardown([&](ConnectionContext&, std::error_code ec) { log.add(ec); })
                 .build();
  ServerFixture fx(app, 1, 300ms);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(2, 3, "")));
    CO_REQUIRE(eventually_async([&] { return started.load(); }));
    const auto t0 = std::chrono::steady_clock::now();
    fx.server().stop();
    int frames = 0;
    for (;;) {  // keep reading so only the deadline can end it
      auto [ec, f] = co_await client.receive();
      if (ec) break;
      ++frames;
    }
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    CHECK(frames > 0);            // it kept streaming during the grace period
    CHECK(elapsed >= 250ms);      // not cut before the deadline
    CHECK(elapsed < 3s);          // but cut at it
  });
  CHECK(fx.wait_stopped(3s));
  REQUIRE(log.size() == 1);
  CHECK(log.reasons().at(0) == make_error_code(errc::shutting_down));
}

TEST_CASE("a handler stuck in a long wait is cancelled at the deadline",
          "[integration][shutdown]") {
  std::atomic<bool> entered{false};
  std::atomic<bool> cancelled{false};
  auto app = WireframeApp<>()
                 .route(3, [&](Envelope& req) -> asio::awaitable<Resp> {
                   entered = true;
                   try {
                     co_await sleep_for(std::chrono::hours(1));
                   } catch (const std::system_error&) {
                     cancelled = true;
                     throw;
                   }
                   co_return std::move(req);
                 })
                 .build();
  ServerFixture fx(app, 1, 200ms);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(3, 1, "")));
    CO_REQUIRE(eventually_async([&] { return entered.load(); }));
  });
  const auto took = fx.stop();
  CHECK(took >= 150ms);
  CHECK(took < 3s);
  CHECK(cancelled);
}

TEST_CASE("a client that never reads cannot hold shutdown past the deadline",
          "[integration][shutdown]") {
  auto app = WireframeApp<>()
                 .route(2, [](Envelope&) -> asio::awaitable<Resp> {
                   co_return paced(1000000, 0ms);  // endless: fills every buffer
                 })
                 .build();
  ServerFixture fx(app, 1, 300ms);
  asio::io_context io;
  asio::ip::tcp::socket keep(io);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(2, 1, "")));
    co_await sleep_for(100ms);  // let the server's writes block on full buffers
    keep = asio::ip::tcp::socket(io, asio::ip::tcp::v4(), client.socket().release());
  });
  const auto took = fx.stop();
  CHECK(took >= 250ms);
  CHECK(took < 3s);
}

TEST_CASE("after stop() the port no longer accepts connections", "[integration][shutdown]") {
  ServerFixture fx(WireframeApp<>().route(1, echo).build(), 2, 1s);
  fx.server().stop();
  CHECK(fx.wait_stopped(3s));
  run_async([&]() -> asio::awaitable<void> {
    asio::ip::tcp::socket s(co_await asio::this_coro::executor);
    auto [ec] = co_await s.async_connect(fx.endpoint(), detail::use_nothrow);
    CHECK(ec == asio::error::connection_refused);
  });
}

TEST_CASE("run_async serves as a coroutine and completes after stop()", "[integration][shutdown]") {
  WireframeServer server(WireframeApp<>().route(1, echo).build());
  server.workers(2).bind("127.0.0.1", 0);
  const auto ep = server.local_endpoint();
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    bool finished = false;
    auto serve = [&]() -> asio::awaitable<void> {
      co_await server.run_async();
      finished = true;
    };
    asio::co_spawn(ex, std::move(serve), asio::detached);
    WireframeClient<> client(ex);
    CO_REQUIRE_OK(client.connect(ep));
    auto [ec, r] = co_await client.call(Envelope(1, 0, "co"));
    REQUIRE_FALSE(ec);
    CHECK(r.payload_text() == "co");
    server.stop();
    CO_CHECK(eventually_async([&] { return finished; }, 3s));
  });
}

namespace {
std::atomic<long> request_reads{0};

// Touches its request after every await, forever: only the deadline ends it.
Stream<Envelope> reads_request_forever(const Envelope& request) {
  auto ex = co_await asio::this_coro::executor;
  std::uint64_t sum = 0;
  for (;;) {
    co_await asio::post(ex, asio::use_awaitable);
    sum += request.id() + request.payload().size();
    ++request_reads;
    if (sum % 64 == 0) co_yield Envelope(41, 0, "tick");
  }
}
}  // namespace

// Regression (ASan): a forced close ended the command, freeing the request, while the stream
// that references it could still resume before the actor destroyed it.
TEST_CASE("a stream cut off at the deadline never outlives its request",
          "[integration][shutdown]") {
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& req) -> asio::awaitable<Resp> {
                   co_return reads_request_forever(req);
                 })
                 .build();
  ServerFixture fx(app, 1, 100ms);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 1, "x")));
    CO_REQUIRE(eventually_async([] { return request_reads.load() > 100; }));
    const auto t0 = std::chrono::steady_clock::now();
    fx.server().stop();
    for (;;) {  // keep reading: only the deadline may end the stream
      auto [ec, f] = co_await client.receive();
      if (ec) break;
    }
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    CHECK(elapsed >= 80ms);
    CHECK(elapsed < 3s);
  });
  CHECK(fx.wait_stopped(3s));
  const long at_stop = request_reads.load();
  std::this_thread::sleep_for(50ms);
  CHECK(request_reads.load() == at_stop);  // the stream is gone, not running on
}

}  // namespace test_shutdown_cpp
