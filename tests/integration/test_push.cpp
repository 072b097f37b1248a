// Server-initiated pushes: priorities, fairness, back-pressure, other threads, closed connections.
// (fmt::format, not "x" + std::to_string(i): g++ 12 at -O3 raises a false -Wrestrict on that.)
#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "support/async_test.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_push_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

// Server-side code must not call Catch's assertions (they are not thread-safe): handlers count
// what went wrong here and the test thread checks the count.
std::atomic<int> server_side_failures{0};
void expect(bool ok) {
  if (!ok) ++server_side_failures;
}

// Payload texts of the next `n` frames the client receives.
asio::awaitable<std::vector<std::string>> receive_texts(WireframeClient<>& client, int n) {
  std::vector<std::string> texts;
  for (int i = 0; i < n; ++i) {
    auto [ec, f] = co_await client.receive();
    REQUIRE_FALSE(ec);
    CHECK(f.correlation_id() == 0);  // pushes answer no request
    texts.emplace_back(f.payload_text());
  }
  CHECK(server_side_failures.exchange(0) == 0);
  co_return texts;
}

// Handler for id 1: pushes `lows` low then `highs` high frames in one synchronous run, so the
// writer (same thread) sees both queues full at once.
auto fill_both(int lows, int highs) {
  return [lows, highs](Envelope&, ConnectionContext& ctx) -> asio::awaitable<Resp> {
    auto handle = ctx.push_handle<Envelope>();
    for (int i = 0; i < lows; ++i) {
      expect(handle.try_push(Envelope(7, 0, fmt::format("L{}", i)), PushPriority::low).ok());
    }
    for (int i = 0; i < highs; ++i) {
      expect(handle.try_push(Envelope(7, 0, fmt::format("H{}", i)), PushPriority::high).ok());
    }
    co_return Resp{};
  };
}

std::vector<std::string> names(std::initializer_list<const char*> list) {
  return {list.begin(), list.end()};
}

}  // namespace

TEST_CASE("with both queues full, high frames go first (strict when fairness is off)",
          "[integration][push]") {
  ServerFixture fx(WireframeApp<>().route(1, fill_both(4, 4)).max_high_before_low(0).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 5, "")));
    auto texts = co_await receive_texts(client, 8);
    CHECK(texts == names({"H0", "H1", "H2", "H3", "L0", "L1", "L2", "L3"}));
  });
}

TEST_CASE("fairness lets one low frame through after max_high_before_low high frames",
          "[integration][push]") {
  ServerFixture fx(WireframeApp<>().route(1, fill_both(3, 5)).max_high_before_low(2).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 5, "")));
    auto texts = co_await receive_texts(client, 8);
    CHECK(texts == names({"H0", "H1", "L0", "H2", "H3", "L1", "H4", "L2"}));
  });
}

TEST_CASE("pushes do not starve a response: it gets a turn after max_high_before_low pushes",
          "[integration][push]") {
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& req, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   auto handle = ctx.push_handle<Envelope>();
                   for (int i = 0; i < 6; ++i) {
                     expect(handle.try_push(Envelope(7, 0, fmt::format("H{}", i)), PushPriority::high).ok());
                   }
                   co_return std::move(req);  // the response competes with six queued pushes
                 })
                 .max_high_before_low(3)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 9, "R")));
    std::vector<std::pair<std::string, std::uint64_t>> got;
    for (int i = 0; i < 7; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      got.emplace_back(std::string(f.payload_text()), f.correlation_id());
    }
    const std::vector<std::pair<std::string, std::uint64_t>> want{
        {"H0", 0}, {"H1", 0}, {"H2", 0}, {"R", 9}, {"H3", 0}, {"H4", 0}, {"H5", 0}};
    CHECK(got == want);
  });
}

