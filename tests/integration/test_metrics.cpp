// An app's Metrics over a real server: known traffic on 127.0.0.1, then every figure it must have
// moved, exactly (docs/observability.md lists them). Read once the connection has ended, when
// everything it counts is in.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <asio/read.hpp>
#include <fmt/format.h>

#include "support/async_test.hpp"
#include "support/fragment_wire.hpp"
#include "support/raw_frames.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_metrics_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

double value_of(const Metrics& m, const std::string& name, const MetricLabels& labels = {}) {
  for (const auto& f : m.collect()) {
    if (f.name != name) continue;
    for (const auto& s : f.samples) {
      if (s.labels != labels) continue;
      return f.type == MetricType::histogram ? static_cast<double>(s.count) : s.value;
    }
  }
  return -1;  // no such series
}

Stream<Envelope> three(Envelope request) {
  for (int i = 0; i < 3; ++i) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_yield Envelope(request.id(), request.correlation_id(), fmt::format("s{}", i));
  }
}

// Envelope on the wire: 4-byte length prefix, then id (4), correlation id (8) and the payload.
constexpr std::size_t wire_size(std::size_t payload) { return 4 + 12 + payload; }

}  // namespace

TEST_CASE("a connection counts its frames, bytes, requests and pushes exactly", "[integration][metrics]") {
  auto metrics = std::make_shared<Metrics>();
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& r) -> Resp { return std::move(r); })  // inline
                 .route(2, [](Envelope& r, ConnectionContext&) -> asio::awaitable<Resp> { co_return std::move(r); })
                 .route(3, [](Envelope& r) -> Resp { return Resp(three(r)); })
                 .route(4, [](Envelope&) -> Resp { throw std::runtime_error("route 4 fails"); })
                 .route(5, [](Envelope&, ConnectionContext& ctx) -> Resp {
                   auto handle = ctx.push_handle<Envelope>();
                   (void)handle.try_push(Envelope(9, 0, "hi"), PushPriority::high);
                   (void)handle.try_push(Envelope(9, 0, "lo1"), PushPriority::low);
                   (void)handle.try_push(Envelope(9, 0, "lo2"), PushPriority::low);
                   return Resp{};
                 })
                 .metrics(metrics)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::uint64_t corr = 0;
    for (int i = 0; i < 5; ++i) {  // 5 inline echoes of 10 bytes
      auto [ec, r] = co_await client.call(Envelope(1, ++corr, "0123456789"));
      REQUIRE_FALSE(ec);
    }
    for (int i = 0; i < 2; ++i) {  // 2 coroutine echoes of 4 bytes
      auto [ec, r] = co_await client.call(Envelope(2, ++corr, "abcd"));
      REQUIRE_FALSE(ec);
    }
    CO_REQUIRE_OK(client.send(Envelope(3, ++corr, "")));  // a stream of 3 frames, "s0".."s2"
    for (int i = 0; i < 3; ++i) {
      auto [ec, r] = co_await client.receive();
      REQUIRE_FALSE(ec);
    }
    CO_REQUIRE_OK(client.send(Envelope(4, ++corr, "x")));   // fails: logged, no answer
    CO_REQUIRE_OK(client.send(Envelope(77, ++corr, "?")));  // no route: dropped
    CO_REQUIRE_OK(client.send(Envelope(5, ++corr, "")));    // 3 pushes, no answer
    for (int i = 0; i < 3; ++i) {
      auto [ec, r] = co_await client.receive();
      REQUIRE_FALSE(ec);
    }
    client.close();
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
  const Metrics& m = *metrics;
  CHECK(value_of(m, "wireframe_connections_total", {{"outcome", "accepted"}}) == 1);
  CHECK(value_of(m, "wireframe_connections_total", {{"outcome", "refused"}}) == 0);
  CHECK(value_of(m, "wireframe_connections_open") == 0);
  CHECK(value_of(m, "wireframe_connections_closed_total", {{"reason", "clean"}}) == 1);
  // In: 5 + 2 + 1 + 1 + 1 + 1 requests; out: 5 + 2 echoes, 3 stream frames, 3 pushes.
  CHECK(value_of(m, "wireframe_frames_total", {{"direction", "in"}}) == 11);
  CHECK(value_of(m, "wireframe_frames_total", {{"direction", "out"}}) == 13);
  const double in = 5 * wire_size(10) + 2 * wire_size(4) + wire_size(0) + wire_size(1) + wire_size(1) + wire_size(0);
  const double out = 5 * wire_size(10) + 2 * wire_size(4) + 3 * wire_size(2) + wire_size(2) + 2 * wire_size(3);
  CHECK(value_of(m, "wireframe_bytes_total", {{"direction", "in"}}) == in);
  CHECK(value_of(m, "wireframe_bytes_total", {{"direction", "out"}}) == out);
  const std::string latency = "wireframe_request_duration_seconds";
  CHECK(value_of(m, latency, {{"route", "1"}, {"outcome", "ok"}}) == 5);
  CHECK(value_of(m, latency, {{"route", "2"}, {"outcome", "ok"}}) == 2);
  CHECK(value_of(m, latency, {{"route", "3"}, {"outcome", "ok"}}) == 1);
  CHECK(value_of(m, latency, {{"route", "4"}, {"outcome", "error"}}) == 1);
  CHECK(value_of(m, latency, {{"route", "4"}, {"outcome", "ok"}}) == 0);
  CHECK(value_of(m, latency, {{"route", "5"}, {"outcome", "ok"}}) == 1);
  CHECK(value_of(m, latency, {{"route", "unknown"}, {"outcome", "unknown_id"}}) == 1);
  CHECK(value_of(m, "wireframe_pushes_total", {{"priority", "high"}, {"outcome", "queued"}}) == 1);
  CHECK(value_of(m, "wireframe_pushes_total", {{"priority", "high"}, {"outcome", "sent"}}) == 1);
  CHECK(value_of(m, "wireframe_pushes_total", {{"priority", "low"}, {"outcome", "queued"}}) == 2);
  CHECK(value_of(m, "wireframe_pushes_total", {{"priority", "low"}, {"outcome", "sent"}}) == 2);
  CHECK(value_of(m, "wireframe_pushes_total", {{"priority", "low"}, {"outcome", "refused"}}) == 0);
  CHECK(value_of(m, "wireframe_queued_bytes", {{"direction", "in"}}) == 0);
  CHECK(value_of(m, "wireframe_queued_bytes", {{"direction", "out"}}) == 0);
}

