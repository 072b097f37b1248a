// Push handles and the session registry outlive their connection, its io_context and the whole
// server: kept in user state, every push then fails with errc::connection_closed and touches no
// freed memory (these tests also run under the asan and tsan presets). And a stress test: pushes
// from three other threads racing connection closes, where every frame must end up in exactly
// one place: delivered to the client, handed back to its caller, or in the dead letter queue.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "support/async_test.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_push_safety_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

const std::error_code closed = make_error_code(errc::connection_closed);

// What an app keeps of its connections, in user state: it outlives the server.
struct Kept {
  std::mutex mutex;
  std::vector<PushHandle<Envelope>> handles;

  std::vector<PushHandle<Envelope>> snapshot() {
    std::lock_guard lock(mutex);
    return handles;
  }
};

// Message id 1 keeps the connection's handle and echoes the request.
asio::awaitable<Resp> keep_handle(Envelope& request, ConnectionContext& ctx) {
  auto& kept = ctx.state<Kept>();
  {
    std::lock_guard lock(kept.mutex);
    kept.handles.push_back(ctx.push_handle<Envelope>());
  }
  co_return std::move(request);
}

// Everything a test holds on to while servers come and go. The DLQ's io_context comes first:
// an Asio channel must not outlive its context.
struct Survivors {
  asio::io_context dlq_io;
  std::shared_ptr<DeadLetterQueue<Envelope>> dlq =
      std::make_shared<DeadLetterQueue<Envelope>>(dlq_io.get_executor(), 1024);
  std::shared_ptr<SessionRegistry<Envelope>> registry = std::make_shared<SessionRegistry<Envelope>>();
  std::shared_ptr<Kept> kept = std::make_shared<Kept>();

  // An app that gives the server nothing but copies of the shared_ptrs above.
  auto app(std::size_t queue_capacity = 64) const {
    return WireframeApp<>()
        .route(1, keep_handle)
        .with_state(kept)
        .with_session_registry(registry)
        .with_dead_letter_queue(dlq)
        .push_queue_capacity(queue_capacity, queue_capacity)
        .build();
  }

  std::vector<DeadLetter<Envelope>> letters() {
    std::vector<DeadLetter<Envelope>> out;
    while (auto letter = dlq->try_receive()) out.push_back(std::move(*letter));
    return out;
  }
};

// Every kind of push through `handle` is refused with connection_closed, at once. Runs on the
// test's io_context, never the server's.
asio::awaitable<void> check_refused(PushHandle<Envelope> handle) {
  CHECK(handle.is_closed());
  const auto t0 = std::chrono::steady_clock::now();
  PushResult<Envelope> tried = handle.try_push(Envelope(7, 0, "try"));
  CHECK(tried.error() == closed);
  CHECK(tried.has_frame());
  for (auto policy : {PushPolicy::return_error_if_full, PushPolicy::drop_if_full,
                      PushPolicy::warn_and_drop_if_full}) {
    PushResult<Envelope> r = handle.push_with_policy(Envelope(7, 0, "policy"), PushPriority::low, policy);
    CHECK(r.error() == closed);
    CHECK(r.has_frame());
  }
  PushResult<Envelope> dead = handle.push_with_policy(Envelope(7, 0, "dlq"), PushPriority::high,
                                                      PushPolicy::drop_to_dlq);
  CHECK(dead.error() == closed);
  CHECK_FALSE(dead.has_frame());  // it is in the DLQ
  const std::error_code pushed = co_await handle.push(Envelope(7, 0, "push"));  // to the DLQ too
  CHECK(pushed == closed);
  PushResult<Envelope> timed = co_await handle.try_push_for(Envelope(7, 0, "timed"), 5s);
  CHECK(timed.error() == closed);
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);  // nothing waited
}

