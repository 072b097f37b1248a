// Events (log/events.hpp) over a real server: each key transition of a connection is logged
// once, under its stable name, with the connection's fields (conn=, peer=) and its own, to the
// logger the app was given. docs/observability.md lists them.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/async_test.hpp"
#include "support/fragment_wire.hpp"
#include "support/log_capture.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_events_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

// The one line of `event`, failing the test when there is not exactly one.
LogCapture::Entry only(const LogCapture& log, Event event) {
  const auto lines = log.events(event);
  INFO(event_name(event));
  for (const auto& line : log.lines()) UNSCOPED_INFO(line);
  REQUIRE(lines.size() == 1);
  return lines[0];
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// "request.failed conn=3 peer=127.0.0.1:41234 ...": the event's name, then the connection's fields.
void check_fields(const LogCapture::Entry& e, Event event, ConnectionId id) {
  INFO(e.text);
  CHECK(e.text.rfind(fmt::format("{} conn={} peer=127.0.0.1:", event_name(event), id), 0) == 0);
}

}  // namespace

TEST_CASE("a connection's events carry its id and peer, each under its name", "[integration][events]") {
  LogCapture log(false);
  std::atomic<ConnectionId> id{0};
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope& r, ConnectionContext& ctx) -> Resp {
                   id = ctx.id();
                   CHECK(ctx.log_fields() == fmt::format("conn={} peer={}", ctx.id(), ctx.peer_name()));
                   return std::move(r);
                 })
                 .route(2, [](Envelope&) -> Resp { throw std::runtime_error("route 2 fails"); })
                 .route(3, [](Envelope&, ConnectionContext& ctx) -> Resp {
                   auto handle = ctx.push_handle<Envelope>();
                   for (int i = 0; i < 3; ++i) (void)handle.try_push(Envelope(9, 0, "p"), PushPriority::low);
                   (void)handle.push_with_policy(Envelope(9, 0, "dlq"), PushPriority::low, PushPolicy::drop_to_dlq);
                   (void)handle.push_with_policy(Envelope(9, 0, "warn"), PushPriority::low,
                                                 PushPolicy::warn_and_drop_if_full);
                   return Resp{};
                 })
                 .push_queue_capacity(16, 2)
                 .logger(log.logger())
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, echo] = co_await client.call(Envelope(1, 1, "hi"));
    REQUIRE_FALSE(ec);
    CO_REQUIRE_OK(client.send(Envelope(2, 2, "x")));   // fails: request.failed
    CO_REQUIRE_OK(client.send(Envelope(77, 3, "?")));  // request.unknown_id
    CO_REQUIRE_OK(client.send(Envelope(3, 4, "")));    // 2 queued, 1 refused, 1 dead-lettered, 1 dropped
    for (int i = 0; i < 2; ++i) {
      auto [pec, pushed] = co_await client.receive();
      REQUIRE_FALSE(pec);
    }
    client.close();
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
  (void)fx.stop(10s);
  const ConnectionId conn = id;
  REQUIRE(conn != 0);
  const auto opened = only(log, Event::connection_opened);
  check_fields(opened, Event::connection_opened, conn);
  CHECK(contains(opened.text, " transport=tcp"));
  CHECK(opened.level == LogLevel::debug);

  const auto failed = only(log, Event::request_failed);
  check_fields(failed, Event::request_failed, conn);
  CHECK(contains(failed.text, " id=2 correlation=2 error=\""));
  CHECK(contains(failed.text, "route 2 fails"));
  CHECK(failed.level == LogLevel::warn);

  const auto unknown = only(log, Event::request_unknown_id);
  check_fields(unknown, Event::request_unknown_id, conn);
  CHECK(contains(unknown.text, " id=77 correlation=3"));

  // The third try_push and drop_to_dlq's attempt (debug: the producer, or the dead letter
  // queue, has the frame), then warn_and_drop_if_full's drop: one line, at warn.
  const auto refused = log.events(Event::push_refused);
  REQUIRE(refused.size() == 3);
  for (const auto& r : refused) {
    check_fields(r, Event::push_refused, conn);
    CHECK(contains(r.text, " priority=low reason=queue_full"));
  }
  CHECK(refused[0].level == LogLevel::debug);
  CHECK(refused[1].level == LogLevel::debug);
  CHECK(refused[2].level == LogLevel::warn);
  CHECK(contains(refused[2].text, " dropped=true"));
  const auto dead = only(log, Event::push_dead_lettered);
  check_fields(dead, Event::push_dead_lettered, conn);
  CHECK(contains(dead.text, " count=1 reason=queue_full"));

  const auto closed = only(log, Event::connection_closed);
  check_fields(closed, Event::connection_closed, conn);
  CHECK(contains(closed.text, " reason=clean duration_ms="));
  CHECK(closed.level == LogLevel::debug);

  // The server's own: its drain, without connection fields.
  CHECK(contains(only(log, Event::shutdown_started).text, "shutdown.started signal=0 connections=0"));
  CHECK(contains(only(log, Event::shutdown_completed).text, "shutdown.completed duration_ms="));
}