// Requests of three routes, interleaved, in one write: a read holds many of them, so the route
// changes from one request to the next, more often than the per-read table has room for (32).
TEST_CASE("inline requests of several routes in one read are each counted under their route",
          "[integration][metrics]") {
  constexpr int per_route = 40;
  constexpr std::uint32_t routes[] = {1, 6, 7};
  auto metrics = std::make_shared<Metrics>();
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& r) -> Resp { return std::move(r); })
                 .route(6, [](Envelope& r) -> Resp { return std::move(r); })
                 .route(7, [](Envelope& r) -> Resp { return std::move(r); })
                 .metrics(metrics)
                 .build();
  ServerFixture fx(app);
  std::vector<std::uint8_t> burst;
  for (int i = 0; i < per_route; ++i) {
    for (const std::uint32_t id : routes) {
      const auto frame = frame_bytes(id, burst.size() + 1, 8);
      burst.insert(burst.end(), frame.begin(), frame.end());
    }
  }
  run_async([&]() -> asio::awaitable<void> {
    auto socket = co_await raw_connect(fx.endpoint());
    co_await raw_write(socket, burst);  // the echoes are as long as the requests
    std::vector<std::uint8_t> echoed(burst.size());
    auto [ec, n] = co_await asio::async_read(socket, asio::buffer(echoed), detail::use_nothrow);
    REQUIRE_FALSE(ec);
    REQUIRE(n == burst.size());
    socket.close();
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
  const Metrics& m = *metrics;
  const std::string latency = "wireframe_request_duration_seconds";
  for (const std::uint32_t id : routes) {
    CHECK(value_of(m, latency, {{"route", std::to_string(id)}, {"outcome", "ok"}}) == per_route);
  }
  CHECK(value_of(m, "wireframe_frames_total", {{"direction", "in"}}) == 3 * per_route);
  CHECK(value_of(m, "wireframe_frames_total", {{"direction", "out"}}) == 3 * per_route);
  CHECK(value_of(m, "wireframe_bytes_total", {{"direction", "in"}}) == static_cast<double>(burst.size()));
  CHECK(value_of(m, "wireframe_bytes_total", {{"direction", "out"}}) == static_cast<double>(burst.size()));
}

TEST_CASE("refused pushes, dead letters, timeouts and refused connections are counted", "[integration][metrics]") {
  auto metrics = std::make_shared<Metrics>();
  std::atomic<int> refusals{0};
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope&, ConnectionContext& ctx) -> Resp {
                   auto handle = ctx.push_handle<Envelope>();
                   for (int i = 0; i < 6; ++i) {  // a low queue of 4: the last 2 are refused
                     if (!handle.try_push(Envelope(9, 0, "p"), PushPriority::low).ok()) ++refusals;
                   }
                   (void)handle.push_with_policy(Envelope(9, 0, "dlq"), PushPriority::low, PushPolicy::drop_to_dlq);
                   return Resp{};
                 })
                 .push_queue_capacity(16, 4)
                 .read_idle_timeout(150ms)
                 .metrics(metrics)
                 .build();
  ServerFixture fx(app);
  fx.server().max_connections(1);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    CO_REQUIRE_OK(client.send(Envelope(1, 1, "")));
    for (int i = 0; i < 4; ++i) {
      auto [ec, r] = co_await client.receive();
      REQUIRE_FALSE(ec);
    }
    WireframeClient<> second(co_await asio::this_coro::executor);  // over max_connections
    CO_REQUIRE_OK(second.connect(fx.endpoint()));
    auto [refused_ec, none] = co_await second.receive();
    CHECK(refused_ec);
    // Then nothing: the read idle timeout closes the first connection.
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }, 5s));
  });
  const Metrics& m = *metrics;
  CHECK(refusals == 2);
  CHECK(value_of(m, "wireframe_pushes_total", {{"priority", "low"}, {"outcome", "queued"}}) == 4);
  CHECK(value_of(m, "wireframe_pushes_total", {{"priority", "low"}, {"outcome", "refused"}}) == 3);
  CHECK(value_of(m, "wireframe_pushes_dead_lettered_total") == 1);
  CHECK(value_of(m, "wireframe_connections_total", {{"outcome", "refused"}}) == 1);
  CHECK(value_of(m, "wireframe_connections_total", {{"outcome", "accepted"}}) == 1);
  CHECK(value_of(m, "wireframe_timeouts_total", {{"kind", "read_idle_timed_out"}}) == 1);
  CHECK(value_of(m, "wireframe_connections_closed_total", {{"reason", "read_idle_timed_out"}}) == 1);
}