// The registry knows none of the connections any more.
void check_forgotten(const SessionRegistry<Envelope>& registry,
                     const std::vector<PushHandle<Envelope>>& handles) {
  for (const auto& handle : handles) CHECK_FALSE(registry.find(handle.connection_id()));
  int visited = 0;
  registry.for_each([&visited](ConnectionId, PushHandle<Envelope>&) { ++visited; });
  CHECK(visited == 0);
  CHECK(registry.size() == 0);
  CHECK(registry.entry_count() == 0);
  CHECK(registry.broadcast(Envelope(9, 0, "anyone?"), PushPriority::high, PushPolicy::drop_to_dlq) == 0);
}

// Connects a client and has the server keep the connection's handle.
asio::awaitable<std::unique_ptr<WireframeClient<>>> connect_kept(const asio::ip::tcp::endpoint& ep) {
  auto client = std::make_unique<WireframeClient<>>(co_await asio::this_coro::executor);
  CO_REQUIRE_OK(client->connect(ep));
  auto [ec, reply] = co_await client->call(Envelope(1, 0, "keep"));
  REQUIRE_FALSE(ec);
  co_return client;
}

// For a client that has stopped reading: pushes 256 KiB frames until the connection's writer
// is stuck in a write and its queue stays full.
asio::awaitable<bool> fill_until_stuck(PushHandle<Envelope> handle) {
  int full_in_a_row = 0;
  for (int i = 0; i < 1000 && full_in_a_row < 3; ++i) {
    PushResult<Envelope> r = handle.try_push(Envelope(7, 0, std::vector<std::byte>(256 * 1024)));
    if (r.ok()) {
      full_in_a_row = 0;
      continue;
    }
    if (r.error() != errc::queue_full) co_return false;
    ++full_in_a_row;
    co_await sleep_for(20ms);
  }
  co_return full_in_a_row >= 3;
}

asio::awaitable<std::error_code> push_one(PushHandle<Envelope> handle, Envelope frame) {
  co_return co_await handle.push(std::move(frame));
}

// A blocking push() on its own io_context and thread: neither the server's nor the test's.
class ParkedPush {
 public:
  ParkedPush(PushHandle<Envelope> handle, Envelope frame) {
    asio::co_spawn(io_, push_one(std::move(handle), std::move(frame)),
                   [this](std::exception_ptr e, std::error_code ec) {
                     result_.set_value(e ? make_error_code(errc::handler_failed) : ec);
                   });
    thread_ = std::thread([this] { io_.run(); });
  }
  ParkedPush(const ParkedPush&) = delete;
  ParkedPush& operator=(const ParkedPush&) = delete;
  ~ParkedPush() {
    io_.stop();
    thread_.join();
  }

  // Whether the push is still waiting after `limit`.
  bool still_waiting_after(std::chrono::milliseconds limit) {
    return future_.wait_for(limit) != std::future_status::ready;
  }
  // The push's result, or nullopt if it did not complete within `limit`. Call once.
  std::optional<std::error_code> result_within(std::chrono::milliseconds limit) {
    if (still_waiting_after(limit)) return std::nullopt;
    return future_.get();
  }

 private:
  asio::io_context io_;
  std::promise<std::error_code> result_;
  std::future<std::error_code> future_ = result_.get_future();
  std::thread thread_;
};

