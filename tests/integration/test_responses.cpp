// Requests and every Response variant over a real loopback connection.
#include <atomic>
#include <string>
#include <vector>

#include "support/async_test.hpp"

using namespace wireframe;
using namespace wireframe::test;

namespace test_responses_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

asio::awaitable<Resp> echo(Envelope& req, ConnectionContext&) { co_return std::move(req); }

Stream<Envelope> counting_stream(int n, std::chrono::milliseconds gap) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < n; ++i) {
    if (gap.count() > 0) {
      timer.expires_after(gap);
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_yield Envelope::of(20, i);
  }
}

// -1 if the payload is not an int. No Catch assertion here: handlers call it on server threads.
int payload_int(const Envelope& e) {
  int v = -1;
  return e.decode_as(v) ? -1 : v;
}

}  // namespace

TEST_CASE("echo round trip keeps id, correlation id and payload", "[integration]") {
  ServerFixture fx(WireframeApp<>().route(1, echo).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    for (std::uint64_t cid : {1u, 42u, 7u}) {
      CO_REQUIRE_OK(client.send(Envelope(1, cid, "hello " + std::to_string(cid))));
      auto [ec, reply] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(reply.id() == 1);
      CHECK(reply.correlation_id() == cid);
      CHECK(reply.payload_text() == "hello " + std::to_string(cid));
    }
  });
}

TEST_CASE("Response::Vec frames arrive in order, each with the request's correlation id",
          "[integration]") {
  auto app = WireframeApp<>()
                 .route(2, [](Envelope&) -> asio::awaitable<Resp> {
                   std::vector<Envelope> frames;
                   for (int i = 0; i < 5; ++i) frames.push_back(Envelope::of(2, i, 999));
                   co_return frames;  // 999 must be replaced by the request's correlation id
                 })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(2, 31, "")));
    for (int i = 0; i < 5; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(f.correlation_id() == 31);
      CHECK(payload_int(f) == i);
    }
  });
}

TEST_CASE("Response::Stream written with co_yield and timers reaches the client in order",
          "[integration]") {
  auto app = WireframeApp<>()
                 .route(3, [](Envelope& req) -> asio::awaitable<Resp> {
                   co_return counting_stream(payload_int(req), std::chrono::milliseconds(2));
                 })
                 .route(1, echo)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    // The echo pipelined behind the stream must come after every stream frame: commands run in
    // order.
    std::vector<Envelope> batch{Envelope::of(3, 10, 5), Envelope(1, 6, "after")};
    CO_REQUIRE_OK(client.send_all(batch));
    for (int i = 0; i < 10; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(f.id() == 20);
      CHECK(f.correlation_id() == 5);
      CHECK(payload_int(f) == i);
    }
    auto [ec, last] = co_await client.receive();
    REQUIRE_FALSE(ec);
    CHECK(last.correlation_id() == 6);
    CHECK(last.payload_text() == "after");
  });
}

TEST_CASE("Response::Empty sends nothing and the connection carries on", "[integration]") {
  std::atomic<int> seen{0};
  auto app = WireframeApp<>()
                 .route(4, [&](Envelope&) -> asio::awaitable<Resp> {
                   ++seen;
                   co_return Resp{};
                 })
                 .route(1, echo)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch{Envelope(4, 1, "x"), Envelope(4, 2, "y"), Envelope(1, 3, "z")};
    CO_REQUIRE_OK(client.send_all(batch));
    auto [ec, f] = co_await client.receive();  // the first frame back is the echo
    REQUIRE_FALSE(ec);
    CHECK(f.correlation_id() == 3);
    CHECK(seen == 2);
  });
}

TEST_CASE("pipelined requests are all answered, in order", "[integration]") {
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& req) -> asio::awaitable<Resp> {
                   // Every 10th request is slow: read-ahead must not reorder anything.
                   if (req.correlation_id() % 10 == 0) co_await sleep_for(std::chrono::milliseconds(5));
                   co_return std::move(req);
                 })
                 .max_pipelined_requests(4)
                 .max_queued_frames(4)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch;
    for (std::uint64_t i = 1; i <= 200; ++i) batch.emplace_back(1, i, std::string(i % 50, 'a'));
    CO_REQUIRE_OK(client.send_all(batch));
    for (std::uint64_t i = 1; i <= 200; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      REQUIRE(f.correlation_id() == i);
      CHECK(f.payload().size() == i % 50);
    }
  });
}

TEST_CASE("typed routes decode the payload and encode the reply", "[integration]") {
  auto app = WireframeApp<>()
                 .route<std::uint32_t>(5, [](std::uint32_t x, ConnectionContext&) -> asio::awaitable<std::uint64_t> {
                   co_return std::uint64_t{x} * 3;
                 })
                 .route<std::string>(6, [](std::string s, ConnectionContext&) -> asio::awaitable<std::string> {
                   co_return s + s;
                 })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, tripled] = co_await client.request<std::uint64_t>(5, std::uint32_t{14});
    REQUIRE_FALSE(ec);
    CHECK(tripled == 42);
    auto [ec2, doubled] = co_await client.request<std::string>(6, std::string("ab"));
    REQUIRE_FALSE(ec2);
    CHECK(doubled == "abab");
  });
}

