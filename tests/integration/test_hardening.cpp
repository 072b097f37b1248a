// Hardening on real sockets: memory budgets in bytes, timeouts, the lingering close. Each test
// also checks that a bystander connection keeps being served.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/async_test.hpp"
#include "support/raw_frames.hpp"

using namespace wireframe;
using namespace wireframe::test;

namespace test_hardening_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

asio::awaitable<Resp> echo(Envelope& req) { co_return std::move(req); }

template <class Builder>
auto with_teardown_log(Builder app, TeardownLog& log) {
  return app.on_connection_teardown([&log](ConnectionContext&, std::error_code ec) { log.add(ec); });
}

void record_max(std::atomic<std::size_t>& max, std::size_t value) {
  std::size_t seen = max.load();
  while (value > seen && !max.compare_exchange_weak(seen, value)) {
  }
}

}  // namespace

TEST_CASE("200 slowloris connections are closed by read_timeout, a bystander is served",
          "[integration][hardening][timeouts]") {
  TeardownLog log;
  auto app = with_teardown_log(WireframeApp<>().route(1, echo).read_timeout(600ms), log).build();
  ServerFixture fx(app, 2);
  run_async([&]() -> asio::awaitable<void> {
    constexpr std::size_t n = 200;
    std::vector<asio::ip::tcp::socket> slow;
    for (std::size_t i = 0; i < n; ++i) slow.push_back(co_await raw_connect(fx.endpoint()));
    WireframeClient<> bystander(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(bystander.connect(fx.endpoint()));
    // Every slow peer sends its 17-byte frame one byte at a time, a byte every 250 ms: each
    // frame would take over 4 s, and read_timeout cuts it 600 ms after its first byte.
    const auto frame = frame_bytes(1, 1, 1);
    for (std::size_t i = 0; i < 10 && log.size() < n; ++i) {
      for (auto& s : slow) {
        asio::error_code ignored;  // a peer already closed by the server just fails
        (void)asio::write(s, asio::buffer(&frame[i], 1), ignored);
      }
      auto [ec, r] = co_await bystander.call(Envelope(1, 0, "still here"));
      REQUIRE_FALSE(ec);
      co_await sleep_for(250ms);
    }
    CO_REQUIRE(eventually_async([&] { return log.size() >= n; }, 5s));
    for (auto reason : log.reasons()) CHECK(reason == make_error_code(errc::read_timed_out));
    for (auto& s : slow) {
      std::uint8_t byte = 0;
      auto [ec, got] = co_await s.async_read_some(asio::buffer(&byte, 1), detail::use_nothrow);
      CHECK(ec);  // closed by the server: EOF or reset, never data
    }
    auto [ec, r] = co_await bystander.call(Envelope(1, 0, "after"));
    CHECK_FALSE(ec);
    CHECK(log.size() == n);  // the bystander, which kept completing frames, was never cut
  }, 30s);
}

TEST_CASE("a peer that pipelines large requests and never reads is closed by write_timeout",
          "[integration][hardening][budget]") {
  TeardownLog log;
  std::atomic<std::size_t> max_outbound{0};
  std::atomic<int> handled{0};
  auto handler = [&](Envelope& r, ConnectionContext& ctx) -> asio::awaitable<Resp> {
    record_max(max_outbound, ctx.usage().outbound_bytes);
    ++handled;
    co_return std::move(r);
  };
  constexpr std::size_t frame = 1024 * 1024;
  constexpr std::size_t high = 256 * 1024;
  auto app = with_teardown_log(WireframeApp<>()
                                   .route(1, handler)
                                   .outbound_watermarks(64 * 1024, high)
                                   .write_timeout(500ms),
                               log)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto greedy = std::make_shared<asio::ip::tcp::socket>(co_await raw_connect(fx.endpoint()));
    // Pipelines 1 MiB requests and reads nothing. Its writes stall once the server stops
    // reading (outbound above the high watermark) and the socket buffers are full.
    auto flood = [greedy]() -> asio::awaitable<void> {
      const auto bytes = frame_bytes(1, 7, frame - 12);
      for (int i = 0; i < 256; ++i) {
        auto [ec, n] = co_await asio::async_write(*greedy, asio::buffer(bytes), detail::use_nothrow);
        if (ec) co_return;
      }
    };
    asio::co_spawn(ex, std::move(flood), asio::detached);
    CO_REQUIRE(eventually_async([&] { return log.size() == 1; }, 10s));
    CHECK(log.reasons()[0] == make_error_code(errc::write_timed_out));
    // The server stopped reading long before the 256 requests were all in: far fewer handled.
    CHECK(handled.load() < 64);
    // What the connection held for writing never went past the high watermark plus one reply.
    CHECK(max_outbound.load() <= high + frame);
    CO_CHECK(bystander_served(fx.endpoint()));
    greedy->close();
  }, 20s);
}