bool has_letter(const std::vector<DeadLetter<Envelope>>& letters, std::string_view payload) {
  for (const auto& letter : letters) {
    if (letter.frame.payload_text() == payload && letter.reason == closed) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("kept handles and the registry are safe once their connection has ended",
          "[integration][push][safety]") {
  Survivors s;
  ServerFixture fx(s.app(), 2);
  run_async([&]() -> asio::awaitable<void> {
    {
      auto client = co_await connect_kept(fx.endpoint());
      CHECK(s.registry->size() == 1);
    }  // the client goes away, and with it the connection
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
    const auto handles = s.kept->snapshot();
    REQUIRE(handles.size() == 1);
    co_await check_refused(handles[0]);
    check_forgotten(*s.registry, handles);
  });
  const auto letters = s.letters();
  CHECK(letters.size() == 2);  // drop_to_dlq and push; try_push and the others handed theirs back
  CHECK(has_letter(letters, "dlq"));
  CHECK(has_letter(letters, "push"));
}

TEST_CASE("kept handles and the registry are safe after the server is stopped and destroyed",
          "[integration][push][safety]") {
  Survivors s;
  auto fx = std::make_unique<ServerFixture>(s.app(), 2);
  run_async([&]() -> asio::awaitable<void> {
    std::vector<std::unique_ptr<WireframeClient<>>> clients;
    for (int i = 0; i < 4; ++i) clients.push_back(co_await connect_kept(fx->endpoint()));  // both workers
    auto handles = s.kept->snapshot();
    REQUIRE(handles.size() == 4);
    std::optional<PushHandle<Envelope>> found = s.registry->find(handles[0].connection_id());
    REQUIRE(found);
    handles.push_back(*found);
    fx.reset();  // stop() ends every connection, then the server and its io_contexts are destroyed
    for (const auto& handle : handles) co_await check_refused(handle);
    check_forgotten(*s.registry, handles);
    for (auto& client : clients) {
      auto [ec, frame] = co_await client->receive();
      CHECK(ec == closed);  // the server closed it
    }
  });
  CHECK(s.letters().size() == 2 * 5);
}

TEST_CASE("a push parked on a full queue ends with connection_closed when the connection ends",
          "[integration][push][safety]") {
  Survivors s;
  ServerFixture fx(s.app(1), 2);
  run_async([&]() -> asio::awaitable<void> {
    auto client = co_await connect_kept(fx.endpoint());  // and it never reads again
    const auto handle = s.kept->snapshot().at(0);
    CO_REQUIRE(fill_until_stuck(handle));
    ParkedPush parked(handle, Envelope(8, 0, "parked"));
    CHECK(parked.still_waiting_after(100ms));
    client->close();  // unread data: a reset, and the server's stuck write fails
    CHECK(parked.result_within(5s) == closed);
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
    co_await check_refused(handle);
  }, 20s);
  const auto letters = s.letters();
  CHECK(has_letter(letters, "parked"));  // push() owned it: it went to the DLQ
  CHECK(std::count_if(letters.begin(), letters.end(), [](const auto& l) {
          return l.frame.payload().size() == 256 * 1024;
        }) >= 1);  // the queued frame, lost at the hard close
}

TEST_CASE("a push parked on a full queue ends with connection_closed when the server is destroyed",
          "[integration][push][safety]") {
  Survivors s;
  auto fx = std::make_unique<ServerFixture>(s.app(1), 2, 300ms);
  run_async([&]() -> asio::awaitable<void> {
    auto client = co_await connect_kept(fx->endpoint());  // and it never reads again
    const auto handle = s.kept->snapshot().at(0);
    CO_REQUIRE(fill_until_stuck(handle));
    ParkedPush parked(handle, Envelope(8, 0, "parked"));
    CHECK(parked.still_waiting_after(100ms));
    fx.reset();  // graceful stop, the stuck connection force-closed after 300 ms, server destroyed
    CHECK(parked.result_within(5s) == closed);
    co_await check_refused(handle);
  }, 20s);
  CHECK(has_letter(s.letters(), "parked"));
}

// --- pushes racing connection closes ----------------------------------------------------------

namespace {

constexpr int stress_rounds = 10'000;  // connections, each closed while pushes race it
constexpr int stress_lanes = 16;       // connections open at once
constexpr int frames_before_close = 4; // per round at most, from all pushers together...
constexpr int frames_at_close = 8;     // ...and once the client has begun to close it

// One round's connection, as the pushers see it. Most of its frames are pushed only once the
// client has begun to close it, so that they race the close itself.
struct Target {
  PushHandle<Envelope> handle;
  std::atomic<bool> closing{false};
  std::atomic<int> before_close{frames_before_close};
  std::atomic<int> at_close{frames_at_close};
};

// Shared by the rounds (test thread), the pushers (their own threads) and the server's setup
// hook. Pushers must not use Catch: they count failures for the test thread to check.
struct Stress {
  std::mutex mutex;
  std::unordered_map<std::uint16_t, PushHandle<Envelope>> by_port;  // from on_connection_setup
  std::vector<std::shared_ptr<Target>> targets;                     // rounds in progress
  std::uint64_t news = 0;             // bumped when a round starts or begins to close
  std::condition_variable news_cv;    // idle pushers wait on it instead of polling
  std::atomic<std::uint64_t> next_seq{0};
  // fate[seq]: how many places frame `seq` ended up in (must be exactly one).
  std::vector<std::atomic<std::uint8_t>> fate =
      std::vector<std::atomic<std::uint8_t>>(std::size_t{stress_rounds} * (frames_before_close + frames_at_close));
  std::atomic<bool> stop{false};
  std::atomic<long> failures{0}, delivered{0}, handed_back{0}, truncated{0};
  int lanes_running = stress_lanes;
  std::exception_ptr lane_failure;
};

// Frames carry "SEQ/PUSHER": which frame, and which pusher sent it (0: try_push).
struct Tag {
  std::uint64_t seq = 0;
  int pusher = -1;
};

std::optional<Tag> parse_tag(std::string_view payload) {
  Tag tag;
  const char* end = payload.data() + payload.size();
  auto [p, ec] = std::from_chars(payload.data(), end, tag.seq);
  if (ec != std::errc{} || p == end || *p != '/') return std::nullopt;
  auto [q, ec2] = std::from_chars(p + 1, end, tag.pusher);
  if (ec2 != std::errc{} || q != end) return std::nullopt;
  return tag;
}

// Counts one fate of the frame with this payload.
void record(Stress& s, std::string_view payload) {
  const auto tag = parse_tag(payload);
  if (!tag || tag->seq >= s.fate.size()) {
    ++s.failures;
    return;
  }
  s.fate[tag->seq].fetch_add(1);
}

// A new frame for `target` from `pusher`, or nullopt once this phase of the round has had its
// share.
std::optional<Envelope> next_frame(Stress& s, Target& target, int pusher) {
  auto& budget = target.closing ? target.at_close : target.before_close;
  if (budget.fetch_sub(1) <= 0) return std::nullopt;
  const std::uint64_t seq = s.next_seq.fetch_add(1);
  return Envelope(7, 0, fmt::format("{}/{}", seq, pusher));
}

// The rounds in progress, and the news count they go with.
std::vector<std::shared_ptr<Target>> live_targets(Stress& s, std::uint64_t& seen) {
  std::lock_guard lock(s.mutex);
  seen = s.news;
  return s.targets;
}

// Wakes the idle pushers: a round has started, or has begun to close.
void announce(Stress& s) {
  {
    std::lock_guard lock(s.mutex);
    ++s.news;
  }
  s.news_cv.notify_all();
}

// A pusher that found nothing to push waits for news (or the end), not polling: a busy pusher
// would steal the CPU the server and the rounds need, most of all under TSan.
void wait_for_news(Stress& s, std::uint64_t seen) {
  std::unique_lock lock(s.mutex);
  s.news_cv.wait_for(lock, 10ms, [&] { return s.news != seen || s.stop; });
}

// Pusher 0: try_push. A full queue is retried with the frame handed back; a closed connection's
// frame is handed back for good, and that is its fate.
void try_pusher(Stress& s) {
  std::uint64_t seen = 0;
  while (!s.stop) {
    bool pushed = false;
    for (const auto& target : live_targets(s, seen)) {
      auto frame = next_frame(s, *target, 0);
      if (!frame) continue;
      pushed = true;
      PushResult<Envelope> r = target->handle.try_push(std::move(*frame));
      while (r.error() == errc::queue_full) r = target->handle.try_push(std::move(*r.take_frame()));
      if (r.ok()) continue;
      const auto back = r.take_frame();
      if (r.error() != errc::connection_closed || !back) {
        ++s.failures;
        continue;
      }
      record(s, back->payload_text());
      ++s.handed_back;
    }
    if (!pushed) wait_for_news(s, seen);
  }
}

// Pusher 1: drop_to_dlq, high priority. Whatever it is refused goes to the DLQ.
void dlq_pusher(Stress& s) {
  std::uint64_t seen = 0;
  while (!s.stop) {
    bool pushed = false;
    for (const auto& target : live_targets(s, seen)) {
      auto frame = next_frame(s, *target, 1);
      if (!frame) continue;
      pushed = true;
      PushResult<Envelope> r = target->handle.push_with_policy(std::move(*frame), PushPriority::high,
                                                               PushPolicy::drop_to_dlq);
      if (r.has_frame() || !(r.ok() || r.error() == errc::connection_closed)) ++s.failures;
    }
    if (!pushed) wait_for_news(s, seen);
  }
}

// Pusher 2: a blocking push() on its own io_context. A frame it could not queue goes to the DLQ.
// Nothing else runs on that io_context, so waiting for news may block its thread.
asio::awaitable<void> blocking_pusher(Stress& s) {
  std::uint64_t seen = 0;
  while (!s.stop) {
    bool pushed = false;
    const auto targets = live_targets(s, seen);
    for (const auto& target : targets) {
      auto frame = next_frame(s, *target, 2);
      if (!frame) continue;
      pushed = true;
      const std::error_code ec = co_await target->handle.push(std::move(*frame));
      if (ec && ec != errc::connection_closed) ++s.failures;
    }
    if (!pushed) wait_for_news(s, seen);
  }
}

// The round's connection, as published by the server's setup hook, handed to the pushers.
std::shared_ptr<Target> publish_target(Stress& s, std::uint16_t port) {
  std::lock_guard lock(s.mutex);
  auto it = s.by_port.find(port);
  if (it == s.by_port.end()) return nullptr;
  auto target = std::make_shared<Target>();
  target->handle = std::move(it->second);
  s.by_port.erase(it);
  s.targets.push_back(target);
  ++s.news;
  s.news_cv.notify_all();
  return target;
}

void retire_target(Stress& s, const std::shared_ptr<Target>& target) {
  std::lock_guard lock(s.mutex);
  std::erase(s.targets, target);
}

// Reads until the server has closed the connection, counting the pushed frames.
asio::awaitable<void> read_to_end(Stress& s, WireframeClient<>& client) {
  for (;;) {
    auto [ec, frame] = co_await client.receive();
    if (ec == errc::truncated_frame) ++s.truncated;  // a write cut off: its frames vanished
    if (ec) co_return;
    if (frame.id() != 7) continue;
    record(s, frame.payload_text());
    ++s.delivered;
  }
}

// How a round's connection ends.
enum class Close {
  eof,       // the client stops sending: the server answers, writes what is queued, closes
  bad_frame, // an oversized length prefix: the server stops reading and ends the same way
  hard,      // half a frame: the server's read_timeout closes it at once, dropping the queue
};

// Sends what ends the connection `how`, and lets the pushers push the rest of the round's frames
// around that moment.
asio::awaitable<void> begin_close(Stress& s, WireframeClient<>& client, Close how, Target& target,
                                  std::minstd_rand& rng) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer pause(ex, std::chrono::microseconds(rng() % 300));
  co_await pause.async_wait(asio::use_awaitable);
  if (how == Close::hard) {
    // The close comes about 1 ms from now; the second half starts somewhere around it.
    static constexpr std::uint8_t half_frame[] = {0, 0, 0, 100, 1, 2};
    co_await raw_write(client.socket(), half_frame);
    pause.expires_after(std::chrono::microseconds(rng() % 1500));
    co_await pause.async_wait(asio::use_awaitable);
    target.closing = true;
    announce(s);
    co_return;
  }
  target.closing = true;  // the rest of the frames comes now, around the close
  announce(s);
  pause.expires_after(std::chrono::microseconds(rng() % 150));
  co_await pause.async_wait(asio::use_awaitable);
  if (how == Close::eof) {
    client.shutdown_send();
  } else {
    static constexpr std::uint8_t oversized[] = {0xff, 0xff, 0xff, 0xff};  // > max_frame_length
    co_await raw_write(client.socket(), oversized);
  }
}

// One round: a connection, handed to the pushers, ended `how` while they push, then read to
// its end.
asio::awaitable<void> stress_round(Stress& s, asio::ip::tcp::endpoint ep, std::minstd_rand& rng, Close how) {
  WireframeClient<> client(co_await asio::this_coro::executor);
  CO_REQUIRE_OK(client.connect(ep));
  auto [ec, reply] = co_await client.call(Envelope(1, 0, ""));  // the setup hook has run by now
  REQUIRE_FALSE(ec);
  const auto target = publish_target(s, detail::as_specific<asio::ip::tcp::endpoint>(client.socket().local_endpoint()).port());
  REQUIRE(target);
  co_await begin_close(s, client, how, *target, rng);
  co_await read_to_end(s, client);
  retire_target(s, target);
}

asio::awaitable<void> stress_lane(Stress& s, asio::ip::tcp::endpoint ep, int lane, int rounds) {
  std::minstd_rand rng(static_cast<std::uint_fast32_t>(lane + 1));
  for (int i = 0; i < rounds; ++i) co_await stress_round(s, ep, rng, static_cast<Close>((i + lane) % 3));
}

// Runs every round, `stress_lanes` connections at a time, on the calling (test) thread.
void run_rounds(Stress& s, const asio::ip::tcp::endpoint& ep) {
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int lane = 0; lane < stress_lanes; ++lane) {
      auto done = [&s](std::exception_ptr e) {
        if (e && !s.lane_failure) s.lane_failure = e;
        --s.lanes_running;
      };
      asio::co_spawn(ex, stress_lane(s, ep, lane, stress_rounds / stress_lanes), done);
    }
    CO_REQUIRE(eventually_async([&s] { return s.lanes_running == 0; }, 100s));
  }, 110s);
  if (s.lane_failure) std::rethrow_exception(s.lane_failure);
}

