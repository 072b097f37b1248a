// Heap allocations per frame on the server, in steady state. Target: zero.
//
// A real WireframeServer (one worker thread) and a WireframeClient over loopback. Every
// operator new on the server's worker thread is counted (the thread marks itself in the
// connection setup hook); the client's allocations are not. After a warm-up (buffers, pools
// and Asio's recycled operation memory reach their working size), each benchmark iteration
// is one round:
//
//   BM_allocs_echo/N   32 pipelined echo requests with an N-byte payload, answered by a
//                      coroutine handler that returns the request.
//   BM_allocs_echo_plain/N   the same with a plain-function handler (as examples/echo_server),
//                      served inline.
//   BM_allocs_echo_50/K      50 connections, each with 16 echo requests of 64 B in flight per
//                      round: K = 0 a coroutine handler, K = 1 a plain one. With many
//                      connections interleaving, the coroutine frames of one request must not
//                      outgrow Asio's per-thread recycling cache.
//   BM_allocs_push/N   32 frames pushed with PushHandle::try_push from the benchmark thread
//                      (the producer side is not the server thread, so only what the connection
//                      does with a pushed frame is counted), then read by the client.
//
// Counter `server_allocs_per_frame`: allocations on the server thread per frame, averaged over
// every iteration. A figure above zero names work to do (docs/performance.md says where).
//
//   BM_blocks_per_idle_connection   100 connections opened (each echoes once, so each has been
//                      served) and held silent. Counter `server_blocks_per_connection`: heap
//                      blocks the server thread holds for them (allocations minus frees), per
//                      connection. wireframe's own part is one block (actor and push queues);
//                      Asio's per-socket reactor record comes from a pool Asio keeps.

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include <wireframe/wireframe.hpp>

#include "common/server_thread.hpp"

namespace {

std::atomic<long> server_allocs{0};
std::atomic<long> server_frees{0};
thread_local bool counting = false;

}  // namespace

// Replaces the global allocation functions for this program only.
void* operator new(std::size_t n) {
  if (counting) server_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  if (counting && p != nullptr) server_frees.fetch_add(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

using namespace wireframe;

namespace {

constexpr int frames_per_round = 32;
constexpr int warmup_rounds = 200;

asio::awaitable<Response<Envelope>> echo(Envelope& request) { co_return std::move(request); }
Response<Envelope> plain_echo(Envelope& request) { return std::move(request); }

constexpr std::uint32_t coroutine_id = 1;
constexpr std::uint32_t plain_id = 3;

// One worker whose thread counts its allocations (marked in the connection setup hook), with a
// registry so that the push benchmark can find the connection.
struct Server {
  std::shared_ptr<SessionRegistry<Envelope>> registry = std::make_shared<SessionRegistry<Envelope>>();
  bench::ServerThread thread{WireframeApp<>()
                                 .route(coroutine_id, echo)
                                 .route(plain_id, plain_echo)
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

void report(benchmark::State& state, long before, int frames_per_iteration = frames_per_round) {
  const double frames = static_cast<double>(state.iterations()) * frames_per_iteration;
  state.counters["server_allocs_per_frame"] =
      static_cast<double>(server_allocs.load() - before) / frames;
  state.SetItemsProcessed(state.iterations() * frames_per_iteration);
}

std::vector<Envelope> echo_batch(std::uint32_t id, int n, std::size_t size) {
  std::vector<Envelope> batch;
  for (int i = 1; i <= n; ++i) batch.emplace_back(id, static_cast<std::uint64_t>(i), std::vector<std::byte>(size));
  return batch;
}

// Sends `batch` and reads as many replies.
asio::awaitable<bool> echo_round(WireframeClient<>& client, const std::vector<Envelope>& batch) {
  const std::error_code sent = co_await client.send_all(batch);
  if (sent) co_return false;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto [ec, reply] = co_await client.receive();
    if (ec) co_return false;
  }
  co_return true;
}

void echo_one_connection(benchmark::State& state, std::uint32_t id) {
  Server server;
  asio::io_context io;
  WireframeClient<> client(io.get_executor());
  run(io, [&]() -> asio::awaitable<bool> { co_return !co_await client.connect(server.endpoint()); });
  const auto batch = echo_batch(id, frames_per_round, static_cast<std::size_t>(state.range(0)));
  auto round = [&]() { return echo_round(client, batch); };
  for (int i = 0; i < warmup_rounds; ++i) run(io, round);
  const long before = server_allocs.load();
  for (auto _ : state) run(io, round);
  report(state, before);
}

void BM_allocs_echo(benchmark::State& state) { echo_one_connection(state, coroutine_id); }
void BM_allocs_echo_plain(benchmark::State& state) { echo_one_connection(state, plain_id); }

void BM_allocs_echo_50(benchmark::State& state) {
  constexpr int connections = 50;
  constexpr int depth = 16;
  Server server;
  asio::io_context io;
  std::vector<std::unique_ptr<WireframeClient<>>> clients;
  for (int i = 0; i < connections; ++i) {
    clients.push_back(std::make_unique<WireframeClient<>>(io.get_executor()));
    run(io, [&]() -> asio::awaitable<bool> { co_return !co_await clients.back()->connect(server.endpoint()); });
  }
  const auto batch = echo_batch(state.range(0) == 0 ? coroutine_id : plain_id, depth, 64);
  // All clients at once, so that the server sees the connections' requests interleaved.
  auto round = [&] {
    int failed = 0;
    for (auto& c : clients) {
      asio::co_spawn(io, echo_round(*c, batch), [&failed](std::exception_ptr e, bool ok) {
        if (e || !ok) ++failed;
      });
    }
    io.run();
    io.restart();
    if (failed != 0) std::abort();
  };
  for (int i = 0; i < warmup_rounds; ++i) round();
  const long before = server_allocs.load();
  for (auto _ : state) round();
  report(state, before, connections * depth);
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

void BM_blocks_per_idle_connection(benchmark::State& state) {
  constexpr int connections = 100;
  bench::ServerThread server{WireframeApp<>()
                                 .route(plain_id, plain_echo)
                                 .on_connection_setup([](ConnectionContext&) { counting = true; })
                                 .build()};
  const auto batch = echo_batch(plain_id, 1, 64);
  asio::io_context io;
  auto open = [&](int n) {
    std::vector<std::unique_ptr<WireframeClient<>>> clients;
    for (int i = 0; i < n; ++i) {
      clients.push_back(std::make_unique<WireframeClient<>>(io.get_executor()));
      run(io, [&]() -> asio::awaitable<bool> {
        co_return !co_await clients.back()->connect(server.endpoint()) && co_await echo_round(*clients.back(), batch);
      });
    }
    // The reply is out before the server's reader has gone back to waiting: let it get there.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return clients;
  };
  auto held = [] { return server_allocs.load() - server_frees.load(); };
  double per_connection = 0;
  for (auto _ : state) {
    (void)open(connections);  // opened and closed: the worker's pools reach their size
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const long before = held();
    const auto clients = open(connections);
    per_connection = static_cast<double>(held() - before) / connections;
  }
  state.counters["server_blocks_per_connection"] = per_connection;
}

}  // namespace

BENCHMARK(BM_blocks_per_idle_connection)->Iterations(3)->UseRealTime();
BENCHMARK(BM_allocs_echo)->Arg(64)->Arg(1024)->UseRealTime();
BENCHMARK(BM_allocs_echo_plain)->Arg(64)->Arg(1024)->UseRealTime();
BENCHMARK(BM_allocs_echo_50)->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(BM_allocs_push)->Arg(64)->Arg(1024)->UseRealTime();

BENCHMARK_MAIN();
