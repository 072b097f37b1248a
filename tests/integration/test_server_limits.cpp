// Server-level hardening: the max_connections cap, process-wide connection ids, a second signal
// cutting the graceful drain short, and faults contained where a connection starts and in the
// accept loop. Real sockets on 127.0.0.1; every wait is bounded.
#include <signal.h>
#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/async_test.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_server_limits_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

asio::awaitable<Resp> echo(Envelope& req) { co_return std::move(req); }

// A server configured before run() (ServerFixture starts serving in its constructor) and run on
// its own thread.
class RunningServer {
 public:
  template <class App, class Configure>
  RunningServer(std::shared_ptr<const App> app, Configure configure) : server_(std::move(app)) {
    configure(server_);
    server_.bind("127.0.0.1", 0);
    endpoint_ = server_.local_endpoint();
    thread_ = std::thread([this] {
      server_.run();
      done_.set_value();
    });
  }

  ~RunningServer() {
    server_.stop();
    if (!wait_stopped(10s)) abort_with("server did not stop in time");
    thread_.join();
  }

  [[nodiscard]] const asio::ip::tcp::endpoint& endpoint() const noexcept { return endpoint_; }
  [[nodiscard]] WireframeServer& server() noexcept { return server_; }
  bool wait_stopped(std::chrono::milliseconds limit) {
    return stopped_.wait_for(limit) == std::future_status::ready;
  }

 private:
  WireframeServer server_;
  asio::ip::tcp::endpoint endpoint_;
  std::promise<void> done_;
  std::future<void> stopped_ = done_.get_future();
  std::thread thread_;
};

// Keeps every log line (thread-safe) and, when armed, fails the next message that contains a
// given text, as a broken sink would.
class CapturingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void fail_next(std::string text) {
    std::lock_guard lock(mutex_);
    fail_on_ = std::move(text);
  }
  bool armed() {
    std::lock_guard lock(mutex_);
    return !fail_on_.empty();
  }
  std::string line_with(const std::string& needle) {
    std::lock_guard lock(mutex_);
    for (const auto& line : lines_) {
      if (line.find(needle) != std::string::npos) return line;
    }
    return {};
  }
  std::size_t count(const std::string& needle) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& line : lines_) n += line.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {  // called with mutex_ held
    std::string line(msg.payload.data(), msg.payload.size());
    if (!fail_on_.empty() && line.find(fail_on_) != std::string::npos) {
      fail_on_.clear();
      throw std::runtime_error("log sink failed");
    }
    lines_.push_back(std::move(line));
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
  std::string fail_on_;
};

// Installs a capturing logger for the scope (declare it before the server, so it outlives it).
class CapturedLog {
 public:
  explicit CapturedLog(bool rethrow_sink_errors = false) {
    auto logger = std::make_shared<spdlog::logger>("test", sink_);
    // spdlog reports a failing sink to the error handler; one that throws is the user's right,
    // and then the exception leaves wireframe's log call.
    if (rethrow_sink_errors) {
      logger->set_error_handler([](const std::string& what) { throw std::runtime_error(what); });
    }
    set_logger(std::move(logger));
  }
  ~CapturedLog() { set_logger(nullptr); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  CapturingSink& sink() { return *sink_; }

 private:
  std::shared_ptr<CapturingSink> sink_ = std::make_shared<CapturingSink>();
};

// Waits (at most `limit`) for the server to close `s`; returns how the read ended: eof when it
// closed, operation_aborted when it did not in time.
asio::awaitable<asio::error_code> read_close(asio::ip::tcp::socket& s,
                                             std::chrono::milliseconds limit) {
  asio::steady_timer guard(s.get_executor(), limit);
  guard.async_wait([&s](const asio::error_code& ec) {
    if (!ec) s.cancel();
  });
  std::uint8_t byte = 0;
  auto [ec, n] = co_await s.async_read_some(asio::buffer(&byte, 1), detail::use_nothrow);
  guard.cancel();
  co_return ec;
}

// One echo round trip on `client`, given up after `limit` (a connection still in the listen
// backlog is never answered): true when the echo came back.
asio::awaitable<bool> echoes(WireframeClient<>& client, std::string text,
                             std::chrono::milliseconds limit = 2s) {
  asio::steady_timer guard(co_await asio::this_coro::executor, limit);
  guard.async_wait([&client](const asio::error_code& ec) {
    if (!ec) client.close();
  });
  auto [ec, reply] = co_await client.call(Envelope(1, 0, text));
  guard.cancel();
  co_return !ec && reply.payload_text() == text;
}

// A new client that the server serves, within `limit` (retried: a slot is given back only once
// the connection that held it has wholly ended). Null if none was served in time.
asio::awaitable<std::unique_ptr<WireframeClient<>>> served_client(const asio::ip::tcp::endpoint& ep,
                                                                  std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    auto client = std::make_unique<WireframeClient<>>(co_await asio::this_coro::executor);
    const std::error_code ec = co_await client->connect(ep);
    if (!ec) {
      const bool ok = co_await echoes(*client, "admitted", 500ms);
      if (ok) co_return client;
    }
    co_await sleep_for(5ms);
  }
  co_return nullptr;
}