// The three pushers, from construction until stop() (or destruction, should a round fail).
class Pushers {
 public:
  explicit Pushers(Stress& s) : s_(s), try_(try_pusher, std::ref(s)), dlq_(dlq_pusher, std::ref(s)) {
    asio::co_spawn(blocking_io_, blocking_pusher(s), [&s](std::exception_ptr e) {
      if (e) ++s.failures;
    });
    blocking_ = std::thread([this] { blocking_io_.run(); });
  }
  Pushers(const Pushers&) = delete;
  Pushers& operator=(const Pushers&) = delete;
  ~Pushers() { stop(); }

  void stop() {
    if (!try_.joinable()) return;
    s_.stop = true;
    announce(s_);
    try_.join();
    dlq_.join();
    blocking_.join();  // every connection has ended by now, so no push() is still parked
  }

 private:
  Stress& s_;
  asio::io_context blocking_io_;
  std::thread try_, dlq_, blocking_;
};

struct Letters {
  long total = 0;
  long lost_at_close = 0;  // queued by try_push (which never dead-letters), lost at a hard close
};

// Counts each dead letter as its frame's fate.
Letters drain(Stress& s, DeadLetterQueue<Envelope>& dlq) {
  Letters letters;
  while (auto letter = dlq.try_receive()) {
    record(s, letter->frame.payload_text());
    ++letters.total;
    const auto tag = parse_tag(letter->frame.payload_text());
    if (tag && tag->pusher == 0) ++letters.lost_at_close;
  }
  return letters;
}