TEST_CASE("a full queue fails try_push and makes push wait until the writer drains it",
          "[integration][push]") {
  std::atomic<int> waited_result{-1};
  auto app =
      WireframeApp<>()
          .route(1, [&](Envelope&, ConnectionContext& ctx) -> asio::awaitable<Resp> {
            auto handle = ctx.push_handle<Envelope>();
            for (int i = 0; i < 2; ++i) expect(handle.try_push(Envelope(7, 0, fmt::format("q{}", i))).ok());
            expect(handle.try_push(Envelope(7, 0, "no room")).error() == make_error_code(errc::queue_full));
            expect(handle.push_with_policy(Envelope(7, 0, "dropped"), PushPriority::low,
                                           PushPolicy::drop_if_full).ok());
            expect(handle.push_with_policy(Envelope(7, 0, "refused"), PushPriority::low,
                                           PushPolicy::return_error_if_full)
                       .error() == make_error_code(errc::queue_full));
            // The queue is full right now, so this must wait until the writer (same thread,
            // running while we are suspended) has made room.
            const std::error_code ec = co_await handle.push(Envelope(7, 0, "waited"));
            waited_result = ec.value();
            co_return Resp{};
          })
          .push_queue_capacity(2, 2)
          .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 1, "")));
    auto texts = co_await receive_texts(client, 3);
    CHECK(texts == names({"q0", "q1", "waited"}));
    CHECK(waited_result == 0);
  });
}

TEST_CASE("pushes arrive from another connection and from a thread that is not an Asio thread",
          "[integration][push]") {
  struct Subscribers {
    std::mutex mutex;
    std::vector<PushHandle<Envelope>> handles;
  };
  auto subs = std::make_shared<Subscribers>();
  auto app = WireframeApp<>()
                 .with_state(subs)
                 .route(10, [](Envelope& req, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   auto& s = ctx.state<Subscribers>();
                   std::lock_guard lock(s.mutex);
                   s.handles.push_back(ctx.push_handle<Envelope>());
                   co_return std::move(req);  // "subscribed"
                 })
                 .route(11, [](Envelope& req, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   auto& s = ctx.state<Subscribers>();
                   std::vector<PushHandle<Envelope>> targets;
                   {
                     std::lock_guard lock(s.mutex);
                     targets = s.handles;
                   }
                   for (auto& h : targets) {
                     const std::error_code ec = co_await h.push(Envelope(12, 0, req.payload_text()));
                     expect(!ec);
                   }
                   co_return Resp{};
                 })
                 .build();
  ServerFixture fx(app, 2);
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    WireframeClient<> subscriber(ex);
    CO_REQUIRE_OK(subscriber.connect(fx.endpoint()));
    auto [ec, ack] = co_await subscriber.call(Envelope(10, 0, "subscribe"));
    REQUIRE_FALSE(ec);
    WireframeClient<> publisher(ex);
    CO_REQUIRE_OK(publisher.connect(fx.endpoint()));
    CO_REQUIRE_OK(publisher.send(Envelope(11, 0, "from another connection")));
    auto first = co_await receive_texts(subscriber, 1);
    CHECK(first == names({"from another connection"}));

    PushHandle<Envelope> handle;
    {
      std::lock_guard lock(subs->mutex);
      REQUIRE(subs->handles.size() == 1);
      handle = subs->handles[0];
    }
    std::error_code from_thread;
    std::thread plain([handle, &from_thread]() mutable {
      from_thread = handle.try_push(Envelope(12, 0, "from a plain thread"), PushPriority::high).error();
    });
    plain.join();
    REQUIRE_FALSE(from_thread);
    auto second = co_await receive_texts(subscriber, 1);
    CHECK(second == names({"from a plain thread"}));
  });
}

TEST_CASE("pushing to a connection that has ended fails fast", "[integration][push]") {
  std::mutex mutex;
  PushHandle<Envelope> kept;
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope& req, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   std::lock_guard lock(mutex);
                   kept = ctx.push_handle<Envelope>();
                   co_return std::move(req);
                 })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      auto [ec, r] = co_await client.call(Envelope(1, 0, "x"));
      REQUIRE_FALSE(ec);
    }  // the client goes away
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
    PushHandle<Envelope> handle;
    {
      std::lock_guard lock(mutex);
      handle = kept;
    }
    CHECK(handle.is_closed());
    CHECK(handle.try_push(Envelope(7, 0, "late")).error() == make_error_code(errc::connection_closed));
    const auto t0 = std::chrono::steady_clock::now();
    const std::error_code ec = co_await handle.push(Envelope(7, 0, "late"));
    CHECK(ec == make_error_code(errc::connection_closed));
    CHECK(std::chrono::steady_clock::now() - t0 < 100ms);
  });
}

