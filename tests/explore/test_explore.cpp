// Explored interleavings of one connection (explore/explorer.hpp): each scenario runs under
// many schedules, seeded (CI's share: 10 000 each; WIREFRAME_EXPLORE_SCHEDULES for more,
// WIREFRAME_EXPLORE_SEED to replay one), and a small one under every schedule there is.
// Invariants checked after every schedule:
//   - it ends: nothing left to run, the connection ended (its teardown ran, its tracker and
//     its registry entry are empty) and every task finished: no deadlock, no lost wake-up;
//   - for a documented reason;
//   - every pushed frame is delivered, handed back to its caller or dead-lettered, exactly
//     once, and one producer's frames arrive in the order it pushed them;
//   - what the server wrote is whole frames, and what it must answer it answered.
// ASan (the asan preset) checks every schedule for use-after-free and leaks.

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "explore/explorer.hpp"
#include "explore/harness.hpp"

using namespace wireframe;
using namespace wireframe::explore;

namespace test_explore_cpp {  // this file's names, apart from the other files of a unity build

namespace {

constexpr std::size_t ci_schedules = 10'000;
constexpr std::size_t max_steps = 200'000;  // far above any scenario's: reaching it is a livelock

Stream<Envelope> numbered(Envelope request) {
  const int n = request.payload().empty() ? 0 : std::to_integer<int>(request.payload()[0]);
  const auto ex = co_await asio::this_coro::executor;
  for (int i = 0; i < n; ++i) {
    co_await asio::post(ex, asio::use_awaitable);  // a suspension: others may run
    co_yield Envelope(3, request.correlation_id(), std::string(1, static_cast<char>('a' + i)));
  }
}

// One app for a test case's schedules; each schedule runs a fresh connection of it.
struct Fixture {
  Survivors survivors;
  Ending ending;

  // Pushes cut off by a close are logged (warnings), thousands of times here: not what is tested.
  Fixture() { set_log_level(LogLevel::error); }
  ~Fixture() { set_log_level(LogLevel::info); }

  auto app(std::size_t max_outbound = 1 << 20) {
    return WireframeApp<>()
        .route(1, [](Envelope& r) -> Resp { return std::move(r); })
        .route(2, [](Envelope& r) -> asio::awaitable<Resp> {  // a Vec of 12 frames of 64 bytes
          co_return std::vector<Envelope>(12, Envelope(2, r.correlation_id(), std::string(64, 'v')));
        })
        .route(3, [](Envelope& r) -> Resp { return Resp(numbered(std::move(r))); })
        .with_session_registry(survivors.registry)
        .with_dead_letter_queue(survivors.dlq)
        .push_queue_capacity(2, 2)
        .max_high_before_low(2)
        .max_outbound_bytes(max_outbound)
        .outbound_watermarks(max_outbound / 4, max_outbound / 2)
        .on_connection_teardown([this](ConnectionContext&, std::error_code ec) {
          ending.ended = true;
          ending.reason = ec;
        })
        .build();
  }
};
using App = std::decay_t<decltype(*std::declval<Fixture&>().app())>;

// One schedule's connection: an explorer, the actor on one end of a memory pipe, the peer on
// the other. Declared in this order so that everything is destroyed before the explorer.
struct Run {
  Fixture& f;
  Explorer explorer;
  asio::any_io_executor ex = explorer.executor();
  ConnectionTracker tracker;
  std::pair<MemorySocket, MemorySocket> ends;
  MemorySocket& client;
  Peer peer;
  Ledger ledger;
  std::vector<std::string> problems;

  Run(Fixture& fixture, const std::shared_ptr<const App>& app, std::size_t pipe_capacity)
      : f(fixture), ends(MemorySocket::pair(ex, pipe_capacity)), client(ends.second) {
    f.ending = {};
    ConnectionActor<App, MemorySocket>::launch(std::move(ends.first), app, 1, tracker);
  }