TEST_CASE("max_inbound_bytes bounds the requests read ahead, a larger one is served alone",
          "[integration][hardening][budget]") {
  constexpr std::size_t budget = 16 * 1024;
  std::atomic<std::size_t> max_inbound{0};  // seen by the handlers of the small requests
  std::atomic<std::size_t> big_seen{0};     // seen by the large one's
  auto slow = [&](Envelope& r, ConnectionContext& ctx) -> asio::awaitable<Resp> {
    const std::size_t in = ctx.usage().inbound_bytes;
    if (r.payload().size() > budget) big_seen = in;
    else record_max(max_inbound, in);
    co_await sleep_for(1ms);  // the reader runs ahead meanwhile, as far as the budget lets it
    co_return std::move(r);
  };
  ServerFixture fx(WireframeApp<>().route(1, slow).max_inbound_bytes(budget).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch;
    for (std::uint64_t i = 1; i <= 100; ++i) {
      const std::size_t size = i == 50 ? 4 * budget : 4000;  // one request four times the budget
      batch.emplace_back(1, i, std::vector<std::byte>(size, std::byte{1}));
    }
    CO_REQUIRE_OK(client.send_all(batch));
    for (std::uint64_t i = 1; i <= 100; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(f.correlation_id() == i);  // all answered, in order
    }
  }, 20s);
  CHECK(max_inbound.load() > 4012);  // it did read ahead...
  CHECK(max_inbound.load() <= budget);  // ...never past the budget...
  CHECK(big_seen.load() == 4 * budget + 12);  // ...and the large one was served, alone
}

TEST_CASE("a response past max_outbound_bytes closes the connection with output_limit_exceeded",
          "[integration][hardening][budget]") {
  TeardownLog log;
  // Two frames queued in one go (a Vec): the second would take the queued bytes past the cap.
  auto two = [](Envelope& r) -> asio::awaitable<Resp> {
    std::vector<Envelope> frames;
    frames.emplace_back(r.id(), 0, std::vector<std::byte>(2000, std::byte{1}));
    frames.emplace_back(r.id(), 0, std::vector<std::byte>(20000, std::byte{2}));
    co_return Resp(std::move(frames));
  };
  auto app = with_teardown_log(WireframeApp<>()
                                   .route(1, echo)
                                   .route(2, two)
                                   .outbound_watermarks(1024, 4096)
                                   .max_outbound_bytes(16 * 1024),
                               log)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec1, small] = co_await client.call(Envelope(1, 0, std::vector<std::byte>(12000, std::byte{3})));
    CHECK_FALSE(ec1);  // one large frame alone is fine: a budget never blocks a legal frame
    CO_REQUIRE_OK(client.send(Envelope(2, 5, "two")));
    CO_REQUIRE(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons()[0] == make_error_code(errc::output_limit_exceeded));
    CO_CHECK(bystander_served(fx.endpoint()));
  });
}