TEST_CASE("frames already queued when shutdown starts are written before the close",
          "[integration][push]") {
  std::atomic<bool> queued{false};
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope&, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   auto handle = ctx.push_handle<Envelope>();
                   for (int i = 0; i < 5; ++i) expect(handle.try_push(Envelope(7, 0, fmt::format("p{}", i))).ok());
                   queued = true;
                   co_await sleep_for(100ms);  // stop() arrives while the pushes wait behind us
                   co_return Resp{};
                 })
                 .max_high_before_low(0)
                 .build();
  ServerFixture fx(app, 1, 5s);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 1, "")));
    CO_REQUIRE(eventually_async([&] { return queued.load(); }));
    fx.server().stop();
    auto texts = co_await receive_texts(client, 5);
    CHECK(texts == names({"p0", "p1", "p2", "p3", "p4"}));
    auto [ec, none] = co_await client.receive();
    CHECK(ec == make_error_code(errc::connection_closed));
  });
}

TEST_CASE("a stream and pushes interleave and stream frames keep their correlation id",
          "[integration][push]") {
  auto ticker = [](PushHandle<Envelope> handle) -> Stream<Envelope> {
    for (int i = 0; i < 3; ++i) {
      co_yield Envelope(20, 0, fmt::format("s{}", i));
      // Each push is queued while the stream waits for its next turn.
      co_await handle.push(Envelope(7, 0, fmt::format("p{}", i)), PushPriority::high);
    }
  };
  auto app = WireframeApp<>()
                 .route(1, [ticker](Envelope&, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   co_return ticker(ctx.push_handle<Envelope>());
                 })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 77, "")));
    int stream_frames = 0;
    int pushes = 0;
    for (int i = 0; i < 6; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      if (f.id() == 20) {
        CHECK(f.correlation_id() == 77);
        CHECK(f.payload_text() == fmt::format("s{}", stream_frames++));
      } else {
        CHECK(f.correlation_id() == 0);
        CHECK(f.payload_text() == fmt::format("p{}", pushes++));
      }
    }
    CHECK(stream_frames == 3);
    CHECK(pushes == 3);
  });
}

TEST_CASE("the session registry broadcasts to live clients and forgets ended ones",
          "[integration][push][registry]") {
  auto registry = std::make_shared<SessionRegistry<Envelope>>();
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& req) -> asio::awaitable<Resp> { co_return std::move(req); })
                 .with_session_registry(registry)
                 .build();
  ServerFixture fx(app, 2);
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::unique_ptr<WireframeClient<>>> clients;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(std::make_unique<WireframeClient<>>(ex));
      CO_REQUIRE_OK(clients.back()->connect(fx.endpoint()));
      auto [ec, r] = co_await clients.back()->call(Envelope(1, 0, "hi"));  // surely registered now
      REQUIRE_FALSE(ec);
    }
    CHECK(registry->size() == 3);
    CHECK(registry->broadcast(Envelope(9, 0, "news")) == 3);
    for (auto& c : clients) {
      auto texts = co_await receive_texts(*c, 1);
      CHECK(texts == names({"news"}));
    }
    clients.clear();  // all three disconnect
    CO_CHECK(eventually_async([&] { return registry->entry_count() == 0; }));
    CHECK(registry->size() == 0);
  });
}

TEST_CASE("registry entries vanish after many real connects and disconnects",
          "[integration][push][registry]") {
  auto registry = std::make_shared<SessionRegistry<Envelope>>();
  ServerFixture fx(WireframeApp<>()
                       .route(1, [](Envelope& req) -> asio::awaitable<Resp> { co_return std::move(req); })
                       .with_session_registry(registry)
                       .build(),
                   2);
  run_async([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 200; ++i) {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      auto [ec, r] = co_await client.call(Envelope(1, 0, "x"));
      REQUIRE_FALSE(ec);
    }
    CO_CHECK(eventually_async([&] { return registry->entry_count() == 0; }));
  }, 30s);
}

