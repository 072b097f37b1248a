// stream_demo: multi-frame responses, server and client in one program (docs/streaming.md).
//
//   id 2  ticks     Response::Stream: a coroutine that co_yields N frames, 100 ms apart
//   id 3  batch     Response::Vec: three frames known up front
//   id 4  readings  a Stream that ends with a typed protocol error after two frames
//
// The client calls each route, prints every frame it receives with its correlation id, then
// stops the server while a stream is still running: graceful shutdown lets the stream finish.
// Exits 0 when everything arrived as expected.
#include <wireframe/wireframe.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace wireframe;
using namespace std::chrono_literals;

// The protocol's own error type: carried by WireframeError<SensorOffline>::protocol(...).
struct SensorOffline {
  int sensor = 0;
  friend bool operator==(const SensorOffline&, const SensorOffline&) = default;
};

// Lets the default error frame describe it ("protocol: sensor 7 went offline").
template <>
struct fmt::formatter<SensorOffline> : fmt::formatter<fmt::string_view> {
  auto format(const SensorOffline& e, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "sensor {} went offline", e.sensor);
  }
};

using App = WireframeApp<LengthDelimitedCodec, Envelope, SensorOffline>;
using Reply = Response<Envelope, SensorOffline>;
using Frames = Stream<Envelope, SensorOffline>;

constexpr std::uint32_t ticks_id = 2, batch_id = 3, readings_id = 4;

// A stream written imperatively: await anything, co_yield each frame when it is ready. The
// connection stamps the request's correlation id on every frame, so 0 is fine here.
Frames ticks(int count) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 1; i <= count; ++i) {
    timer.expires_after(100ms);
    co_await timer.async_wait(asio::use_awaitable);
    co_yield Envelope(ticks_id, 0, fmt::format("tick {}/{}", i, count));
  }
}

// The request is a reference: it stays valid until the stream has ended.
Frames readings(const Envelope& request) {
  int sensor = 0;
  if (auto ec = request.decode_as(sensor)) {
    co_yield WireframeError<SensorOffline>::io(ec);  // ends the stream with that error
    co_return;
  }
  co_yield Envelope(readings_id, 0, fmt::format("sensor {}: 21.5 C", sensor));
  co_yield Envelope(readings_id, 0, fmt::format("sensor {}: 21.7 C", sensor));
  co_yield WireframeError<SensorOffline>::protocol(SensorOffline{sensor});
}

auto make_app() {
  return App()
      .route(ticks_id,
             [](Envelope& request) -> asio::awaitable<Reply> {
               int count = 0;
               if (auto ec = request.decode_as(count)) {
                 co_return Reply::error(WireframeError<SensorOffline>::io(ec));
               }
               co_return ticks(count);
             })
      .route(batch_id,
             [](Envelope&) -> asio::awaitable<Reply> {
               co_return std::vector<Envelope>{Envelope(batch_id, 0, "alpha"),
                                               Envelope(batch_id, 0, "beta"),
                                               Envelope(batch_id, 0, "gamma")};
             })
      .route(readings_id,
             [](Envelope& request) -> asio::awaitable<Reply> { co_return readings(request); })
      .handler_error_policy(HandlerErrorPolicy::error_frame)  // failed stream -> error frame
      .build();
}

