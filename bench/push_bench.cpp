// The push path and the router, from micro to end to end.
//
//   BM_router_find/R            BuiltApp::find() among R routes (a sorted vector, binary search).
//   BM_try_push_pop             PushQueues::try_push then try_pop of one frame on one thread:
//                               the uncontended cost of the queue (one mutex, a ring, a doorbell).
//   BM_try_push_pop/threads:N   the same from N threads on one connection's queues at once: the
//                               contended cost (all producers share the connection's mutex).
//   BM_push_to_client           frames/s from PushHandle::try_push (benchmark thread) through a
//                               real server to a WireframeClient reading on another thread.
//   BM_high_push_latency_under_flood
//                               a flooder thread keeps the low-priority queue full of 1 KiB
//                               frames while the benchmark thread pushes one high-priority frame
//                               at a time and waits for it at the client: counters p50_us and
//                               p99_us are the high frame's push-to-receive latency.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <wireframe/wireframe.hpp>

#include "common/server_thread.hpp"

using namespace wireframe;
using Clock = std::chrono::steady_clock;

namespace {

asio::awaitable<Response<Envelope>> nothing(Envelope&) { co_return Response<Envelope>{}; }

void BM_router_find(benchmark::State& state) {
  WireframeApp<> app;
  const auto routes = static_cast<std::uint32_t>(state.range(0));
  for (std::uint32_t id = 1; id <= routes; ++id) app.route(id * 7, nothing);
  const auto built = app.build();
  std::uint32_t id = 0;
  for (auto _ : state) {
    id = id % routes + 1;
    benchmark::DoNotOptimize(built->find(id * 7));
  }
  state.SetItemsProcessed(state.iterations());
}

// One connection's queues shared by every benchmark thread (a static: Google Benchmark runs the
// threads of one benchmark on the same function).
struct SharedQueues {
  asio::io_context io;
  detail::ConcurrentDoorbell bell{io.get_executor()};
  detail::PushQueues<Envelope> queues{bell, 1, 1024, 1024};
};
SharedQueues* shared_queues = nullptr;

void BM_try_push_pop(benchmark::State& state) {
  if (state.thread_index() == 0) shared_queues = new SharedQueues;
  // (Google Benchmark starts the timed loop of all threads together, after this setup.)
  Envelope frame(1, 0, std::vector<std::byte>(64));
  for (auto _ : state) {
    if (shared_queues->queues.try_push(frame, PushPriority::low)) std::abort();
    auto popped = shared_queues->queues.try_pop(PushPriority::low);
    if (!popped) std::abort();
    frame = std::move(*popped);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete shared_queues;
    shared_queues = nullptr;
  }
}

// A server (one worker) with a session registry, and a client whose frames are received on a
// thread of its own, counted, and (for high frames) timestamped.
class PushRig {
 public:
  PushRig()
      : registry_(std::make_shared<SessionRegistry<Envelope>>()),
        server_(std::make_unique<bench::ServerThread>(
            WireframeApp<>().route(1, nothing).with_session_registry(registry_).build())) {
    client_thread_ = std::thread([this] { client_loop(); });
    handle_ = bench::first_session(*registry_);
  }
  ~PushRig() {
    server_.reset();  // stops the server: the client's receive ends
    client_io_.stop();
    client_thread_.join();
  }

  PushHandle<Envelope>& handle() { return *handle_; }
  std::atomic<long> received{0};
  std::atomic<long> high_received{0};
  std::atomic<Clock::rep> last_high_at{0};

 private:
  void client_loop() {
    asio::co_spawn(client_io_, [this]() -> asio::awaitable<void> {
      WireframeClient<> client(co_await asio::this_coro::executor);
      const std::error_code ec = co_await client.connect(server_->endpoint());
      if (ec) std::abort();
      for (;;) {
        auto [rec, frame] = co_await client.receive();
        if (rec) co_return;
        if (frame.id() == 9) {
          last_high_at = Clock::now().time_since_epoch().count();
          ++high_received;
        }
        ++received;
      }
    }, asio::detached);
    client_io_.run();
  }

  std::shared_ptr<SessionRegistry<Envelope>> registry_;
  std::unique_ptr<bench::ServerThread> server_;
  asio::io_context client_io_;
  std::optional<PushHandle<Envelope>> handle_;
  std::thread client_thread_;
};

// Waits (spinning, bounded) until `counter` reaches `target`.
void wait_for(const std::atomic<long>& counter, long target) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (counter.load() < target) {
    if (Clock::now() > deadline) std::abort();
    std::this_thread::yield();
  }
}

void BM_push_to_client(benchmark::State& state) {
  PushRig rig;
  const std::vector<std::byte> payload(static_cast<std::size_t>(state.range(0)));
  long sent = 0;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) {
      // A full queue hands the frame back: retry that one (no new copy of the payload).
      PushResult<Envelope> r = rig.handle().try_push(Envelope(2, 0, payload), PushPriority::low);
      while (!r.ok()) {
        std::this_thread::yield();
        r = rig.handle().try_push(std::move(*r.take_frame()), PushPriority::low);
      }
      ++sent;
    }
  }
  wait_for(rig.received, sent);  // every pushed frame arrived
  state.SetItemsProcessed(sent);
}

void BM_high_push_latency_under_flood(benchmark::State& state) {
  PushRig rig;
  std::atomic<bool> flooding{true};
  std::thread flooder([&] {
    const std::vector<std::byte> kib(1024);
    while (flooding) {
      if (!rig.handle().try_push(Envelope(3, 0, kib), PushPriority::low).ok()) std::this_thread::yield();
    }
  });
  std::vector<double> latencies_us;
  long highs = 0;
  for (auto _ : state) {
    const auto sent_at = Clock::now();
    if (!rig.handle().try_push(Envelope(9, 0), PushPriority::high).ok()) std::abort();
    wait_for(rig.high_received, ++highs);
    const auto at = Clock::time_point(Clock::duration(rig.last_high_at.load()));
    latencies_us.push_back(std::chrono::duration<double, std::micro>(at - sent_at).count());
  }
  flooding = false;
  flooder.join();
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) { return latencies_us[static_cast<std::size_t>(p * static_cast<double>(latencies_us.size() - 1))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["low_frames_delivered"] = static_cast<double>(rig.received.load() - highs);
}

}  // namespace

BENCHMARK(BM_router_find)->Arg(4)->Arg(64)->Arg(1024);
BENCHMARK(BM_try_push_pop);
BENCHMARK(BM_try_push_pop)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_push_to_client)->Arg(64)->Arg(1024)->UseRealTime();
BENCHMARK(BM_high_push_latency_under_flood)->UseRealTime()->Iterations(2000);

BENCHMARK_MAIN();