TEST_CASE("the push rate limit holds for try_push and paces push", "[integration][push][rate]") {
  std::atomic<int> accepted{-1};
  std::atomic<long> paced_ms{-1};
  auto app =
      WireframeApp<>()
          .route(1, [&](Envelope&, ConnectionContext& ctx) -> asio::awaitable<Resp> {
            auto handle = ctx.push_handle<Envelope>();
            int ok = 0;
            for (int i = 0; i < 50; ++i) {
              const std::error_code ec = handle.try_push(Envelope(7, 0, "burst")).error();
              if (!ec) ++ok;
              else expect(ec == make_error_code(errc::rate_limited));
            }
            accepted = ok;
            co_return Resp{};
          })
          .route(2, [&](Envelope&, ConnectionContext& ctx) -> asio::awaitable<Resp> {
            auto handle = ctx.push_handle<Envelope>();
            const auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < 30; ++i) {
              const std::error_code ec = co_await handle.push(Envelope(7, 0, "paced"));
              expect(!ec);
            }
            paced_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - t0)
                           .count();
            co_return Resp{};
          })
          .push_rate_limit(100, 10)  // 100 frames/s, bursts of 10
          .push_queue_capacity(64, 64)
          .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    WireframeClient<> first(ex);
    CO_REQUIRE_OK(first.connect(fx.endpoint()));
    CO_REQUIRE_OK(first.send(Envelope(1, 1, "")));
    auto burst = co_await receive_texts(first, 10);
    CO_REQUIRE(eventually_async([&] { return accepted.load() >= 0; }));
    // The burst passes, the rest is refused (one more may slip in if the loop took > 10 ms).
    CHECK(accepted >= 10);
    CHECK(accepted <= 11);

    WireframeClient<> second(ex);  // a fresh connection has a fresh bucket
    CO_REQUIRE_OK(second.connect(fx.endpoint()));
    CO_REQUIRE_OK(second.send(Envelope(2, 1, "")));
    auto paced = co_await receive_texts(second, 30);
    CO_REQUIRE(eventually_async([&] { return paced_ms.load() >= 0; }));
    // 10 at once, then 20 at 100/s: about 200 ms. Slack both ways for a busy machine.
    CHECK(paced_ms >= 150);
    CHECK(paced_ms < 3000);
  }, 20s);
}

TEST_CASE("drop_to_dlq and ended connections fill the dead letter queue, try_push never does",
          "[integration][push][dlq]") {
  asio::io_context dlq_io;
  auto dlq = std::make_shared<DeadLetterQueue<Envelope>>(dlq_io.get_executor(), 3);
  std::mutex mutex;
  PushHandle<Envelope> kept;
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope&, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   auto handle = ctx.push_handle<Envelope>();
                   for (int i = 0; i < 5; ++i) {
                     expect(handle.push_with_policy(Envelope(7, 0, fmt::format("f{}", i)),
                                                    PushPriority::low, PushPolicy::drop_to_dlq)
                                .ok());  // a full queue counts as success: the DLQ has it
                   }
                   PushResult<Envelope> refused = handle.try_push(Envelope(7, 0, "kept"));
                   expect(refused.error() == errc::queue_full && refused.has_frame());
                   std::lock_guard lock(mutex);
                   kept = handle;
                   co_return Resp{};
                 })
                 .push_queue_capacity(2, 2)
                 .with_dead_letter_queue(dlq)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      CO_REQUIRE_OK(client.send(Envelope(1, 1, "")));
      auto texts = co_await receive_texts(client, 2);
      CHECK(texts == names({"f0", "f1"}));
    }
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
  PushHandle<Envelope> handle;
  {
    std::lock_guard lock(mutex);
    handle = kept;
  }
  std::vector<std::pair<std::string, std::error_code>> letters;
  while (auto letter = dlq->try_receive()) {
    letters.emplace_back(std::string(letter->frame.payload_text()), letter->reason);
    CHECK(letter->connection == handle.connection_id());
  }
  const std::vector<std::pair<std::string, std::error_code>> want{
      {"f2", make_error_code(errc::queue_full)},
      {"f3", make_error_code(errc::queue_full)},
      {"f4", make_error_code(errc::queue_full)}};
  CHECK(letters == want);  // and not "kept": try_push handed it back
  // The connection has ended. try_push hands the frame back and leaves the DLQ alone...
  for (int i = 0; i < 4; ++i) {
    PushResult<Envelope> late = handle.try_push(Envelope(7, 0, "late"));
    CHECK(late.error() == make_error_code(errc::connection_closed));
    CHECK(late.has_frame());
  }
  CHECK_FALSE(dlq->try_receive());
  // ...drop_to_dlq fills the (empty again) DLQ, and what no longer fits is counted as lost.
  for (int i = 0; i < 4; ++i) {
    PushResult<Envelope> late = handle.push_with_policy(Envelope(7, 0, "late"), PushPriority::low,
                                                        PushPolicy::drop_to_dlq);
    CHECK(late.error() == make_error_code(errc::connection_closed));
    CHECK_FALSE(late.has_frame());
  }
  int closed_letters = 0;
  while (auto letter = dlq->try_receive()) {
    CHECK(letter->reason == make_error_code(errc::connection_closed));
    ++closed_letters;
  }
  CHECK(closed_letters == 3);
  CHECK(dlq->lost() == 1);
}