TEST_CASE("idle_timeout closes a silent connection gracefully, a busy one stays",
          "[integration][hardening][timeouts]") {
  TeardownLog log;
  ServerFixture fx(with_teardown_log(WireframeApp<>().route(1, echo).idle_timeout(400ms), log).build());
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    WireframeClient<> silent(ex), busy(ex);
    CO_REQUIRE_OK(silent.connect(fx.endpoint()));
    CO_REQUIRE_OK(busy.connect(fx.endpoint()));
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 12; ++i) {  // 1.2 s of traffic, three idle timeouts
      auto [ec, r] = co_await busy.call(Envelope(1, 0, "tick"));
      REQUIRE_FALSE(ec);
      co_await sleep_for(100ms);
    }
    auto [ec, none] = co_await silent.receive();
    CHECK(ec == make_error_code(errc::connection_closed));  // an orderly close, not a reset
    REQUIRE(log.size() == 1);
    CHECK(log.reasons()[0] == make_error_code(errc::idle_timed_out));
    CHECK(std::chrono::steady_clock::now() - start >= 400ms);
  }, 20s);
}

TEST_CASE("handshake_timeout closes a connection that sends no first frame",
          "[integration][hardening][timeouts]") {
  TeardownLog log;
  ServerFixture fx(with_teardown_log(WireframeApp<>().route(1, echo).handshake_timeout(300ms), log).build());
  run_async([&]() -> asio::awaitable<void> {
    auto mute = co_await raw_connect(fx.endpoint());
    WireframeClient<> prompt(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(prompt.connect(fx.endpoint()));
    auto [ec0, r0] = co_await prompt.call(Envelope(1, 0, "hello"));
    REQUIRE_FALSE(ec0);
    const auto rest = co_await read_until_closed(mute);
    CHECK(rest.empty());
    CO_REQUIRE(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons()[0] == make_error_code(errc::handshake_timed_out));
    co_await sleep_for(400ms);  // well past the handshake timeout: the prompt one lives on
    auto [ec1, r1] = co_await prompt.call(Envelope(1, 0, "later"));
    CHECK_FALSE(ec1);
  });
}

namespace {
// Route 2: starts pushing a frame every 50 ms to its connection (for at most 3 s, and until the
// connection has ended), so that the connection is never idle for writes.
asio::awaitable<Resp> start_ticker(Envelope&, ConnectionContext& ctx) {
  auto ticker = [](PushHandle<Envelope> handle) -> asio::awaitable<void> {
    for (int i = 0; i < 60; ++i) {
      if (co_await handle.push(Envelope(9, 0, "tick"))) co_return;
      co_await sleep_for(50ms);
    }
  };
  asio::co_spawn(ctx.executor(), ticker(ctx.push_handle<Envelope>()), asio::detached);
  co_return Resp{};
}

// Route 3: sets this connection's read-idle timeout to the milliseconds in the payload (MQTT's
// CONNECT with its keep-alive); route 4 its idle timeout.
std::chrono::milliseconds millis_in(const Envelope& req) {
  return std::chrono::milliseconds(std::stol(std::string(req.payload_text())));
}
Resp set_read_idle(Envelope& req, ConnectionContext& ctx) {
  ctx.set_read_idle_timeout(millis_in(req));
  return std::move(req);
}
Resp set_idle(Envelope& req, ConnectionContext& ctx) {
  ctx.set_idle_timeout(millis_in(req));
  return std::move(req);
}

// Receives (pushes included) until the connection ends; the error it ended with.
asio::awaitable<std::error_code> receive_until_closed(WireframeClient<>& client) {
  for (int i = 0; i < 10'000; ++i) {
    auto [ec, f] = co_await client.receive();
    if (ec) co_return ec;
  }
  co_return std::error_code{};
}
}  // namespace

TEST_CASE("read_idle_timeout closes a peer that only receives, though pushes keep it busy",
          "[integration][hardening][timeouts]") {
  TeardownLog log;
  ServerFixture fx(with_teardown_log(WireframeApp<>()
                                         .route(1, echo)
                                         .route(2, start_ticker)
                                         .idle_timeout(300ms)  // never trips: the ticker writes
                                         .read_idle_timeout(400ms),
                                     log)
                       .build());
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    WireframeClient<> silent(ex), chatty(ex);
    CO_REQUIRE_OK(silent.connect(fx.endpoint()));
    CO_REQUIRE_OK(chatty.connect(fx.endpoint()));
    CO_REQUIRE_OK(silent.send(Envelope(2, 1, "")));
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {  // 1 s of requests every 100 ms: never read-idle
      auto [ec, r] = co_await chatty.call(Envelope(1, 0, "ping"));
      REQUIRE_FALSE(ec);
      co_await sleep_for(100ms);
    }
    const std::error_code end = co_await receive_until_closed(silent);  // not inside CHECK: g++ 12
    CHECK(end == make_error_code(errc::connection_closed));
    CHECK(std::chrono::steady_clock::now() - start >= 400ms);
    CO_REQUIRE(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons()[0] == make_error_code(errc::read_idle_timed_out));
    auto [ec, r] = co_await chatty.call(Envelope(1, 0, "still here"));
    CHECK_FALSE(ec);
  }, 20s);
}