int main() {
  set_log_level(LogLevel::error);  // keep the demo's output to what the client sees

  WireframeServer server(make_app());
  server.workers(1).shutdown_timeout(2s).bind("127.0.0.1", 0);
  std::thread server_thread([&] { server.run(); });

  asio::io_context io;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> received;  // "correlation id payload" of every frame, for the check
  bool finished = false;

  auto show = [&](const Envelope& f) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    const std::string id =
        f.id() == error_message_id ? "0xFFFFFFFF (error frame)" : std::to_string(f.id());
    std::cout << fmt::format("  [{:>4} ms] correlation={} id={} payload=\"{}\"\n", ms.count(),
                             f.correlation_id(), id, f.payload_text());
    received.push_back(fmt::format("{} {} {}", f.correlation_id(), f.id(), f.payload_text()));
  };
  // Receives `n` frames carrying `correlation` (a multi-frame response) and shows each.
  auto receive_n = [&](WireframeClient<>& client, std::uint64_t correlation,
                       int n) -> asio::awaitable<void> {
    for (int i = 0; i < n; ++i) {
      auto [ec, frame] = co_await client.receive_for(correlation);
      if (ec) co_return;  // the final check reports what is missing
      show(frame);
    }
  };

  auto session = [&]() -> asio::awaitable<void> {
    WireframeClient<> client(io.get_executor());
    const auto connect_error = co_await client.connect(server.local_endpoint());
    if (connect_error) co_return;  // the final check reports the missing frames

    // call() gives the request the next correlation id and returns the first frame carrying it.
    std::cout << "ticks: Response::Stream, 3 frames 100 ms apart\n";
    auto [ec1, tick] = co_await client.call(Envelope::of(ticks_id, 3));
    if (!ec1) show(tick);
    co_await receive_n(client, tick.correlation_id(), 2);

    std::cout << "batch: Response::Vec\n";
    auto [ec2, batch] = co_await client.call(Envelope(batch_id, 0));
    if (!ec2) show(batch);
    co_await receive_n(client, batch.correlation_id(), 2);

    std::cout << "readings: a Stream that ends with a protocol error (policy: error frame)\n";
    auto [ec3, reading] = co_await client.call(Envelope::of(readings_id, 7));
    if (!ec3) show(reading);
    co_await receive_n(client, reading.correlation_id(), 2);

    std::cout << "pipelined: ticks(2) and batch in one write; the batch waits for the stream\n";
    const std::uint64_t c1 = client.next_correlation_id(), c2 = client.next_correlation_id();
    const std::vector<Envelope> both{Envelope::of(ticks_id, 2, c1), Envelope(batch_id, c2)};
    const auto send_error = co_await client.send_all(both);  // one write, two requests
    if (send_error) co_return;
    for (int i = 0; i < 5; ++i) {
      auto [ec, frame] = co_await client.receive();  // in arrival order
      if (!ec) show(frame);
    }

    std::cout << "shutdown: server.stop() after the first of 4 ticks; the stream still ends\n";
    auto [ec4, last] = co_await client.call(Envelope::of(ticks_id, 4));
    if (!ec4) show(last);
    server.stop();  // thread-safe; graceful: the command in flight may finish (2 s allowed)
    co_await receive_n(client, last.correlation_id(), 3);
    auto [eof, nothing] = co_await client.receive();
    std::cout << "  then: " << eof.message() << '\n';
    finished = eof == errc::connection_closed;
  };
  asio::co_spawn(io, std::move(session), asio::detached);
  io.run_for(10s);  // a deadline, so the demo can never hang

  server.stop();
  server_thread.join();

  // clang-format off
  const std::vector<std::string> expected{
      "1 2 tick 1/3", "1 2 tick 2/3", "1 2 tick 3/3",
      "2 3 alpha", "2 3 beta", "2 3 gamma",
      "3 4 sensor 7: 21.5 C", "3 4 sensor 7: 21.7 C", "3 4294967295 protocol: sensor 7 went offline",
      "4 2 tick 1/2", "4 2 tick 2/2", "5 3 alpha", "5 3 beta", "5 3 gamma",
      "6 2 tick 1/4", "6 2 tick 2/4", "6 2 tick 3/4", "6 2 tick 4/4"};
  // clang-format on
  if (received != expected) {
    std::size_t i = 0;
    while (i < received.size() && i < expected.size() && received[i] == expected[i]) ++i;
    std::cerr << "stream_demo: FAILED at frame " << i + 1 << ": expected '"
              << (i < expected.size() ? expected[i] : "nothing") << "', got '"
              << (i < received.size() ? received[i] : "nothing") << "'\n";
    return 1;
  }
  if (!finished) {
    std::cerr << "stream_demo: FAILED: the server did not close the connection after the stream\n";
    return 1;
  }
  std::cout << "done: all " << expected.size() << " frames as expected\n";
  return 0;
}