// True once connecting to `ep` is refused (the server closed its listening socket).
asio::awaitable<bool> listener_closed(const asio::ip::tcp::endpoint& ep,
                                      std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    asio::ip::tcp::socket s(co_await asio::this_coro::executor);
    auto [ec] = co_await s.async_connect(ep, detail::use_nothrow);
    if (ec == asio::error::connection_refused) co_return true;
    co_await sleep_for(5ms);
  }
  co_return false;
}

auto echo_app() { return WireframeApp<>().route(1, echo).build(); }

}  // namespace

// --- max_connections -----------------------------------------------------------------------------

TEST_CASE("max_connections: connections past the limit are closed at once, the others served",
          "[server][limits]") {
  CapturedLog log;
  constexpr std::uint64_t extra = 20;
  std::chrono::steady_clock::duration refusing_took{};
  {
    RunningServer srv(echo_app(), [](WireframeServer& s) { s.workers(2).max_connections(2); });
    run_async([&]() -> asio::awaitable<void> {
      auto ex = co_await asio::this_coro::executor;
      WireframeClient<> a(ex);
      WireframeClient<> b(ex);
      CO_REQUIRE_OK(a.connect(srv.endpoint()));
      CO_REQUIRE_OK(b.connect(srv.endpoint()));
      CO_REQUIRE(echoes(a, "a0"));
      CO_REQUIRE(echoes(b, "b0"));

      const auto t0 = std::chrono::steady_clock::now();
      for (std::uint64_t i = 0; i < extra; ++i) {
        auto s = co_await raw_connect(srv.endpoint());
        const asio::error_code ec = co_await read_close(s, 2s);
        CHECK(ec == asio::error::eof);  // closed at once, not left hanging
      }
      refusing_took = std::chrono::steady_clock::now() - t0;
      CHECK(srv.server().refused_connections() == extra);
      CHECK(srv.server().connection_count() == 2);

      // The connections already served never noticed.
      CO_CHECK(echoes(a, "a1"));
      CO_CHECK(echoes(b, "b1"));

      // Once one of them has ended, its slot admits a newcomer.
      a.close();
      auto c = co_await served_client(srv.endpoint(), 3s);
      REQUIRE(c != nullptr);
      CO_CHECK(echoes(b, "b2"));
    }, 20s);
  }
  // At most one warning a second, each with a count, however fast the refusals came.
  const std::size_t warnings = log.sink().count("connection.refused max_connections=2 refused=");
  CHECK(warnings >= 1);
  CHECK(warnings <= 1 + static_cast<std::size_t>(refusing_took / 1s));
}

TEST_CASE("max_connections(0) is unlimited", "[server][limits]") {
  RunningServer srv(echo_app(), [](WireframeServer& s) { s.workers(1).max_connections(0); });
  run_async([&]() -> asio::awaitable<void> {
    std::vector<std::unique_ptr<WireframeClient<>>> clients;
    for (int i = 0; i < 5; ++i) {
      clients.push_back(std::make_unique<WireframeClient<>>(co_await asio::this_coro::executor));
      CO_REQUIRE_OK(clients.back()->connect(srv.endpoint()));
      CO_CHECK(echoes(*clients.back(), "hi"));
    }
    CHECK(srv.server().refused_connections() == 0);
  });
}

// --- connection ids ------------------------------------------------------------------------------

TEST_CASE("connection ids are unique across servers, so they can share a SessionRegistry",
          "[server][limits]") {
  auto registry = std::make_shared<SessionRegistry<Envelope>>();
  std::mutex mutex;
  std::vector<ConnectionId> ids;
  auto make_app = [&] {
    return WireframeApp<>()
        .route(1, echo)
        .with_session_registry(registry)
        .on_connection_setup([&](ConnectionContext& ctx) {
          std::lock_guard lock(mutex);
          ids.push_back(ctx.id());
        })
        .build();
  };
  ServerFixture one(make_app());
  ServerFixture two(make_app());
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::unique_ptr<WireframeClient<>>> clients;
    for (const auto* fx : {&one, &two, &one, &two}) {
      clients.push_back(std::make_unique<WireframeClient<>>(ex));
      CO_REQUIRE_OK(clients.back()->connect(fx->endpoint()));
      CO_REQUIRE(echoes(*clients.back(), "id"));  // setup ran before the first request
    }
    CO_CHECK(eventually_async([&] { return registry->size() == 4; }, 2s));
  });
  std::lock_guard lock(mutex);
  REQUIRE(ids.size() == 4);
  CHECK(std::set<ConnectionId>(ids.begin(), ids.end()).size() == 4);
  CHECK(std::find(ids.begin(), ids.end(), ConnectionId{0}) == ids.end());
}