  // What the server wrote and the peer has not read (it stopped, or is closing): delivered to
  // the transport all the same (a kernel would have it in the peer's receive buffer).
  void take_unread() {
    std::array<std::byte, 256> buf{};
    asio::error_code ec;
    while (client.is_open()) {
      const std::size_t n = client.read_some(asio::buffer(buf), ec);
      if (n == 0) break;
      peer.received.insert(peer.received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }
  void peer_closes() {
    take_unread();
    asio::error_code ignored;
    client.close(ignored);
  }

  PushHandle<Envelope> handle() {
    auto h = f.survivors.registry->find(1);
    if (!h) problems.push_back("the connection is not in the registry after its start");
    return h.value_or(PushHandle<Envelope>());
  }

  template <class F>
  void spawn(F&& coroutine) {
    asio::co_spawn(ex, std::forward<F>(coroutine), asio::detached);
  }

  // Runs the schedule, then checks what every scenario must hold.
  void run(Schedule& schedule, const std::vector<const bool*>& tasks_done) {
    const std::size_t steps = explorer.run(schedule, max_steps);
    if (steps >= max_steps) problems.push_back("still running after max_steps (a livelock)");
    if (!f.ending.ended || tracker.size() != 0) problems.push_back("the connection did not end (a deadlock)");
    if (!documented(f.ending.reason)) problems.push_back("it ended for an undocumented reason: " + f.ending.reason.message());
    for (const bool* done : tasks_done) {
      if (!*done) problems.push_back("a task never finished (a lost wake-up)");
    }
    if (f.survivors.registry->entry_count() != 0) problems.push_back("its registry entry outlived it");
    f.survivors.drain_dead_letters(ledger);
  }

  Parsed received(bool must_be_whole) {
    take_unread();
    Parsed p = parse_frames(peer.received);
    if (must_be_whole && !p.whole) problems.push_back("the peer received a partial or invalid frame");
    record_deliveries(p.frames, ledger, problems);
    ledger.check(problems);
    if (!problems.empty()) {
      std::string seen;
      for (const Envelope& e : p.frames) seen += fmt::format(" {}:{}", e.id(), e.id() >= high_push_id ? std::string(e.payload_text()) : std::to_string(e.correlation_id()));
      problems.push_back("(the connection ended with \"" + f.ending.reason.message() + "\"; the peer received" + seen + ")");
    }
    return p;
  }
};

enum class EndBy { peer_half_close, peer_close, shutdown, force_close, shutdown_then_force };

const char* name(EndBy e) {
  switch (e) {
    case EndBy::peer_half_close: return "the peer's half-close";
    case EndBy::peer_close: return "the peer's close";
    case EndBy::shutdown: return "a graceful shutdown";
    case EndBy::force_close: return "a hard close";
    case EndBy::shutdown_then_force: return "a shutdown, then a hard close";
  }
  return "?";
}

// A task that ends the connection `delay` steps in (the peer's half-close is sent by send_all).
asio::awaitable<void> end_after(Run& r, EndBy how, std::size_t delay, bool& done) {
  co_await yield_n(delay);
  asio::error_code ignored;
  switch (how) {
    case EndBy::peer_half_close: break;
    case EndBy::peer_close: r.peer_closes(); break;
    case EndBy::shutdown: r.tracker.shutdown_all(); break;
    case EndBy::force_close: r.tracker.force_close_all(); break;
    case EndBy::shutdown_then_force:
      r.tracker.shutdown_all();
      co_await yield_n(delay);
      r.tracker.force_close_all();
      break;
  }
  done = true;
}

// --- the scenarios ------------------------------------------------------------------------------

// Two producers (high and low) push with every call while one request is served and the
// connection ends, one way or another, at a point the seed picks.
std::vector<std::string> pushes_racing_end(Fixture& f, const std::shared_ptr<const App>& app, Schedule& schedule,
                                           std::uint64_t seed, EndBy how, std::size_t pushes) {
  std::mt19937_64 rng(seed);
  Run r(f, app, 16 + rng() % 96);
  bool high_done = false, low_done = false, end_done = false;
  r.spawn(read_all(r.client, r.peer, 1 + rng() % 40));
  std::vector<std::byte> wire;
  append_frame(wire, Envelope(1, 7, "request"));
  r.spawn(send_all(r.client, wire, how == EndBy::peer_half_close));
  r.spawn(produce(r.handle(), PushPriority::high, 1000, pushes, rng(), r.ledger, high_done));
  r.spawn(produce(r.handle(), PushPriority::low, 2000, pushes, rng(), r.ledger, low_done));
  r.spawn(end_after(r, how, rng() % 24, end_done));
  r.run(schedule, {&high_done, &low_done, &r.peer.done, &end_done});
  // A hard close may cut the frame being written; the peer's close may leave it unread.
  const Parsed p = r.received(how == EndBy::peer_half_close || how == EndBy::shutdown);
  if (how == EndBy::peer_half_close) {  // a clean end: the request was answered
    const bool answered = std::any_of(p.frames.begin(), p.frames.end(), [](const Envelope& e) {
      return e.id() == 1 && e.correlation_id() == 7 && e.payload_text() == "request";
    });
    if (!answered) r.problems.push_back("a clean end left the request unanswered");
  }
  return r.problems;
}

// A Stream answer (suspending between frames) while two producers flood pushes.
std::vector<std::string> stream_racing_flood(Fixture& f, const std::shared_ptr<const App>& app, Schedule& schedule,
                                             std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Run r(f, app, 16 + rng() % 96);
  bool high_done = false, low_done = false;
  r.spawn(read_all(r.client, r.peer, 1 + rng() % 40));
  std::vector<std::byte> wire;
  append_frame(wire, Envelope(3, 9, std::string(1, '\x05')));  // a stream of 5 frames
  r.spawn(send_all(r.client, wire, true));
  r.spawn(produce(r.handle(), PushPriority::high, 1000, 8, rng(), r.ledger, high_done));
  r.spawn(produce(r.handle(), PushPriority::low, 2000, 8, rng(), r.ledger, low_done));
  r.run(schedule, {&high_done, &low_done, &r.peer.done});
  const Parsed p = r.received(true);
  std::string stream;
  for (const Envelope& e : p.frames) {
    if (e.id() == 3 && e.correlation_id() == 9) stream += e.payload_text();
  }
  if (stream != "abcde") r.problems.push_back("the stream arrived as \"" + stream + "\", not \"abcde\"");
  return r.problems;
}

// Requests whose answers overflow the outbound budget while the peer has stopped reading: the
// dispatcher waits for room; then the peer closes, or the server shuts down and then forces.
std::vector<std::string> dispatcher_blocked(Fixture& f, const std::shared_ptr<const App>& app, Schedule& schedule,
                                            std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Run r(f, app, 16 + rng() % 64);
  bool pusher_done = false, end_done = false;
  const std::size_t stop_after = rng() % 300;
  r.spawn(read_all(r.client, r.peer, 1 + rng() % 40, stop_after));
  std::vector<std::byte> wire;
  for (std::uint64_t c = 1; c <= 3; ++c) append_frame(wire, Envelope(2, c, "more"));
  r.spawn(send_all(r.client, wire, false));
  r.spawn(produce(r.handle(), PushPriority::low, 1000, 4, rng(), r.ledger, pusher_done));
  const EndBy how = rng() % 2 ? EndBy::peer_close : EndBy::shutdown_then_force;
  r.spawn(end_after(r, how, rng() % 40, end_done));
  r.run(schedule, {&r.peer.done, &pusher_done, &end_done});
  r.received(false);  // the peer stopped part-way: its last frame may be cut
  return r.problems;
}

// Lookups in the session registry, each followed by a push, racing the connection's end.
std::vector<std::string> registry_racing_end(Fixture& f, const std::shared_ptr<const App>& app, Schedule& schedule,
                                             std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Run r(f, app, 16 + rng() % 96);
  bool lookers_done[3] = {};
  bool found_after_end = false;
  r.spawn(read_all(r.client, r.peer, 1 + rng() % 40));
  std::vector<std::byte> wire;
  append_frame(wire, Envelope(1, 7, "request"));
  r.spawn(send_all(r.client, wire, true));
  for (std::uint64_t k = 0; k < 3; ++k) {
    r.spawn([&, k, lseed = rng()]() -> asio::awaitable<void> {
      std::mt19937_64 lrng(lseed);
      for (std::uint64_t i = 0; i < 20; ++i) {
        auto handle = r.f.survivors.registry->find(1);
        if (!handle) break;  // gone: it must stay gone
        if (r.f.ending.ended) found_after_end = true;
        const std::uint64_t tag = (k + 1) * 1000 + i;
        r.ledger.record(tag, Ledger::Fate::attempted);
        auto result = handle->push_with_policy(Envelope(low_push_id, 0, std::to_string(tag)), PushPriority::low,
                                               lrng() % 2 ? PushPolicy::drop_to_dlq : PushPolicy::return_error_if_full);
        if (result.ok()) r.ledger.record(tag, Ledger::Fate::accepted);
        else if (result.take_frame()) r.ledger.record(tag, Ledger::Fate::handed_back);
        co_await yield_n(lrng() % 3);
      }
      lookers_done[k] = true;
    });
  }
  r.run(schedule, {&r.peer.done, &lookers_done[0], &lookers_done[1], &lookers_done[2]});
  if (found_after_end) r.problems.push_back("the registry found the connection after its teardown");
  if (f.survivors.registry->find(1)) r.problems.push_back("the registry still finds the ended connection");
  r.received(true);
  return r.problems;
}

// The smallest race: one try_push against a graceful shutdown, on a connection with nothing
// else to do; small enough to run under every schedule there is.
std::vector<std::string> one_push_vs_shutdown(Fixture& f, const std::shared_ptr<const App>& app, Schedule& schedule) {
  Run r(f, app, 256);
  bool pushed = false, end_done = false;
  r.spawn(read_all(r.client, r.peer, 256));
  r.spawn([&, handle = r.handle()]() mutable -> asio::awaitable<void> {
    r.ledger.record(1000, Ledger::Fate::attempted);
    auto result = handle.try_push(Envelope(high_push_id, 0, "1000"), PushPriority::high);
    r.ledger.record(1000, result.ok() ? Ledger::Fate::accepted : Ledger::Fate::handed_back);
    pushed = true;
    co_return;
  });
  r.spawn(end_after(r, EndBy::shutdown, 0, end_done));
  r.run(schedule, {&r.peer.done, &pushed, &end_done});
  r.received(true);
  return r.problems;
}

// Runs `scenario(schedule, seed)` under `count` seeded schedules; fails with the first seed
// that breaks an invariant.
template <class Scenario>
void explore_seeded(const char* what, std::size_t count, Scenario scenario) {
  const std::uint64_t first = first_seed();
  count = std::max<std::size_t>(count, 1);
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    RandomSchedule schedule(seed);
    const auto problems = scenario(schedule, seed);
    if (!problems.empty()) FAIL(what << ": " << describe(seed, problems));
  }
  SUCCEED(what << ": " << count << " schedules");
}

}  // namespace

TEST_CASE("explore: pushes racing the connection's end, every way it can end", "[explore]") {
  Fixture f;
  const auto app = f.app();
  for (EndBy how : {EndBy::peer_half_close, EndBy::peer_close, EndBy::shutdown, EndBy::force_close}) {
    explore_seeded(name(how), schedules_to_run(ci_schedules) / 4, [&](Schedule& s, std::uint64_t seed) {
      return pushes_racing_end(f, app, s, seed, how, 4);
    });
  }
}

TEST_CASE("explore: a stream racing a push flood", "[explore]") {
  Fixture f;
  const auto app = f.app();
  explore_seeded("stream vs flood", schedules_to_run(ci_schedules), [&](Schedule& s, std::uint64_t seed) {
    return stream_racing_flood(f, app, s, seed);
  });
}

TEST_CASE("explore: the dispatcher waiting on a full outbound queue while the peer closes", "[explore]") {
  Fixture f;
  const auto app = f.app(512);
  explore_seeded("blocked dispatcher", schedules_to_run(ci_schedules), [&](Schedule& s, std::uint64_t seed) {
    return dispatcher_blocked(f, app, s, seed);
  });
}

TEST_CASE("explore: registry lookups racing the connection's end", "[explore]") {
  Fixture f;
  const auto app = f.app();
  explore_seeded("registry vs end", schedules_to_run(ci_schedules), [&](Schedule& s, std::uint64_t seed) {
    return registry_racing_end(f, app, s, seed);
  });
}

TEST_CASE("explore: every schedule of one push racing a graceful shutdown, up to 3 deviations", "[explore]") {
  Fixture f;
  const auto app = f.app();
  ExhaustiveSchedule schedule(deviation_bound(3));
  std::size_t runs = 0;
  constexpr std::size_t cap = 200'000;
  do {
    const auto problems = one_push_vs_shutdown(f, app, schedule);
    ++runs;
    if (!problems.empty()) FAIL("schedule " << schedule.trace() << ": " << describe(0, problems));
    REQUIRE_FALSE(schedule.diverged());
  } while (schedule.next() && runs < cap);
  CHECK(runs < cap);  // the enumeration finished: every schedule was run
  CHECK(runs > 1000);  // the race has that many (12 797 with a bound of 3)
}

}  // namespace test_explore_cpp