struct QuietLog {  // thousands of connections closed for bad input would log as many warnings
  QuietLog() { set_log_level(LogLevel::error); }
  ~QuietLog() { set_log_level(LogLevel::info); }
};

}  // namespace

TEST_CASE("pushes racing connection closes: each frame is delivered, handed back or dead-lettered",
          "[integration][push][safety]") {
  QuietLog quiet;
  asio::io_context dlq_io;
  auto dlq = std::make_shared<DeadLetterQueue<Envelope>>(dlq_io.get_executor(), 1 << 18);
  Stress s;
  auto publish = [&s](ConnectionContext& ctx) {
    std::lock_guard lock(s.mutex);
    s.by_port.insert_or_assign(ctx.peer().port(), ctx.push_handle<Envelope>());
  };
  ServerFixture fx(WireframeApp<>()
                       .route(1, [](Envelope& req) -> asio::awaitable<Resp> { co_return std::move(req); })
                       .on_connection_setup(publish)
                       .with_dead_letter_queue(dlq)
                       .push_queue_capacity(4096, 4096)
                       .read_timeout(1ms)  // Close::hard
                       .build(),
                   2);
  const auto t0 = std::chrono::steady_clock::now();
  {
    Pushers pushers(s);
    run_rounds(s, fx.endpoint());
  }
  REQUIRE(eventually([&] { return fx.server().connection_count() == 0; }, 10s));
  const Letters letters = drain(s, *dlq);
  const long sent = static_cast<long>(s.next_seq.load());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << fmt::format("push race: {} rounds in {} ms: {} frames sent = {} delivered + {} handed back + "
                           "{} dead-lettered ({} of them queued by try_push and lost at a hard close)\n",
                           stress_rounds, ms.count(), sent, s.delivered.load(), s.handed_back.load(),
                           letters.total, letters.lost_at_close);
  CHECK(s.failures.load() == 0);
  CHECK(s.truncated.load() == 0);
  CHECK(dlq->lost() == 0);
  CHECK(sent == s.delivered.load() + s.handed_back.load() + letters.total);
  std::size_t not_exactly_once = 0;
  for (long i = 0; i < sent; ++i) not_exactly_once += s.fate[static_cast<std::size_t>(i)] != 1 ? 1 : 0;
  CHECK(not_exactly_once == 0);
  // The race was run, not just the happy path. A frame caught in the queue by a hard close is
  // the rarest fate (tens to hundreds per run here): a warning, not a failure, if it is missing.
  CHECK(s.handed_back.load() > 0);
  CHECK(letters.total > letters.lost_at_close);
  if (letters.lost_at_close == 0) WARN("no frame was queued when a hard close came: that path went untested");
}

TEST_CASE("a push() parked on a full queue may have its io_context destroyed under it",
          "[push][safety]") {
  asio::io_context connection_io;
  detail::ConcurrentDoorbell bell(connection_io.get_executor());
  auto queues = std::make_shared<detail::PushQueues<Envelope>>(bell, 1, 1, 1);
  PushHandle<Envelope> handle(queues);
  REQUIRE(handle.try_push(Envelope(7, 0, "first")).ok());  // the queue of one is full
  bool returned = false;
  {
    asio::io_context user_io;  // the pusher's own context
    auto pusher = [handle, &returned]() mutable -> asio::awaitable<void> {
      (void)co_await handle.push(Envelope(7, 0, "parked"));
      returned = true;
    };
    asio::co_spawn(user_io, std::move(pusher), asio::detached);
    user_io.run_for(20ms);  // parked on its doorbell now
  }  // destroyed with the push still waiting
  // Closing wakes every waiter: the destroyed one must not be touched (ASan would see it).
  queues->close();
  CHECK_FALSE(returned);
  CHECK(handle.try_push(Envelope(7, 0, "after")).error() == make_error_code(errc::connection_closed));
}

}  // namespace test_push_safety_cpp