// --- signals -------------------------------------------------------------------------------------
// SIGUSR1/SIGUSR2, not SIGINT: Catch2 has its own SIGINT handler. A signal is only raised while
// run() is serving a connection, i.e. after run() installed the server's signal_set (otherwise
// the default action would end the test process).

TEST_CASE("a second signal during the drain closes every connection at once",
          "[server][limits][signals]") {
  std::atomic<int> entered{0};
  auto app = WireframeApp<>()
                 .route(3, [&](Envelope& req) -> asio::awaitable<Resp> {
                   ++entered;
                   co_await sleep_for(std::chrono::hours(1));  // holds the drain up
                   co_return std::move(req);
                 })
                 .build();
  RunningServer srv(app, [](WireframeServer& s) {
    s.workers(2).shutdown_timeout(30s).stop_on_signals({SIGUSR1});
  });
  std::chrono::steady_clock::time_point second_signal;
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    WireframeClient<> a(ex);
    WireframeClient<> b(ex);
    CO_REQUIRE_OK(a.connect(srv.endpoint()));
    CO_REQUIRE_OK(b.connect(srv.endpoint()));
    CO_REQUIRE_OK(a.send(Envelope(3, 1, "")));
    CO_REQUIRE_OK(b.send(Envelope(3, 2, "")));
    CO_REQUIRE(eventually_async([&] { return entered == 2; }));

    REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
    CO_REQUIRE(listener_closed(srv.endpoint(), 3s));  // the graceful drain has begun...
    CHECK_FALSE(srv.wait_stopped(200ms));            // ...and waits for the stuck handlers

    second_signal = std::chrono::steady_clock::now();
    REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
    for (auto* c : {&a, &b}) {
      auto [ec, none] = co_await c->receive();
      CHECK(ec);  // closed (a forced close may reset rather than end in order)
    }
  });
  REQUIRE(srv.wait_stopped(5s));  // far sooner than the 30 s shutdown_timeout
  CHECK(std::chrono::steady_clock::now() - second_signal < 5s);
  CHECK(srv.server().drain_interrupted());
  CHECK(srv.server().connection_count() == 0);
}

TEST_CASE("one signal drains gracefully and run() returns once the connections ended",
          "[server][limits][signals]") {
  TeardownLog teardowns;
  auto app = WireframeApp<>()
                 .route(1, echo)
                 .on_connection_teardown(
                     [&](ConnectionContext&, std::error_code ec) { teardowns.add(ec); })
                 .build();
  RunningServer srv(app, [](WireframeServer& s) {
    s.workers(2).shutdown_timeout(30s).stop_on_signals({SIGUSR2});
  });
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(srv.endpoint()));
    CO_REQUIRE(echoes(client, "served"));  // run() is serving: the signal_set is installed
    REQUIRE(::kill(::getpid(), SIGUSR2) == 0);
    auto [ec, none] = co_await client.receive();
    CHECK(ec == make_error_code(errc::connection_closed));
  });
  // The signal wait must end with the drain, or run() would never return.
  REQUIRE(srv.wait_stopped(5s));
  CHECK_FALSE(srv.server().drain_interrupted());
  REQUIRE(teardowns.size() == 1);
  CHECK_FALSE(teardowns.reasons().at(0));  // orderly, not forced
}

TEST_CASE("stop() ends a server that watches signals", "[server][limits][signals]") {
  RunningServer srv(echo_app(),
                    [](WireframeServer& s) { s.workers(2).stop_on_signals({SIGUSR2}); });
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(srv.endpoint()));
    CO_REQUIRE(echoes(client, "served"));
  });
  srv.server().stop();
  CHECK(srv.wait_stopped(3s));
  CHECK_FALSE(srv.server().drain_interrupted());
}

// --- fault containment ---------------------------------------------------------------------------