// A frame the codec refuses (here: over its 32 KiB max_frame_length) cannot be sent. A
// response is dropped and logged, the connection carries on; a pushed frame had been accepted,
// so it goes to the dead letter queue with the codec's reason. Both write paths: a frame
// encoded into the write buffer (40 000 bytes) and one whose payload the write borrows
// (100 000 bytes, above the 64 KiB borrowing threshold).
TEST_CASE("a frame too large for the codec: a response is dropped, a push is dead-lettered",
          "[integration][push][dlq]") {
  asio::io_context dlq_io;
  auto dlq = std::make_shared<DeadLetterQueue<Envelope>>(dlq_io.get_executor(), 8);
  LengthDelimitedCodec::Options small;
  small.max_frame_length = 32 * 1024;
  const auto size_in = [](const Envelope& r) { return std::stoul(std::string(r.payload_text())); };
  auto app = WireframeApp<>()
                 .with_codec(LengthDelimitedCodec(small))
                 .route(1, [size_in](Envelope& r) -> Resp {
                   return Envelope(1, r.correlation_id(), std::string(size_in(r), 'r'));
                 })
                 .route(2, [](Envelope& r, ConnectionContext& ctx) -> Resp {
                   auto handle = ctx.push_handle<Envelope>();
                   for (const auto& [tag, size] : {std::pair{'a', 40'000}, {'b', 100'000}, {'c', 10}}) {
                     expect(handle.try_push(Envelope(7, 0, std::string(size, tag)), PushPriority::high).ok());
                   }
                   return Envelope(2, r.correlation_id(), "pushed");
                 })
                 .with_dead_letter_queue(dlq)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor, LengthDelimitedCodec(small));
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch{Envelope(1, 1, "40000"), Envelope(1, 2, "100000"), Envelope(1, 3, "10")};
    CO_REQUIRE_OK(client.send_all(batch));
    auto [ec, reply] = co_await client.receive();  // the first two were dropped
    REQUIRE_FALSE(ec);
    CHECK(reply.correlation_id() == 3);
    CHECK(reply.payload().size() == 10);
    CO_REQUIRE_OK(client.send(Envelope(2, 4, "")));
    std::vector<std::pair<std::uint64_t, std::size_t>> got;  // correlation id, payload size
    for (int i = 0; i < 2; ++i) {
      auto [ec2, f] = co_await client.receive();
      REQUIRE_FALSE(ec2);
      got.emplace_back(f.correlation_id(), f.payload().size());
    }
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::pair<std::uint64_t, std::size_t>>{{0, 10}, {4, 6}});  // push "c", the reply
    std::vector<std::pair<char, std::error_code>> letters;
    CO_CHECK(eventually_async([&] {
      while (auto letter = dlq->try_receive()) letters.emplace_back(letter->frame.payload_text()[0], letter->reason);
      return letters.size() >= 2;
    }));
    const std::vector<std::pair<char, std::error_code>> want{{'a', make_error_code(errc::frame_too_large)},
                                                             {'b', make_error_code(errc::frame_too_large)}};
    CHECK(letters == want);
    CHECK(server_side_failures.exchange(0) == 0);
  });
}