TEST_CASE("a push is counted once, sent or dead-lettered, when its write is abandoned",
          "[integration][metrics]") {
  // A peer that never reads: the writer stalls in the middle of a batch and write_timeout ends
  // the connection. The batch's pushes that were not written whole, and those still queued, go
  // to the dead letter queue; every accepted push is counted once, as sent or dead-lettered.
  auto metrics = std::make_shared<Metrics>();
  constexpr int pushes = 512;
  constexpr std::size_t payload = 16 * 1024;  // 8 MiB in all: more than both kernels buffer
  std::atomic<int> accepted{0};
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope&, ConnectionContext& ctx) -> Resp {
                   auto handle = ctx.push_handle<Envelope>();
                   for (int i = 0; i < pushes; ++i) {
                     Envelope e(9, 0, std::vector<std::byte>(payload, std::byte{'p'}));
                     if (handle.try_push(std::move(e), PushPriority::low).ok()) ++accepted;
                   }
                   return Resp{};
                 })
                 .push_queue_capacity(16, pushes)
                 .outbound_watermarks(10 * 1024 * 1024, 12 * 1024 * 1024)
                 .max_outbound_bytes(16 * 1024 * 1024)
                 .write_timeout(300ms)
                 .metrics(metrics)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    asio::ip::tcp::socket peer(co_await asio::this_coro::executor);
    peer.open(asio::ip::tcp::v4());
    peer.set_option(asio::socket_base::receive_buffer_size(64 * 1024));  // before the handshake
    auto [connect_ec] = co_await peer.async_connect(fx.endpoint(), detail::use_nothrow);
    REQUIRE_FALSE(connect_ec);
    const auto request = frame_bytes(1, 1, 0);
    auto [write_ec, n] = co_await asio::async_write(peer, asio::buffer(request), detail::use_nothrow);
    REQUIRE_FALSE(write_ec);
    CO_REQUIRE(eventually_async([&] { return accepted.load() == pushes; }));
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }, 10s));
  });
  const Metrics& m = *metrics;
  const MetricLabels low_sent{{"priority", "low"}, {"outcome", "sent"}};
  const double sent = value_of(m, "wireframe_pushes_total", low_sent);
  const double dead = value_of(m, "wireframe_pushes_dead_lettered_total");
  CHECK(value_of(m, "wireframe_pushes_total", {{"priority", "low"}, {"outcome", "queued"}}) == pushes);
  CHECK(value_of(m, "wireframe_connections_closed_total", {{"reason", "write_timed_out"}}) == 1);
  CHECK(sent > 0);
  CHECK(dead > 0);
  CHECK(sent + dead == pushes);
}

