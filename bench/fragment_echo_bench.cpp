// End to end over loopback: what fragmentation costs traffic that needs none, and what large
// messages achieve. A real WireframeServer (one worker thread) echoes; the client
// (WireframeClient, on the benchmark thread) sends a pipelined batch and reads every reply.
//
//   BM_echo_small<Mode>/N     batches of 32 requests with an N-byte payload, echoed.
//                             Mode = Plain (no fragmentation), LenFlag32K or Multiplexed (every
//                             frame a single fragment). Compare items/s: the acceptance target
//                             is under 5% overhead for the fragmenting modes. cpu_ns_per_msg is
//                             the whole process's CPU time (both ends) per echoed message.
//   BM_echo_large<Mode>/N     one N-byte message up and back down over a 32 KiB frame limit:
//                             split by the client, reassembled by the server, split by the
//                             server, reassembled by the client. bytes/s counts both directions.
//
// Two cores run both ends, so absolute figures are machine-bound; the ratios are the point.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include <wireframe/wireframe.hpp>

#include "common/server_thread.hpp"

using namespace wireframe;

namespace {

constexpr std::size_t frame_limit = 32 * 1024;

struct Plain {};

LengthDelimitedCodec codec_for_large() {
  LengthDelimitedCodec::Options o;
  o.max_frame_length = frame_limit;
  return LengthDelimitedCodec(o);
}

ReassemblyLimits large_limits() {
  ReassemblyLimits l;
  l.max_message_size = 64 * 1024 * 1024;
  l.max_buffered_bytes = 64 * 1024 * 1024;
  return l;
}

template <class Mode>
Mode strategy() {
  if constexpr (std::is_same_v<Mode, LenFlag32K>) {
    return LenFlag32K(frame_limit - LenFlag32K::header_length);
  } else if constexpr (std::is_same_v<Mode, Multiplexed>) {
    return Multiplexed(frame_limit - Multiplexed::max_header_size());
  } else {
    return Mode{};
  }
}

asio::awaitable<Response<Envelope>> echo(Envelope& req) {
  co_return Response<Envelope>(Envelope(req.id(), req.correlation_id(), req.payload()));
}

// The echo server of a mode, on its own thread for the benchmark's lifetime.
template <class Mode>
std::unique_ptr<bench::ServerThread> start_server() {
  auto app = WireframeApp<>().with_codec(codec_for_large()).max_queued_frames(256).route(1, echo);
  if constexpr (std::is_same_v<Mode, Plain>) {
    return std::make_unique<bench::ServerThread>(app.build());
  } else {
    return std::make_unique<bench::ServerThread>(app.with_fragmentation(strategy<Mode>(), large_limits()).build());
  }
}

template <class Mode>
std::unique_ptr<WireframeClient<>> connect(asio::io_context& io, const asio::ip::tcp::endpoint& ep) {
  auto client = std::make_unique<WireframeClient<>>(io.get_executor(), codec_for_large());
  if constexpr (!std::is_same_v<Mode, Plain>) client->with_fragmentation(strategy<Mode>(), large_limits());
  bool ok = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const std::error_code ec = co_await client->connect(ep);
    ok = !ec;
  }, asio::detached);
  io.run();
  io.restart();
  if (!ok) std::abort();
  return client;
}

// Runs one round (send, then read `replies` frames) to completion; aborts on any error.
void round_trip(asio::io_context& io, WireframeClient<>& client, const std::vector<Envelope>& batch) {
  bool ok = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const std::error_code sent = co_await client.send_all(batch);
    if (sent) co_return;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto [ec, reply] = co_await client.receive();
      if (ec || reply.payload().size() != batch[i].payload().size()) co_return;
    }
    ok = true;
  }, asio::detached);
  io.run();
  io.restart();
  if (!ok) std::abort();
}

// CPU time of the whole process (client and server threads), in nanoseconds: steadier than
// wall time on a shared machine, and what fragmentation actually adds.
double process_cpu_ns() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ns = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_usec) * 1e3; };
  return ns(u.ru_utime) + ns(u.ru_stime);
}

template <class Mode>
void BM_echo_small(benchmark::State& state) {
  const auto payload = static_cast<std::size_t>(state.range(0));
  auto server = start_server<Mode>();
  asio::io_context io;
  auto client = connect<Mode>(io, server->endpoint());
  std::vector<Envelope> batch;
  for (std::uint64_t i = 1; i <= 32; ++i) batch.emplace_back(1, i, std::vector<std::byte>(payload));
  const double cpu_before = process_cpu_ns();
  for (auto _ : state) round_trip(io, *client, batch);
  const auto messages = state.iterations() * static_cast<std::int64_t>(batch.size());
  state.SetItemsProcessed(messages);
  state.counters["cpu_ns_per_msg"] = (process_cpu_ns() - cpu_before) / static_cast<double>(messages);
}

template <class Mode>
void BM_echo_large(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto server = start_server<Mode>();
  asio::io_context io;
  auto client = connect<Mode>(io, server->endpoint());
  const std::vector<Envelope> one{Envelope(1, 1, std::vector<std::byte>(size, std::byte{0x5a}))};
  for (auto _ : state) round_trip(io, *client, one);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(2 * size));
}

}  // namespace

// ROUNDS=N in the environment: every benchmark runs exactly N iterations. For counting
// instructions with callgrind, where wall clock on a shared VM is too noisy to show a few per
// cent: two runs with different N, differenced, give instructions per message without the
// start-up (docs/fragmentation.md, "Performance").
int main(int argc, char** argv) {
  const char* rounds = std::getenv("ROUNDS");
  auto add = [rounds](const char* name, auto fn, std::initializer_list<std::int64_t> args) {
    auto* b = benchmark::RegisterBenchmark(name, fn)->UseRealTime();
    for (const std::int64_t a : args) b->Arg(a);
    if (rounds != nullptr) b->Iterations(std::atoll(rounds));
  };
  add("BM_echo_small<Plain>", BM_echo_small<Plain>, {64, 1024});
  add("BM_echo_small<LenFlag32K>", BM_echo_small<LenFlag32K>, {64, 1024});
  add("BM_echo_small<Multiplexed>", BM_echo_small<Multiplexed>, {64, 1024});
  add("BM_echo_large<LenFlag32K>", BM_echo_large<LenFlag32K>, {1 << 20, 16 << 20});
  add("BM_echo_large<Multiplexed>", BM_echo_large<Multiplexed>, {1 << 20, 16 << 20});
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