TEST_CASE("handlers reach shared state and middleware runs first-added outermost", "[integration]") {
  struct Counter {
    std::atomic<int> hits{0};
  };
  auto counter = std::make_shared<Counter>();
  auto app =
      WireframeApp<>()
          .with_state(counter)
          .wrap([](Envelope& req, ConnectionContext& ctx, const auto& next) -> asio::awaitable<Resp> {
            req.payload_mut().push_back(std::byte{'A'});
            auto r = co_await next(req, ctx);
            if (auto* s = std::get_if<Resp::Single>(&r.value())) s->frame.payload_mut().push_back(std::byte{'a'});
            co_return r;
          })
          .wrap([](Envelope& req, ConnectionContext& ctx, const auto& next) -> asio::awaitable<Resp> {
            req.payload_mut().push_back(std::byte{'B'});
            auto r = co_await next(req, ctx);
            if (auto* s = std::get_if<Resp::Single>(&r.value())) s->frame.payload_mut().push_back(std::byte{'b'});
            co_return r;
          })
          .route(1, [](Envelope& req, ConnectionContext& ctx) -> asio::awaitable<Resp> {
            ctx.state<Counter>().hits++;
            co_return std::move(req);
          })
          .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, reply] = co_await client.call(Envelope(1, 0, "x"));
    REQUIRE_FALSE(ec);
    CHECK(reply.payload_text() == "xABba");  // A then B on the way in, b then a on the way out
  });
  CHECK(counter->hits == 1);
}

TEST_CASE("connections are spread over several workers and all served", "[integration]") {
  ServerFixture fx(WireframeApp<>().route(1, echo).build(), 2);
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::unique_ptr<WireframeClient<>>> clients;
    for (int i = 0; i < 8; ++i) {
      clients.push_back(std::make_unique<WireframeClient<>>(ex));
      CO_REQUIRE_OK(clients.back()->connect(fx.endpoint()));
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
      auto [ec, r] = co_await clients[i]->call(Envelope(1, 0, std::to_string(i)));
      REQUIRE_FALSE(ec);
      CHECK(r.payload_text() == std::to_string(i));
    }
    CHECK(fx.server().connection_count() == 8);
  });
}

TEST_CASE("a client that half-closes gets every answer, then EOF", "[integration]") {
  ServerFixture fx(WireframeApp<>().route(1, echo).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch;
    for (std::uint64_t i = 1; i <= 20; ++i) batch.emplace_back(1, i, "q");
    CO_REQUIRE_OK(client.send_all(batch));
    client.shutdown_send();
    for (std::uint64_t i = 1; i <= 20; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(f.correlation_id() == i);
    }
    auto [ec, none] = co_await client.receive();
    CHECK(ec == make_error_code(errc::connection_closed));
  });
}

TEST_CASE("ctx.close() closes the connection after the response", "[integration]") {
  auto app = WireframeApp<>()
                 .route(9, [](Envelope& req, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   ctx.close();
                   co_return std::move(req);
                 })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, bye] = co_await client.call(Envelope(9, 0, "bye"));
    REQUIRE_FALSE(ec);
    CHECK(bye.payload_text() == "bye");
    auto [ec2, none] = co_await client.receive();
    CHECK(ec2 == make_error_code(errc::connection_closed));
  });
}

TEST_CASE("a stream is paced by the reader: a client that does not read stops the generator",
          "[integration]") {
  std::atomic<int> produced{0};
  auto big_stream = [&produced]() -> Stream<Envelope> {
    const std::string chunk(16 * 1024, 'z');
    for (int i = 0; i < 100000; ++i) {
      ++produced;
      co_yield Envelope(21, 0, chunk);
    }
  };
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope&) -> asio::awaitable<Resp> { co_return big_stream(); })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 1, "")));
    co_await sleep_for(std::chrono::milliseconds(300));
    const int stalled_at = produced.load();
    co_await sleep_for(std::chrono::milliseconds(200));
    // 100000 frames of 16 KiB is 1.6 GB: only what the socket buffers and queues hold may be
    // produced before the generator is suspended.
    CHECK(produced.load() == stalled_at);
    CHECK(stalled_at < 2000);  // 32 MB: far above loopback socket buffers, far below 1.6 GB
    // Reading resumes the generator (once enough is read for TCP to reopen its window).
    for (int i = 0; i < 3000 && produced.load() == stalled_at; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      REQUIRE(f.payload().size() == 16 * 1024);
    }
    CHECK(produced.load() > stalled_at);
  }, std::chrono::milliseconds(20000));
}

}  // namespace test_responses_cpp