TEST_CASE("back-pressure is counted each way, with its time", "[integration][metrics]") {
  auto metrics = std::make_shared<Metrics>();
  auto app = WireframeApp<>()
                 // A slow handler behind a one-request ring: the reader pauses (in).
                 .route(1, [](Envelope& r, ConnectionContext&) -> asio::awaitable<Resp> {
                   co_await sleep_for(20ms);
                   co_return std::move(r);
                 })
                 // 32 frames of 4 KiB above a 16 KiB high watermark: the answer waits (out).
                 .route(2, [](Envelope& r) -> Resp {
                   return std::vector<Envelope>(32, Envelope(r.id(), r.correlation_id(), std::string(4096, 'x')));
                 })
                 .max_pipelined_requests(1)
                 .outbound_watermarks(8 * 1024, 16 * 1024)
                 .metrics(metrics)
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
    client.close();
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
  const Metrics& m = *metrics;
  CHECK(value_of(m, "wireframe_backpressure_total", {{"direction", "in"}}) >= 1);
  CHECK(value_of(m, "wireframe_backpressure_seconds_total", {{"direction", "in"}}) >= 0.02);  // a handler's sleep at least
  CHECK(value_of(m, "wireframe_backpressure_total", {{"direction", "out"}}) >= 1);
  CHECK(value_of(m, "wireframe_backpressure_seconds_total", {{"direction", "out"}}) > 0);
  CHECK(value_of(m, "wireframe_frames_total", {{"direction", "out"}}) == 4 + 32);
  CHECK(value_of(m, "wireframe_queued_bytes", {{"direction", "out"}}) == 0);
}

TEST_CASE("reassembled messages and reassembly errors are counted", "[integration][metrics][fragment]") {
  auto metrics = std::make_shared<Metrics>();
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& r) -> Resp { return std::move(r); })
                 .metrics(metrics)
                 .with_fragmentation(LenFlag32K(1024))
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    client.with_fragmentation(LenFlag32K(1024));
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, reply] = co_await client.call(Envelope(1, 1, std::string(5000, 'f')));  // 5 fragments
    REQUIRE_FALSE(ec);
    CHECK(reply.payload().size() == 5000);
    // A frame that is no LenFlag32K fragment (it announces 32 512 bytes and carries 1): the
    // connection closes with bad_header.
    const Wire bad = framed(Wire{0xff, 0, 0});
    CO_REQUIRE_OK(client.send_bytes(std::as_bytes(std::span(bad))));
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
  const Metrics& m = *metrics;
  CHECK(value_of(m, "wireframe_reassembled_messages_total") == 1);
  CHECK(value_of(m, "wireframe_reassembled_bytes_total") == 12 + 5000);  // the envelope, header and payload
  // The bad fragment too: the codec cut it, the reassembler refused it.
  CHECK(value_of(m, "wireframe_frames_total", {{"direction", "in"}}) == 5 + 1);
  CHECK(value_of(m, "wireframe_frames_total", {{"direction", "out"}}) == 5);
  CHECK(value_of(m, "wireframe_reassembly_errors_total", {{"reason", "bad_header"}}) == 1);
  CHECK(value_of(m, "wireframe_connections_closed_total", {{"reason", "bad_header"}}) == 1);
}

}  // namespace test_metrics_cpp