TEST_CASE("a handler sets its connection's read-idle and idle timeouts with no timeout on before",
          "[integration][hardening][timeouts]") {
  TeardownLog log;
  // Every timeout off: the connections start without a watchdog, which a handler's call starts.
  ServerFixture fx(with_teardown_log(WireframeApp<>()
                                         .route(1, echo)
                                         .route(3, set_read_idle)
                                         .route(4, set_idle)
                                         .read_timeout(0ms)
                                         .write_timeout(0ms),
                                     log)
                       .build());
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    WireframeClient<> shortened(ex), idle(ex), keeps_alive(ex), untouched(ex);
    CO_REQUIRE_OK(shortened.connect(fx.endpoint()));
    CO_REQUIRE_OK(idle.connect(fx.endpoint()));
    CO_REQUIRE_OK(keeps_alive.connect(fx.endpoint()));
    CO_REQUIRE_OK(untouched.connect(fx.endpoint()));
    // 60 s first, then 300 ms: the watchdog sleeping towards the first must wake for the second.
    auto [ec0, r0] = co_await shortened.call(Envelope(3, 0, "60000"));
    REQUIRE_FALSE(ec0);
    auto [ec00, r00] = co_await shortened.call(Envelope(3, 0, "300"));
    REQUIRE_FALSE(ec00);
    auto [ec1, r1] = co_await idle.call(Envelope(4, 0, "300"));
    REQUIRE_FALSE(ec1);
    auto [ec2, r2] = co_await keeps_alive.call(Envelope(3, 0, "300"));
    REQUIRE_FALSE(ec2);
    auto [ec3, r3] = co_await untouched.call(Envelope(1, 0, "hello"));
    REQUIRE_FALSE(ec3);
    for (int i = 0; i < 10; ++i) {  // 1 s: keeps_alive pings every 100 ms, the others are silent
      auto [ec, r] = co_await keeps_alive.call(Envelope(1, 0, "ping"));
      REQUIRE_FALSE(ec);
      co_await sleep_for(100ms);
    }
    const std::error_code end1 = co_await receive_until_closed(shortened);  // not inside CHECK: g++ 12
    const std::error_code end2 = co_await receive_until_closed(idle);
    CHECK(end1 == make_error_code(errc::connection_closed));
    CHECK(end2 == make_error_code(errc::connection_closed));
    CO_REQUIRE(eventually_async([&] { return log.size() == 2; }));
    auto reasons = log.reasons();
    std::sort(reasons.begin(), reasons.end(), [](auto a, auto b) { return a.value() < b.value(); });
    CHECK(reasons == std::vector<std::error_code>{make_error_code(errc::idle_timed_out),
                                                  make_error_code(errc::read_idle_timed_out)});
    auto [ec4, r4] = co_await keeps_alive.call(Envelope(1, 0, "alive"));
    CHECK_FALSE(ec4);
    auto [ec5, r5] = co_await untouched.call(Envelope(1, 0, "alive"));  // no timeout: still open
    CHECK_FALSE(ec5);
  }, 20s);
}