// Regression: a response turn used to reset the high streak, so with all three sources ready
// the low queue never got a turn.
TEST_CASE("with high, low and responses all ready, each gets its turn", "[integration][push]") {
  auto app = WireframeApp<>()
                 .route(1, [](Envelope&, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   auto handle = ctx.push_handle<Envelope>();
                   for (int i = 0; i < 4; ++i) {
                     expect(handle.try_push(Envelope(7, 0, fmt::format("H{}", i)), PushPriority::high).ok());
                     expect(handle.try_push(Envelope(7, 0, fmt::format("L{}", i)), PushPriority::low).ok());
                   }
                   std::vector<Envelope> replies;
                   for (int i = 0; i < 4; ++i) replies.emplace_back(1, 0, fmt::format("R{}", i));
                   co_return replies;
                 })
                 .max_high_before_low(2)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 5, "")));
    std::vector<std::string> got;
    for (int i = 0; i < 12; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      got.emplace_back(f.payload_text());
    }
    CHECK(server_side_failures.exchange(0) == 0);
    // n = 2: two high, then the response's turn, then low (the high streak is still 2), ...
    CHECK(got == names({"H0", "H1", "R0", "L0", "H2", "R1", "H3", "L1", "R2", "L2", "L3", "R3"}));
  });
}

TEST_CASE("try_push hands a refused frame back and the caller retries it", "[integration][push]") {
  asio::io_context dlq_io;
  auto dlq = std::make_shared<DeadLetterQueue<Envelope>>(dlq_io.get_executor(), 8);
  auto app = WireframeApp<>()
                 .route(1, [](Envelope&, ConnectionContext& ctx) -> asio::awaitable<Resp> {
                   auto handle = ctx.push_handle<Envelope>();
                   for (int i = 0; i < 2; ++i) expect(handle.try_push(Envelope(7, 0, fmt::format("q{}", i))).ok());
                   PushResult<Envelope> refused = handle.try_push(Envelope(7, 0, "q2"));
                   expect(refused.error() == errc::queue_full);
                   std::optional<Envelope> frame = refused.take_frame();
                   expect(frame && frame->payload_text() == "q2" && !refused.has_frame());
                   if (!frame) co_return Resp{};
                   // The same frame, now with back-pressure: the writer (this thread) makes room.
                   const std::error_code ec = co_await handle.push(std::move(*frame));
                   expect(!ec);
                   co_return Resp{};
                 })
                 .push_queue_capacity(2, 2)
                 .with_dead_letter_queue(dlq)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 1, "")));
    auto texts = co_await receive_texts(client, 3);
    CHECK(texts == names({"q0", "q1", "q2"}));
  });
  CHECK_FALSE(dlq->try_receive());  // nothing was dead-lettered
}

namespace {

// A connection's push queues without a connection: capacity 1 each, nobody draining them but
// the test. `bell` stands in for the writer's doorbell (declared first, so it outlives them).
struct BareQueues {
  explicit BareQueues(PushRateLimit limit = {})
      : dlq(std::make_shared<DeadLetterQueue<Envelope>>(io.get_executor(), 16)),
        queues(std::make_shared<detail::PushQueues<Envelope>>(bell, 42, 1, 1, limit, dlq)),
        handle(queues) {}

  std::vector<std::error_code> letters() {
    std::vector<std::error_code> out;
    while (auto letter = dlq->try_receive()) out.push_back(letter->reason);
    return out;
  }

  asio::io_context io;
  detail::ConcurrentDoorbell bell{io.get_executor()};
  std::shared_ptr<DeadLetterQueue<Envelope>> dlq;
  std::shared_ptr<detail::PushQueues<Envelope>> queues;
  PushHandle<Envelope> handle;
};

using std::chrono::steady_clock;

bool handed_back(PushResult<Envelope>& r, std::error_code want, std::string_view payload) {
  auto frame = r.take_frame();
  return r.error() == want && frame && frame->payload_text() == payload;
}

}  // namespace