TEST_CASE("timeouts, back-pressure and the push rate limit are events", "[integration][events]") {
  LogCapture log(false);
  auto app = WireframeApp<>()
                 // A slow handler behind a one-request ring: the reader pauses (inbound).
                 .route(1, [](Envelope& r, ConnectionContext&) -> asio::awaitable<Resp> {
                   co_await sleep_for(20ms);
                   co_return std::move(r);
                 })
                 // 32 frames of 4 KiB above a 16 KiB high watermark: the answer waits (outbound).
                 .route(2, [](Envelope& r) -> Resp {
                   return std::vector<Envelope>(32, Envelope(r.id(), r.correlation_id(), std::string(4096, 'x')));
                 })
                 .route(3, [](Envelope&, ConnectionContext& ctx) -> Resp {  // a burst of 1: the second is limited
                   auto handle = ctx.push_handle<Envelope>();
                   for (int i = 0; i < 2; ++i) (void)handle.try_push(Envelope(9, 0, "p"), PushPriority::high);
                   return Resp{};
                 })
                 .max_pipelined_requests(1)
                 .outbound_watermarks(8 * 1024, 16 * 1024)
                 .push_rate_limit(1, 1)
                 .read_idle_timeout(1s)  // long enough for the pauses above under sanitizers
                 .logger(log.logger())
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> slow;
    for (std::uint64_t c = 1; c <= 4; ++c) slow.emplace_back(1, c, "s");
    CO_REQUIRE_OK(client.send_all(slow));
    for (int i = 0; i < 4; ++i) {
      auto [ec, r] = co_await client.receive();
      REQUIRE_FALSE(ec);
    }
    CO_REQUIRE_OK(client.send(Envelope(2, 5, "")));
    for (int i = 0; i < 32; ++i) {
      auto [ec, r] = co_await client.receive();
      REQUIRE_FALSE(ec);
    }
    CO_REQUIRE_OK(client.send(Envelope(3, 6, "")));
    auto [pec, pushed] = co_await client.receive();
    REQUIRE_FALSE(pec);
    // Then nothing: the read idle timeout closes the connection.
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }, 5s));
  });
  const auto on = log.events(Event::backpressure_on);
  const auto off = log.events(Event::backpressure_off);
  auto with = [](const std::vector<LogCapture::Entry>& es, std::string_view part) {
    return std::count_if(es.begin(), es.end(), [&](const auto& e) { return contains(e.text, part); });
  };
  CHECK(with(on, " direction=inbound") >= 1);
  CHECK(with(on, " direction=outbound") >= 1);
  // Each pause ends once, with how long it lasted.
  CHECK(with(off, " direction=inbound paused_ms=") == with(on, " direction=inbound"));
  CHECK(with(off, " direction=outbound paused_ms=") == with(on, " direction=outbound"));
  CHECK(contains(only(log, Event::push_rate_limited).text, " priority=high reason=rate_limited"));
  const auto fired = only(log, Event::timeout_fired);
  CHECK(contains(fired.text, " kind=read_idle_timed_out"));
  CHECK(fired.level == LogLevel::info);
  const auto closed = only(log, Event::connection_closed);
  CHECK(contains(closed.text, " reason=read_idle_timed_out duration_ms="));
  CHECK(closed.level == LogLevel::warn);
}

TEST_CASE("a reassembly error is an event, and closes as its policy says", "[integration][events][fragment]") {
  LogCapture log(false);
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& r) -> Resp { return std::move(r); })
                 .with_fragmentation(LenFlag32K(1024))
                 .logger(log.logger())
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    client.with_fragmentation(LenFlag32K(1024));
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, reply] = co_await client.call(Envelope(1, 1, std::string(3000, 'f')));  // served: 3 fragments
    REQUIRE_FALSE(ec);
    const Wire bad = framed(Wire{0xff, 0, 0});  // announces 32 512 bytes, carries 1
    CO_REQUIRE_OK(client.send_bytes(std::as_bytes(std::span(bad))));
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
  const auto error = only(log, Event::reassembly_error);
  CHECK(contains(error.text, " reason=bad_header message_id=none dropped_bytes="));
  CHECK(contains(error.text, " action=close"));
  CHECK(contains(only(log, Event::connection_closed).text, " reason=bad_header duration_ms="));
}

TEST_CASE("events go to the process-wide logger by default, and nowhere with a null logger", "[integration][events]") {
  LogCapture process_wide;  // set_logger: what an app without logger() writes to
  auto failing = [](Envelope&) -> Resp { throw std::runtime_error("boom"); };
  auto echo = [](Envelope& r) -> Resp { return std::move(r); };
  auto run_one = [](const auto& app) {
    ServerFixture fx(app);
    run_async([&]() -> asio::awaitable<void> {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      auto [ec, r] = co_await client.call(Envelope(2, 1, "served"));  // the connection is up
      REQUIRE_FALSE(ec);
      CO_REQUIRE_OK(client.send(Envelope(1, 2, "x")));
      client.close();
      CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
    });
  };
  run_one(WireframeApp<>().route(1, failing).route(2, echo).build());
  CHECK(process_wide.events(Event::request_failed).size() == 1);
  CHECK(process_wide.events(Event::connection_closed).size() == 1);

  const std::size_t before = process_wide.lines().size();
  run_one(WireframeApp<>().route(1, failing).route(2, echo).logger(nullptr).build());
  CHECK(process_wide.lines().size() == before);
}

}  // namespace test_events_cpp