namespace {
// Records the errors a protocol's handle_error sees (hooks run on the server's threads).
struct ErrorRecorder {
  using hooks = protocol_hooks<hook::handle_error>;
  std::shared_ptr<TeardownLog> seen = std::make_shared<TeardownLog>();
  void handle_error(const WireframeError<NoProtocolError>& e, ProtocolContext<NoConnectionState>&) {
    if (e.is_io()) seen->add(e.io_error());
  }
};
}  // namespace

TEST_CASE("a timeout is reported to WireframeProtocol::handle_error and to teardown",
          "[integration][hardening][timeouts]") {
  TeardownLog log;
  ErrorRecorder recorder;
  auto app = with_teardown_log(
                 WireframeApp<>().route(1, echo).with_protocol(recorder).read_timeout(200ms), log)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx.endpoint());
    const std::uint8_t half[] = {0, 0, 0, 20, 0, 0};  // a frame of 20 bytes, 2 of them sent
    co_await raw_write(s, half);
    (void)co_await read_until_closed(s);
    CO_REQUIRE(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons()[0] == make_error_code(errc::read_timed_out));
    REQUIRE(recorder.seen->size() == 1);
    CHECK(recorder.seen->reasons()[0] == make_error_code(errc::read_timed_out));
  });
}

// Without a lingering close, a server that closes while the peer still sends makes the kernel
// answer the unread bytes with a reset, which destroys replies the peer has not read yet.
TEST_CASE("graceful stop while the peer keeps sending: every reply written arrives, then EOF",
          "[integration][hardening][linger]") {
  std::atomic<int> handled{0};
  auto counted = [&](Envelope& r) -> asio::awaitable<Resp> {
    ++handled;
    co_return std::move(r);
  };
  ServerFixture fx(WireframeApp<>().route(1, counted).build());
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto s = std::make_shared<asio::ip::tcp::socket>(co_await raw_connect(fx.endpoint()));
    auto sender = [s]() -> asio::awaitable<void> {  // keeps sending until the socket fails
      const auto bytes = frame_bytes(1, 3, 100);
      std::vector<std::uint8_t> burst;
      for (int i = 0; i < 50; ++i) burst.insert(burst.end(), bytes.begin(), bytes.end());
      for (int i = 0; i < 2000; ++i) {
        auto [ec, n] = co_await asio::async_write(*s, asio::buffer(burst), detail::use_nothrow);
        if (ec) co_return;
        co_await sleep_for(1ms);
      }
    };
    asio::co_spawn(ex, std::move(sender), asio::detached);
    co_await sleep_for(200ms);
    fx.server().stop();
    const auto received = co_await read_until_closed(*s);
    // An orderly end: everything the server answered arrived, as whole frames.
    const std::size_t frame_size = frame_bytes(1, 3, 100).size();
    CHECK(received.size() % frame_size == 0);
    CHECK(received.size() / frame_size == static_cast<std::size_t>(handled.load()));
    CHECK(handled.load() > 0);
    s->close();
  }, 20s);
}