TEST_CASE("what each push call does with a frame it could not queue", "[integration][push][dlq]") {
  BareQueues q;
  const auto full = make_error_code(errc::queue_full);
  const auto closed = make_error_code(errc::connection_closed);
  REQUIRE(q.handle.try_push(Envelope(7, 0, "first")).ok());

  SECTION("full queue") {
    auto r1 = q.handle.try_push(Envelope(7, 0, "a"));
    CHECK(handed_back(r1, full, "a"));
    auto r2 = q.handle.push_with_policy(Envelope(7, 0, "b"), PushPriority::low, PushPolicy::return_error_if_full);
    CHECK(handed_back(r2, full, "b"));
    for (auto policy : {PushPolicy::drop_if_full, PushPolicy::warn_and_drop_if_full}) {
      auto r = q.handle.push_with_policy(Envelope(7, 0, "c"), PushPriority::low, policy);
      CHECK(r.ok());
      CHECK_FALSE(r.has_frame());
    }
    CHECK(q.letters().empty());  // none of the above dead-letters
    auto r3 = q.handle.push_with_policy(Envelope(7, 0, "d"), PushPriority::low, PushPolicy::drop_to_dlq);
    CHECK(r3.ok());
    CHECK_FALSE(r3.has_frame());
    CHECK(q.letters() == std::vector<std::error_code>{full});
  }
  SECTION("ended connection") {
    q.queues->close();
    auto r1 = q.handle.try_push(Envelope(7, 0, "a"));
    CHECK(handed_back(r1, closed, "a"));
    for (auto policy : {PushPolicy::return_error_if_full, PushPolicy::drop_if_full,
                        PushPolicy::warn_and_drop_if_full}) {
      auto r = q.handle.push_with_policy(Envelope(7, 0, "b"), PushPriority::low, policy);
      CHECK(handed_back(r, closed, "b"));  // a closed connection is an error for every policy
    }
    CHECK(q.letters().empty());
    auto r2 = q.handle.push_with_policy(Envelope(7, 0, "c"), PushPriority::low, PushPolicy::drop_to_dlq);
    CHECK(r2.error() == closed);
    CHECK_FALSE(r2.has_frame());
    run_async([&]() -> asio::awaitable<void> {
      const std::error_code ec = co_await q.handle.push(Envelope(7, 0, "d"));
      CHECK(ec == closed);
      auto r3 = co_await q.handle.try_push_for(Envelope(7, 0, "e"), 5s);
      CHECK(handed_back(r3, closed, "e"));
    });
    CHECK(q.letters() == std::vector<std::error_code>{closed, closed});  // drop_to_dlq and push
  }
  SECTION("default-constructed handle: nothing to push to, no DLQ to use") {
    PushHandle<Envelope> none;
    auto r1 = none.try_push(Envelope(7, 0, "a"));
    CHECK(handed_back(r1, closed, "a"));
    auto r2 = none.push_with_policy(Envelope(7, 0, "b"), PushPriority::low, PushPolicy::drop_to_dlq);
    CHECK(handed_back(r2, closed, "b"));
    for (auto policy : {PushPolicy::return_error_if_full, PushPolicy::drop_if_full,
                        PushPolicy::warn_and_drop_if_full}) {
      auto r = none.push_with_policy(Envelope(7, 0, "c"), PushPriority::low, policy);
      CHECK(handed_back(r, closed, "c"));
    }
  }
}

TEST_CASE("try_push_for waits for room, but no longer than its timeout", "[integration][push]") {
  BareQueues q;
  REQUIRE(q.handle.try_push(Envelope(7, 0, "first")).ok());  // capacity 1: full now
  run_async([&]() -> asio::awaitable<void> {
    auto t0 = steady_clock::now();
    auto timed_out = co_await q.handle.try_push_for(Envelope(7, 0, "a"), 60ms);
    CHECK(handed_back(timed_out, make_error_code(errc::queue_full), "a"));
    CHECK(steady_clock::now() - t0 >= 60ms);
    CHECK(steady_clock::now() - t0 < 2s);

    // The "writer" takes a frame 20 ms from now: the wait ends then, well before its timeout.
    asio::steady_timer writer(co_await asio::this_coro::executor, 20ms);
    writer.async_wait([&](const asio::error_code&) { (void)q.queues->try_pop(PushPriority::low); });
    t0 = steady_clock::now();
    auto queued = co_await q.handle.try_push_for(Envelope(7, 0, "b"), 5s);
    CHECK(queued.ok());
    CHECK(steady_clock::now() - t0 < 2s);

    // The connection ends while it waits: it returns at once, frame in hand.
    asio::steady_timer closer(co_await asio::this_coro::executor, 20ms);
    closer.async_wait([&](const asio::error_code&) { q.queues->close(); });
    t0 = steady_clock::now();
    auto closed = co_await q.handle.try_push_for(Envelope(7, 0, "c"), 5s);
    CHECK(handed_back(closed, make_error_code(errc::connection_closed), "c"));
    CHECK(steady_clock::now() - t0 < 2s);
  });
  CHECK(q.letters().empty());
}