namespace {

std::atomic<bool> fail_next_protocol_copy{false};
std::atomic<bool> fail_next_strategy_copy{false};

// Its copy (made by each connection's constructor) throws once when armed. No hooks: the copy
// is all that matters here.
struct FragileProtocol {
  FragileProtocol() = default;
  FragileProtocol(const FragileProtocol&) {
    if (fail_next_protocol_copy.exchange(false)) throw std::runtime_error("protocol copy failed");
  }
  FragileProtocol& operator=(const FragileProtocol&) = default;
};

struct FragileStrategy : LenFlag32K {
  FragileStrategy() = default;
  FragileStrategy(const FragileStrategy& other) : LenFlag32K(other) {
    if (fail_next_strategy_copy.exchange(false)) throw std::runtime_error("strategy copy failed");
  }
  FragileStrategy& operator=(const FragileStrategy&) = default;
};

// The first connection fails to start (armed by the caller); the server must close it, log
// why, give its slot back and serve the next one.
template <class App>
void check_first_start_fails(const std::shared_ptr<const App>& app, std::atomic<bool>& armed,
                             const std::string& why,
                             const std::function<void(WireframeClient<>&)>& prepare) {
  CapturedLog log;
  {
    // max_connections(1): a slot not given back would refuse every later client.
    RunningServer srv(app, [](WireframeServer& s) { s.workers(1).max_connections(1); });
    armed = true;
    run_async([&]() -> asio::awaitable<void> {
      auto first = co_await raw_connect(srv.endpoint());
      const asio::error_code ec = co_await read_close(first, 2s);
      CHECK(ec == asio::error::eof);
      CHECK_FALSE(armed.load());  // the connection's constructor did reach the copy

      const auto end = std::chrono::steady_clock::now() + 3s;
      bool served = false;
      while (!served && std::chrono::steady_clock::now() < end) {
        WireframeClient<> next(co_await asio::this_coro::executor);
        prepare(next);
        const std::error_code connected = co_await next.connect(srv.endpoint());
        if (!connected) served = co_await echoes(next, "after", 500ms);
        if (!served) co_await sleep_for(5ms);
      }
      CHECK(served);
    });
  }
  const std::string line = log.sink().line_with("connection.start_failed");
  CHECK(line.find("error=\"" + why) != std::string::npos);
  CHECK(line.rfind("connection.start_failed conn=", 0) == 0);  // with its id...
  CHECK(line.find(" peer=127.0.0.1:") != std::string::npos);  // ...and its peer
  CHECK(log.sink().count("connection.start_failed") == 1);
}

}  // namespace

TEST_CASE("a protocol whose copy throws fails that connection only", "[server][limits][faults]") {
  auto app = WireframeApp<>().with_protocol(FragileProtocol{}).route(1, echo).build();
  check_first_start_fails(app, fail_next_protocol_copy, "protocol copy failed",
                          [](WireframeClient<>&) {});
}

TEST_CASE("a fragmentation strategy whose copy throws fails that connection only",
          "[server][limits][faults]") {
  auto app = WireframeApp<>().with_fragmentation(FragileStrategy{}).route(1, echo).build();
  check_first_start_fails(app, fail_next_strategy_copy, "strategy copy failed",
                          [](WireframeClient<>& c) { c.with_fragmentation(LenFlag32K{}); });
}

// The accept loop's only calls that can throw are the logger's and allocations. A user's
// logger may legitimately throw (an spdlog error handler that rethrows a failing sink's error):
// the refusal warning is then the one to fail, and the loop must come back.
TEST_CASE("an accept loop ended by an exception is logged and restarted",
          "[server][limits][faults]") {
  CapturedLog log(true);
  RunningServer srv(echo_app(), [](WireframeServer& s) { s.workers(1).max_connections(1); });
  run_async([&]() -> asio::awaitable<void> {
    auto a = std::make_unique<WireframeClient<>>(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(a->connect(srv.endpoint()));
    CO_REQUIRE(echoes(*a, "a"));

    log.sink().fail_next("max_connections");
    auto refused = co_await raw_connect(srv.endpoint());
    const asio::error_code ec = co_await read_close(refused, 2s);
    CHECK(ec == asio::error::eof);  // closed before the warning (which then failed)
    CO_CHECK(eventually_async(
        [&] { return log.sink().count("accept loop ended by an exception") == 1; }, 2s));
    CHECK_FALSE(log.sink().armed());  // it was that warning that failed

    // Without a restart this one would wait in the listen backlog for ever.
    a.reset();
    auto next = co_await served_client(srv.endpoint(), 3s);
    CHECK(next != nullptr);
  });
  CHECK(log.sink().count("accept.failed error=\"the accept loop ended\" restart_in_ms=") == 1);
}

}  // namespace test_server_limits_cpp
