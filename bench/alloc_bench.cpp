// Heap allocations per frame on the server, in steady state. Target: zero.
//
// A real WireframeServer (one worker thread) and a WireframeClient over loopback. Every
// operator new on the server's worker thread is counted (the thread marks itself in the
// connection setup hook); the client's allocations are not. After a warm-up (buffers, pools
// and Asio's recycled operation memory reach their working size), each benchmark iteration
// is one round:
//
//   BM_allocs_echo/N   32 pipelined echo requests with an N-byte payload, answered by a
//                      handler that returns the request (as examples/echo_server does).
//   BM_allocs_push/N   32 frames pushed with PushHandle::try_push from the benchmark thread
//                      (the producer side is not the server thread, so only what the connection
//                      does with a pushed frame is counted), then read by the client.
//
// Counter `server_allocs_per_frame`: allocations on the server thread per frame, averaged over
// every iteration. A figure above zero names work to do (docs/performance.md says where).

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include <wireframe/wireframe.hpp>

#include "common/server_thread.hpp"

namespace {

std::atomic<long> server_allocs{0};
thread_local bool counting = false;

}  // namespace

// Replaces the global allocation functions for this program only.
void* operator new(std::size_t n) {
  if (counting) server_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace wireframe;

namespace {

constexpr int frames_per_round = 32;
constexpr int warmup_rounds = 200;

asio::awaitable<Response<Envelope>> echo(Envelope& request) {
  co_return std::move(request);  // as examples/echo_server
}

// One worker whose thread counts its allocations (marked in the connection setup hook), with a
// registry so that the push benchmark can find the connection.
struct Server {
  std::shared_ptr<SessionRegistry<Envelope>> registry = std::make_shared<SessionRegistry<Envelope>>();
  bench::ServerThread thread{WireframeApp<>()
                                 .route(1, echo)
                                 .with_session_registry(registry)
                                 .push_queue_capacity(64, 256)
                                 .on_connection_setup([](ConnectionContext&) { counting = true; })
                                 .build()};
  [[nodiscard]] const asio::ip::tcp::endpoint& endpoint() const { return thread.endpoint(); }
};

// Runs `body` (a coroutine) on `io` to completion; aborts on failure.
template <class F>
void run(asio::io_context& io, F body) {
  bool ok = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { ok = co_await body(); }, asio::detached);
  io.run();
  io.restart();
  if (!ok) std::abort();
}

void report(benchmark::State& state, long before) {
  const double frames = static_cast<double>(state.iterations()) * frames_per_round;
  state.counters["server_allocs_per_frame"] =
      static_cast<double>(server_allocs.load() - before) / frames;
  state.SetItemsProcessed(state.iterations() * frames_per_round);
}

void BM_allocs_echo(benchmark::State& state) {
  Server server;
  asio::io_context io;
  WireframeClient<> client(io.get_executor());
  run(io, [&]() -> asio::awaitable<bool> { co_return !co_await client.connect(server.endpoint()); });
  std::vector<Envelope> batch;
  for (int i = 1; i <= frames_per_round; ++i) {
    batch.emplace_back(1, static_cast<std::uint64_t>(i), std::vector<std::byte>(static_cast<std::size_t>(state.range(0))));
  }
  auto round = [&]() -> asio::awaitable<bool> {
    const std::error_code sent = co_await client.send_all(batch);
    if (sent) co_return false;
    for (int i = 0; i < frames_per_round; ++i) {
      auto [ec, reply] = co_await client.receive();
      if (ec) co_return false;
    }
    co_return true;
  };
  for (int i = 0; i < warmup_rounds; ++i) run(io, round);
  const long before = server_allocs.load();
  for (auto _ : state) run(io, round);
  report(state, before);
}

void BM_allocs_push(benchmark::State& state) {
  Server server;
  asio::io_context io;
  WireframeClient<> client(io.get_executor());
  run(io, [&]() -> asio::awaitable<bool> {
    const std::error_code ec = co_await client.connect(server.endpoint());
    co_return !ec;
  });
  auto handle = bench::first_session(*server.registry);
  const auto payload = std::vector<std::byte>(static_cast<std::size_t>(state.range(0)));
  auto round = [&]() -> asio::awaitable<bool> {
    for (int i = 0; i < frames_per_round; ++i) {
      if (!handle.try_push(Envelope(2, 0, payload), PushPriority::low).ok()) co_return false;
    }
    for (int i = 0; i < frames_per_round; ++i) {
      auto [ec, frame] = co_await client.receive();
      if (ec) co_return false;
    }
    co_return true;
  };
  for (int i = 0; i < warmup_rounds; ++i) run(io, round);
  const long before = server_allocs.load();
  for (auto _ : state) run(io, round);
  report(state, before);
}

}  // namespace

BENCHMARK(BM_allocs_echo)->Arg(64)->Arg(1024)->UseRealTime();
BENCHMARK(BM_allocs_push)->Arg(64)->Arg(1024)->UseRealTime();

BENCHMARK_MAIN();
