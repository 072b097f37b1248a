#include "wireframe/server/wireframe_server.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <asio/signal_set.hpp>

#include "wireframe/log/log.hpp"

namespace wireframe {

namespace {

constexpr auto min_accept_backoff = std::chrono::milliseconds(5);
constexpr auto max_accept_backoff = std::chrono::seconds(1);

// Errors that say "no resources right now": retrying at once would spin.
bool is_resource_exhaustion(const asio::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

}  // namespace

struct WireframeServer::Impl {
  struct Worker {
    asio::io_context io{1};  // one thread per context: Asio can skip some locking
    ConnectionTracker tracker;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
    asio::steady_timer deadline{io};
  };

  explicit Impl(std::unique_ptr<detail::ConnectionFactory> f) : factory(std::move(f)) {}

  std::unique_ptr<detail::ConnectionFactory> factory;
  std::size_t worker_count = std::max(1u, std::thread::hardware_concurrency());
  std::chrono::milliseconds shutdown_timeout{5000};
  std::vector<int> signals;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<asio::ip::tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signal_set;
  std::atomic<bool> stopping{false};
  std::atomic<bool> running{false};
  std::atomic<std::size_t> live{0};
  ConnectionId next_id = 0;

  void create_workers() {
    if (!workers.empty()) return;
    for (std::size_t i = 0; i < worker_count; ++i) {
      auto w = std::make_unique<Worker>();
      w->guard.emplace(w->io.get_executor());
      w->tracker.count_into(&live);
      workers.push_back(std::move(w));
    }
  }

  asio::awaitable<void> accept_loop() {
    auto backoff = min_accept_backoff;
    asio::steady_timer pause(workers[0]->io);
    std::size_t next_worker = 0;
    while (acceptor && acceptor->is_open()) {
      Worker& w = *workers[next_worker];
      auto [ec, socket] = co_await acceptor->async_accept(w.io, detail::use_nothrow);
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
      if (ec) {
        // Out of descriptors or memory: back off (doubling) instead of spinning on accept.
        const auto level = is_resource_exhaustion(ec) ? LogLevel::error : LogLevel::warn;
        detail::log(level, "accept failed: {}; retrying in {} ms", ec.message(), backoff.count());
        pause.expires_after(backoff);
        (void)co_await pause.async_wait(detail::use_nothrow);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, max_accept_backoff);
        continue;
      }
      backoff = min_accept_backoff;
      asio::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // frames are latency-bound
      next_worker = (next_worker + 1) % workers.size();
      const ConnectionId id = ++next_id;
      asio::post(w.io, [this, &w, id, s = std::move(socket)]() mutable {
        factory->start(asio::ip::tcp::socket(std::move(s)), w.tracker, id);
      });
    }
  }

  // Runs on worker `w`'s own thread.
  void begin_shutdown(Worker& w) {
    w.tracker.shutdown_all();
    if (w.tracker.size() > 0) {
      w.tracker.on_empty([&w] { w.deadline.cancel(); });
      w.deadline.expires_after(shutdown_timeout);
      w.deadline.async_wait([&w](const asio::error_code& ec) {
        if (ec) return;  // every connection ended in time
        detail::log(LogLevel::warn, "shutdown deadline expired: closing {} connection(s)",
                    w.tracker.size());
        w.tracker.force_close_all();
      });
    }
    w.guard.reset();  // run() may return once the last connection has ended
  }

  void stop() {
    if (stopping.exchange(true)) return;
    // Before run() the posts would wait anyway; start() posts them if it sees `stopping`. Both
    // may post (seq_cst guarantees at least one does): begin_shutdown is idempotent.
    if (running) post_shutdown();
  }

  void post_shutdown() {
    asio::post(workers[0]->io, [this] {
      asio::error_code ignored;
      if (acceptor) acceptor->close(ignored);
      if (signal_set) signal_set->cancel(ignored);
    });
    for (auto& worker : workers) {
      asio::post(worker->io, [this, &w = *worker] { begin_shutdown(w); });
    }
  }

  void start() {
    if (!acceptor || !acceptor->is_open()) {
      throw std::logic_error("wireframe: WireframeServer::run() before bind()");
    }
    if (running.exchange(true)) throw std::logic_error("wireframe: WireframeServer runs once");
    asio::co_spawn(workers[0]->io, accept_loop(), asio::detached);
    if (stopping) post_shutdown();  // stop() came between bind() and run()
    if (!signals.empty()) {
      signal_set.emplace(workers[0]->io);
      for (int s : signals) signal_set->add(s);
      signal_set->async_wait([this](const asio::error_code& ec, int signo) {
        if (ec) return;
        detail::log(LogLevel::info, "signal {} received: shutting down", signo);
        stop();
      });
    }
  }
};

WireframeServer::WireframeServer(std::unique_ptr<detail::ConnectionFactory> factory)
    : impl_(std::make_unique<Impl>(std::move(factory))) {}

WireframeServer::~WireframeServer() = default;

WireframeServer& WireframeServer::workers(std::size_t n) {
  if (!impl_->workers.empty()) throw std::logic_error("wireframe: workers() must come before bind()");
  impl_->worker_count = std::max<std::size_t>(1, n);
  return *this;
}

WireframeServer& WireframeServer::shutdown_timeout(std::chrono::milliseconds timeout) {
  impl_->shutdown_timeout = timeout;
  return *this;
}

WireframeServer& WireframeServer::stop_on_signals(std::initializer_list<int> signals) {
  impl_->signals.assign(signals.begin(), signals.end());
  return *this;
}

WireframeServer& WireframeServer::bind(const std::string& host, std::uint16_t port) {
  return bind(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));
}

WireframeServer& WireframeServer::bind(const asio::ip::tcp::endpoint& endpoint) {
  impl_->create_workers();
  auto& acceptor = impl_->acceptor.emplace(impl_->workers[0]->io);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return *this;
}

asio::ip::tcp::endpoint WireframeServer::local_endpoint() const {
  if (!impl_->acceptor) return {};
  asio::error_code ec;
  auto ep = impl_->acceptor->local_endpoint(ec);
  return ec ? asio::ip::tcp::endpoint{} : ep;
}

void WireframeServer::run() {
  impl_->start();
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->workers.size(); ++i) {
    threads.emplace_back([&w = *impl_->workers[i]] { w.io.run(); });
  }
  impl_->workers[0]->io.run();
  for (auto& t : threads) t.join();
}

asio::awaitable<void> WireframeServer::run_async() {
  impl_->start();
  auto ex = co_await asio::this_coro::executor;
  asio::experimental::concurrent_channel<void(asio::error_code, bool)> done(ex, 1);
  std::atomic<std::size_t> remaining{impl_->workers.size()};
  std::vector<std::thread> threads;
  for (auto& worker : impl_->workers) {
    threads.emplace_back([&w = *worker, &remaining, &done] {
      w.io.run();
      if (remaining.fetch_sub(1) == 1) (void)done.try_send(asio::error_code{}, true);
    });
  }
  (void)co_await done.async_receive(detail::use_nothrow);
  for (auto& t : threads) t.join();
}

void WireframeServer::stop() { impl_->stop(); }

std::size_t WireframeServer::connection_count() const noexcept {
  return impl_->live.load(std::memory_order_relaxed);
}

}  // namespace wireframe