TEST_CASE("a malformed frame after good ones: their replies arrive before the close",
          "[integration][hardening][linger]") {
  TeardownLog log;
  auto app = with_teardown_log(WireframeApp<>().route(1, echo), log).build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx.endpoint());
    std::vector<std::uint8_t> bytes;
    for (int i = 0; i < 20; ++i) {
      const auto f = frame_bytes(1, static_cast<std::uint64_t>(i), 1000);
      bytes.insert(bytes.end(), f.begin(), f.end());
    }
    const std::uint8_t oversized[] = {0xff, 0xff, 0xff, 0xff};  // announces 4 GiB
    bytes.insert(bytes.end(), std::begin(oversized), std::end(oversized));
    bytes.resize(bytes.size() + 256 * 1024, 0xee);  // and the peer goes on sending
    co_await raw_write(s, bytes);
    const auto received = co_await read_until_closed(s);
    CHECK(received.size() == 20 * frame_bytes(1, 0, 1000).size());
    CO_REQUIRE(eventually_async([&] { return log.size() == 1; }));
    CHECK(log.reasons()[0] == make_error_code(errc::frame_too_large));
    CO_CHECK(bystander_served(fx.endpoint()));
  });
}

// A protocol whose before_send pushes a frame for every flood frame it sends: once started (by a
// request with id 10), its connection never runs out of frames to write.
struct EndlessFlood {
  using hooks = protocol_hooks<hook::on_connection_setup, hook::before_send>;
  struct connection_state {
    std::optional<PushHandle<Envelope>> self;
  };
  using Ctx = ProtocolContext<connection_state>;
  void on_connection_setup(PushHandle<Envelope> handle, Ctx& ctx) { ctx.state().self = handle; }
  void before_send(Envelope& frame, Ctx& ctx) {
    if (frame.id() == 12) (void)ctx.state().self->try_push(Envelope(12, 0, "flood"));
  }
};

// Starts the flood, and echoes the request (which the flooded peer discards with the rest).
asio::awaitable<Resp> start_flood(Envelope& req, ConnectionContext& ctx) {
  (void)ctx.push_handle<Envelope>().try_push(Envelope(12, 0, "flood"));
  co_return std::move(req);
}

// The writer writes a batch inline when the kernel takes it at once, so with frames that never
// run out and a peer that reads as fast as they come, it would never suspend: it must still let
// the other connections of its worker run (it yields after a few batches).
TEST_CASE("a connection that never runs out of frames to write leaves its worker to others",
          "[integration][hardening][fairness]") {
  auto app = WireframeApp<>()
                 .with_protocol(EndlessFlood{})
                 .route(1, echo)
                 .route(10, start_flood)
                 .build();
  ServerFixture fx(app, 1);  // one worker: the flooded connection and the bystander share it
  // The flooded peer: a blocking socket on its own thread, reading as fast as it can.
  asio::io_context peer_io;
  asio::ip::tcp::socket peer(peer_io);
  peer.connect(fx.endpoint());
  asio::write(peer, asio::buffer(frame_bytes(10, 0, 0)));
  std::atomic<std::size_t> drained{0};
  std::thread reader([&] {
    std::vector<std::byte> sink(1 << 20);
    asio::error_code ec;
    while (!ec) drained += peer.read_some(asio::buffer(sink), ec);
  });
  struct Joiner {  // also when an assertion throws: end the read before the thread is destroyed
    asio::ip::tcp::socket& peer;
    std::thread& reader;
    ~Joiner() {
      asio::error_code ignored;
      peer.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      reader.join();
    }
  } joiner{peer, reader};
  run_async([&]() -> asio::awaitable<void> {
    CO_REQUIRE(eventually_async([&] { return drained.load() > 1'000'000; }, 10s));
    WireframeClient<> c(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(c.connect(fx.endpoint()));
    // Each of the flooded connection's turns writes up to 16 batches (about 1 MiB here), so a
    // call waits for about one turn: well under a second even under TSan. Without the yield
    // not one call is answered.
    for (int i = 0; i < 5; ++i) {
      auto [ec, r] = co_await c.call(Envelope(1, 0, "alive"));
      REQUIRE_FALSE(ec);
      CHECK(r.payload_text() == "alive");
    }
    CHECK(drained.load() > 2'000'000);  // the flood went on meanwhile
  }, 30s);
}

}  // namespace test_hardening_cpp