TEST_CASE("try_push_for waits for a rate-limit token, but no longer than its timeout",
          "[integration][push][rate]") {
  BareQueues q(PushRateLimit{5, 1});  // a token every 200 ms, none banked
  REQUIRE(q.handle.try_push(Envelope(7, 0, "first"), PushPriority::high).ok());
  run_async([&]() -> asio::awaitable<void> {
    auto t0 = steady_clock::now();
    auto limited = co_await q.handle.try_push_for(Envelope(7, 0, "a"), 30ms);
    CHECK(handed_back(limited, make_error_code(errc::rate_limited), "a"));
    CHECK(steady_clock::now() - t0 >= 30ms);
    CHECK(steady_clock::now() - t0 < 2s);
    auto paced = co_await q.handle.try_push_for(Envelope(7, 0, "b"), 5s);  // the token comes
    CHECK(paced.ok());
  });
}


TEST_CASE("PushHandle::close from another thread: graceful writes what is queued, immediate does not wait",
          "[integration][push][close]") {
  std::mutex mutex;
  std::vector<PushHandle<Envelope>> handles;  // in connection order
  TeardownLog log;
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope& req, ConnectionContext& ctx) -> Resp {
                   std::lock_guard lock(mutex);
                   handles.push_back(ctx.push_handle<Envelope>());
                   return std::move(req);
                 })
                 .on_connection_teardown([&log](ConnectionContext&, std::error_code ec) { log.add(ec); })
                 .build();
  ServerFixture fx(app);
  auto handle = [&](std::size_t i) {
    std::lock_guard lock(mutex);
    return handles.at(i);
  };
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    WireframeClient<> graceful(ex), immediate(ex), bystander(ex);
    std::array<WireframeClient<>*, 3> clients{&graceful, &immediate, &bystander};  // no braced list across co_await (g++ 12)
    for (auto* c : clients) {
      CO_REQUIRE_OK(c->connect(fx.endpoint()));
      auto [ec, r] = co_await c->call(Envelope(1, 0, "register"));
      REQUIRE_FALSE(ec);
    }
    // Graceful, from a thread that is not an Asio thread: the three frames pushed before it
    // are written, then the connection ends.
    std::thread([h = handle(0)]() mutable {
      for (int i = 0; i < 3; ++i) expect(h.try_push(Envelope(7, 0, fmt::format("p{}", i))).ok());
      expect(h.close());
    }).join();
    auto texts = co_await receive_texts(graceful, 3);
    CHECK(texts == names({"p0", "p1", "p2"}));
    auto [ec0, none0] = co_await graceful.receive();
    CHECK(ec0 == make_error_code(errc::connection_closed));
    // Immediate: the connection ends without waiting for anything.
    std::thread([h = handle(1)]() mutable { expect(h.close(CloseMode::immediate)); }).join();
    auto [ec1, none1] = co_await immediate.receive();
    CHECK(ec1);
    CO_REQUIRE(eventually_async([&] { return log.size() == 2; }));
    for (const auto& reason : log.reasons()) CHECK(reason == make_error_code(errc::closed_by_request));
    CO_REQUIRE(eventually_async([&] { return handle(0).is_closed() && handle(1).is_closed(); }));
    CHECK_FALSE(handle(0).close());  // the connection has ended: nothing to ask
    auto [ec2, r2] = co_await bystander.call(Envelope(1, 0, "unaffected"));
    CHECK_FALSE(ec2);
    CHECK(server_side_failures.exchange(0) == 0);
  });
}

}  // namespace test_push_cpp
