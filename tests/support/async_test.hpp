#pragma once
// Test helpers: run a coroutine body with a deadline (a hang fails the test instead of blocking
// CI), and a real server on 127.0.0.1 with an OS-chosen port for the duration of a test.

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>
#include <thread>

#include <wireframe/wireframe.hpp>

// Never write co_await inside a Catch2 assertion: the macros repeat their expression inside a
// short-circuited `while` condition, and g++ 12 still evaluates an await there, so the awaited
// operation runs more than once (a frame gets sent twice). Await into a local, then assert:
#define CO_REQUIRE_OK(awaitable)                         \
  do {                                                   \
    const std::error_code wf_awaited_ec = co_await(awaitable); \
    REQUIRE_FALSE(wf_awaited_ec);                        \
  } while (0)
#define CO_CHECK(awaitable)                        \
  do {                                             \
    const bool wf_awaited_ok = co_await(awaitable); \
    CHECK(wf_awaited_ok);                          \
  } while (0)
#define CO_REQUIRE(awaitable)                      \
  do {                                             \
    const bool wf_awaited_ok = co_await(awaitable); \
    REQUIRE(wf_awaited_ok);                        \
  } while (0)

namespace wireframe::test {

using namespace std::chrono_literals;

// Runs `body()` (returning asio::awaitable<void>) on its own io_context. Fails the test if it
// has not completed after `deadline`; rethrows what it threw (Catch assertions included).
template <class F>
void run_async(F body, std::chrono::milliseconds deadline = 10s) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
    done = true;
    failure = e;
  });
  io.run_for(deadline);
  if (failure) std::rethrow_exception(failure);
  if (!done) FAIL("test body did not finish within " << deadline.count() << " ms");
}

// Aborts the process with a message: used where a hang would otherwise block CI forever.
[[noreturn]] void abort_with(const char* why);
// A path for a Unix domain socket no other test (or test process) uses, in the temp directory.
std::string unique_socket_path();

class ServerFixture {
 public:
  // Listens on 127.0.0.1 (an OS-chosen port) and, with `unix_socket`, also on a Unix domain
  // socket at a fresh path (unix_path()).
  // `also_bind`, when given, binds more listeners before the server runs (the TLS tests bind
  // a TLS listener with it).
  template <class App>
  explicit ServerFixture(std::shared_ptr<const App> app, std::size_t workers = 1,
                         std::chrono::milliseconds shutdown_timeout = 2s, bool unix_socket = false,
                         const std::function<void(WireframeServer&)>& also_bind = {})
      : server_(std::make_unique<WireframeServer>(std::move(app))) {
    server_->workers(workers).shutdown_timeout(shutdown_timeout).bind("127.0.0.1", 0);
    if (unix_socket) server_->bind_unix(unique_socket_path());
    if (also_bind) also_bind(*server_);
    unix_path_ = server_->unix_path();
    endpoint_ = server_->local_endpoint();
    thread_ = std::thread([this, p = std::move(done_promise_)]() mutable {
      server_->run();
      p.set_value();
    });
  }

  ~ServerFixture() { (void)stop(10s); }

  [[nodiscard]] const asio::ip::tcp::endpoint& endpoint() const noexcept { return endpoint_; }
  // The Unix socket's path as bound (it stays known after the server removed the file).
  [[nodiscard]] const std::string& unix_path() const noexcept { return unix_path_; }
  [[nodiscard]] WireframeServer& server() noexcept { return *server_; }

  // Stops the server and waits for run() to return; returns how long that took. Aborts if it
  // takes longer than `limit` (a hung shutdown is exactly what these tests look for).
  std::chrono::milliseconds stop(std::chrono::milliseconds limit = 10s) {
    if (!thread_.joinable()) return stopped_after_;
    const auto start = std::chrono::steady_clock::now();
    server_->stop();
    if (done_.wait_for(limit) != std::future_status::ready) abort_with("server did not stop in time");
    thread_.join();
    stopped_after_ = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return stopped_after_;
  }

  // Waits (bounded) until run() returned by itself; false on timeout.
  bool wait_stopped(std::chrono::milliseconds limit) {
    return done_.wait_for(limit) == std::future_status::ready;
  }

 private:
  std::unique_ptr<WireframeServer> server_;
  asio::ip::tcp::endpoint endpoint_;
  std::string unix_path_;
  std::promise<void> done_promise_;
  std::future<void> done_ = done_promise_.get_future();
  std::thread thread_;
  std::chrono::milliseconds stopped_after_{0};
};

// Polls `pred` on the calling thread every millisecond until it holds or `limit` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// Waits asynchronously (inside a coroutine) for `d`.
inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// Inside a coroutine: polls `pred` every millisecond until it holds or `limit` passes.
template <class Pred>
asio::awaitable<bool> eventually_async(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) co_return true;
    co_await sleep_for(1ms);
  }
  co_return pred();
}

// A raw TCP connection for feeding a server bytes no well-behaved client would send.
asio::awaitable<asio::ip::tcp::socket> raw_connect(const asio::ip::tcp::endpoint& ep);
asio::awaitable<void> raw_write(asio::ip::tcp::socket& s, std::span<const std::uint8_t> bytes);
asio::awaitable<void> raw_write(GenericSocket& s, std::span<const std::uint8_t> bytes);
// Reads until the server closes; returns what arrived and whether it was an orderly EOF or reset
// (either counts as closed).
asio::awaitable<std::vector<std::uint8_t>> read_until_closed(asio::ip::tcp::socket& s);

// Records the teardown reasons a server reports (hooks run on server threads).
class TeardownLog {
 public:
  void add(std::error_code ec) {
    std::lock_guard lock(mutex_);
    reasons_.push_back(ec);
  }
  std::vector<std::error_code> reasons() const {
    std::lock_guard lock(mutex_);
    return reasons_;
  }
  std::size_t size() const { return reasons().size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<std::error_code> reasons_;
};

}  // namespace wireframe::test
