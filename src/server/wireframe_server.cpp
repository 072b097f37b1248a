#include "wireframe/server/wireframe_server.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <asio/signal_set.hpp>

#include "unix_socket_file.hpp"

#include "wireframe/detail/logged_completion.hpp"
#include "wireframe/log/event_log.hpp"
#include "wireframe/log/log.hpp"

namespace wireframe {

namespace {

using clock = std::chrono::steady_clock;
using unix_acceptor = asio::local::stream_protocol::acceptor;

constexpr auto min_accept_backoff = std::chrono::milliseconds(5);
constexpr auto max_accept_backoff = std::chrono::seconds(1);
constexpr auto refusal_log_interval = std::chrono::seconds(1);
constexpr std::size_t default_max_connections = 10000;

// Errors that say "no resources right now": retrying at once would spin.
bool is_resource_exhaustion(const asio::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

// Connections refused by max_connections, reported at most once per interval: a flood of
// connections must not become a flood of log lines. Used on worker 0's thread only.
class RefusalLog {
 public:
  void note(std::size_t limit, const detail::EventLog& events) {
    ++unreported_;
    const auto now = clock::now();
    if (now < next_report_) return;
    const std::uint64_t n = std::exchange(unreported_, 0);
    next_report_ = now + refusal_log_interval;  // first: a throwing logger changes nothing
    events.emit<LogLevel::warn>(Event::connection_refused, "max_connections={} refused={}", limit, n);
  }

 private:
  clock::time_point next_report_{};
  std::uint64_t unreported_ = 0;
};

void listen_on(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& endpoint) {
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
}

asio::ip::tcp::endpoint bound_address(const std::optional<asio::ip::tcp::acceptor>& acceptor) {
  if (!acceptor) return {};
  asio::error_code ec;
  auto ep = acceptor->local_endpoint(ec);
  return ec ? asio::ip::tcp::endpoint{} : ep;
}

}  // namespace

struct WireframeServer::Impl {
  struct Worker {
    asio::io_context io{1};  // one thread per context: Asio can skip some locking
    ConnectionTracker tracker;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
    asio::steady_timer deadline{io};
    bool drained = false;  // its connections have all ended since shutdown began
  };

  explicit Impl(std::unique_ptr<detail::ConnectionFactory> f) : factory(std::move(f)), events(factory->logger()) {}

  std::unique_ptr<detail::ConnectionFactory> factory;
  detail::EventLog events;  // the server's own: the app's logger as the server was made
  std::size_t worker_count = std::max(1u, std::thread::hardware_concurrency());
  std::chrono::milliseconds shutdown_timeout{5000};
  std::vector<int> signals;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<asio::ip::tcp::acceptor> acceptor;
  std::optional<unix_acceptor> unix_listener;
  std::optional<asio::ip::tcp::acceptor> tls_acceptor;
  std::shared_ptr<detail::ConnectionFactory> tls_factory;  // starts the TLS listener's connections
  detail::UnixSocketFile unix_file;  // removes the socket file when the server is done with it
  std::optional<asio::signal_set> signal_set;
  std::optional<asio::steady_timer> accept_restart;  // worker 0
  std::atomic<bool> stopping{false};
  std::atomic<bool> running{false};
  std::atomic<bool> interrupted{false};
  std::atomic<std::size_t> live{0};
  // Taken by the acceptor at accept time (not by the worker later: a burst would overshoot the
  // limit while the starts wait in the workers' queues), given back by the tracker when the
  // connection ends or by start_connection() when it could not start.
  std::atomic<std::size_t> slots{0};
  std::atomic<std::size_t> limit{default_max_connections};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::size_t> draining_workers{0};
  // Worker 0 only: the accept loop's state across restarts.
  std::chrono::milliseconds restart_delay = min_accept_backoff;
  std::size_t next_worker = 0;  // round robin over the workers, shared by the accept loops
  RefusalLog refusal_log;
  std::atomic<clock::rep> shutdown_began{0};  // for shutdown.completed

  // For events in places that must not throw (completion handlers, catch blocks): a user's
  // logger may throw, and here that would escape io_context::run() and end the server.
  template <class... A>
  void event(LogLevel level, Event e, fmt::format_string<A...> format, A&&... args) noexcept {
    try {
      events.emit(level, e, format, std::forward<A>(args)...);
    } catch (...) {  // nowhere left to report it
    }
  }

  void create_workers() {
    if (!workers.empty()) return;
    for (std::size_t i = 0; i < worker_count; ++i) {
      auto w = std::make_unique<Worker>();
      w->guard.emplace(w->io.get_executor());
      w->tracker.count_into(&live);
      w->tracker.release_slots_into(&slots);
      workers.push_back(std::move(w));
    }
    draining_workers = workers.size();
  }

  // --- accepting -------------------------------------------------------------------------------

  // One per listening socket (TCP, Unix domain, TLS), all on worker 0. Every connection,
  // whichever socket it came through, is a GenericSocket: one compiled actor serves TCP and
  // Unix domain sockets; the TLS listener's factory runs the handshake, then its own actor.
  template <class Acceptor>
  asio::awaitable<void> accept_loop(Acceptor& acceptor, detail::ConnectionFactory& starter) {
    auto backoff = min_accept_backoff;
    asio::steady_timer pause(workers[0]->io);
    while (acceptor.is_open()) {
      Worker& w = *workers[next_worker];
      GenericSocket socket(w.io);
      auto [ec] = co_await acceptor.async_accept(socket, detail::use_nothrow);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      if (ec) {
        // Out of descriptors or memory: back off (doubling) instead of spinning on accept.
        const auto level = is_resource_exhaustion(ec) ? LogLevel::error : LogLevel::warn;
        events.emit(level, Event::accept_failed, "error=\"{}\" retry_in_ms={}", ec.message(), backoff.count());
        pause.expires_after(backoff);
        (void)co_await pause.async_wait(detail::use_nothrow);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, max_accept_backoff);
        continue;
      }
      backoff = restart_delay = min_accept_backoff;
      const detail::ConnectionMetrics* metrics = starter.metrics();
      if (!take_slot()) {
        if (metrics != nullptr) metrics->refused.add();
        refuse(socket);
        continue;
      }
      if (metrics != nullptr) metrics->accepted.add();
      if constexpr (std::is_same_v<Acceptor, asio::ip::tcp::acceptor>) {
        asio::error_code ignored;
        socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // frames are latency-bound
      }
      next_worker = (next_worker + 1) % workers.size();
      hand_over(w, std::move(socket), starter);
    }
  }

  // Only the accept loop takes slots, so checking and then taking cannot overshoot; the
  // workers only ever give slots back.
  bool take_slot() {
    const std::size_t max = limit.load(std::memory_order_relaxed);
    if (max != 0 && slots.load(std::memory_order_relaxed) >= max) return false;
    slots.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  void release_slot() noexcept { slots.fetch_sub(1, std::memory_order_relaxed); }

  // Past the limit: accept and close at once, so the peer reads EOF now rather than hanging in
  // the listen backlog (which is what pausing accept would do).
  void refuse(GenericSocket& socket) {
    refused.fetch_add(1, std::memory_order_relaxed);  // counted before the peer can see EOF
    asio::error_code ignored;
    socket.shutdown(asio::socket_base::shutdown_both, ignored);
    socket.close(ignored);
    refusal_log.note(limit.load(std::memory_order_relaxed), events);
  }

  void hand_over(Worker& w, GenericSocket socket, detail::ConnectionFactory& starter) {
    const ConnectionId id = detail::next_connection_id();
    try {
      asio::post(w.io, [this, &w, id, &starter, s = std::move(socket)]() mutable {
        start_connection(w, id, std::move(s), starter);
      });
    } catch (...) {  // the post could not allocate: the socket went with the lambda
      release_slot();
      throw;
    }
  }

  // Runs on `w`'s thread. The actor's constructor runs user code (it copies the protocol and
  // the fragmentation strategy): whatever it throws must end this connection only, never
  // escape into io_context::run(), which would end the whole worker.
  void start_connection(Worker& w, ConnectionId id, GenericSocket socket, detail::ConnectionFactory& starter) noexcept {
    asio::error_code ignored;
    const auto peer = socket.remote_endpoint(ignored);  // for the log, should start fail
    try {
      starter.start(std::move(socket), w.tracker, id);
    } catch (...) {
      // start() took the socket by value, so it is already closed: the peer reads EOF.
      release_slot();
      // `peer`: read before the socket went to the factory (which closes it when it throws).
      event(LogLevel::error, Event::start_failed, "conn={} peer={} error=\"{}\"", id, detail::peer_name(peer),
            detail::describe_exception(std::current_exception()));
    }
  }

  void spawn_accept_loops() {
    if (acceptor) spawn_accept_loop(*acceptor, *factory);
    if (unix_listener) spawn_accept_loop(*unix_listener, *factory);
    if (tls_acceptor) spawn_accept_loop(*tls_acceptor, *tls_factory);
  }

  template <class Acceptor>
  void spawn_accept_loop(Acceptor& a, detail::ConnectionFactory& starter) {
    asio::co_spawn(workers[0]->io, accept_loop(a, starter), [this, &a, &starter](const std::exception_ptr& e) {
      detail::LogException{"accept loop"}(e);
      if (e) restart_accept_loop(a, starter);
    });
  }

  // The accept loop died by an exception (a throwing logger, an allocation failure): a server
  // that runs but no longer accepts would be the worst outcome, so start it again after a
  // delay that doubles while it keeps failing.
  template <class Acceptor>
  void restart_accept_loop(Acceptor& a, detail::ConnectionFactory& starter) {
    if (stopping || !a.is_open()) return;
    event(LogLevel::warn, Event::accept_failed, "error=\"the accept loop ended\" restart_in_ms={}", restart_delay.count());
    accept_restart->expires_after(restart_delay);
    restart_delay = std::min<std::chrono::milliseconds>(restart_delay * 2, max_accept_backoff);
    accept_restart->async_wait([this, &a, &starter](const asio::error_code& ec) {
      if (!ec && !stopping) spawn_accept_loop(a, starter);
    });
  }

  // --- shutdown --------------------------------------------------------------------------------

  // Runs on worker `w`'s own thread.
  void begin_shutdown(Worker& w) {
    w.tracker.shutdown_all();
    if (w.tracker.size() > 0) {
      w.tracker.on_empty([this, &w] {
        w.deadline.cancel();
        worker_drained(w);
      });
      w.deadline.expires_after(shutdown_timeout);
      w.deadline.async_wait([this, &w](const asio::error_code& ec) {
        if (ec) return;  // every connection ended in time
        events.emit<LogLevel::warn>(Event::shutdown_deadline, "connections={}", w.tracker.size());
        w.tracker.force_close_all();
      });
    } else {
      worker_drained(w);
    }
    w.guard.reset();  // run() may return once the last connection has ended
  }

  // Runs on `w`'s thread. The signal wait stays armed during the drain (so that a second
  // signal is seen) and must end with it, or worker 0's run() would never return.
  void worker_drained(Worker& w) {
    if (w.drained) return;
    w.drained = true;
    if (draining_workers.fetch_sub(1) == 1) {
      const auto began = clock::time_point(clock::duration(shutdown_began.load()));
      event(LogLevel::info, Event::shutdown_completed, "duration_ms={:.3f}",
            std::chrono::duration<double, std::milli>(clock::now() - began).count());
      asio::post(workers[0]->io, [this] {
        asio::error_code ignored;
        if (signal_set) signal_set->cancel(ignored);
      });
    }
  }

  // `signo`: the signal that asked for it (0: WireframeServer::stop()).
  void stop(int signo = 0) {
    if (stopping.exchange(true)) return;
    shutdown_began = clock::now().time_since_epoch().count();
    event(LogLevel::info, Event::shutdown_started, "signal={} connections={}", signo, live.load());
    // Before run() the posts would wait anyway; start() posts them if it sees `stopping`. Both
    // may post (seq_cst guarantees at least one does): begin_shutdown is idempotent.
    if (running) post_shutdown();
  }

  void post_shutdown() {
    asio::post(workers[0]->io, [this] {
      asio::error_code ignored;
      if (acceptor) acceptor->close(ignored);
      if (unix_listener) unix_listener->close(ignored);
      if (tls_acceptor) tls_acceptor->close(ignored);
      unix_file.remove();  // no new client can find the closed socket
      if (accept_restart) accept_restart->cancel();
    });
    for (auto& worker : workers) {
      asio::post(worker->io, [this, &w = *worker] { begin_shutdown(w); });
    }
  }

  // Every connection on every worker, now: the operator asked twice.
  void force_close_all() {
    for (auto& worker : workers) {
      asio::post(worker->io, [&w = *worker] { w.tracker.force_close_all(); });
    }
  }

  // --- signals ---------------------------------------------------------------------------------

  void watch_signals() {
    if (signals.empty()) return;
    signal_set.emplace(workers[0]->io);
    for (int s : signals) signal_set->add(s);
    wait_for_signal();
  }

  void wait_for_signal() {
    signal_set->async_wait([this](const asio::error_code& ec, int signo) {
      if (!ec) on_signal(signo);  // an error: cancelled, the drain is over
    });
  }

  // The first signal starts the graceful drain. One that arrives during the drain (whoever
  // started it) means "now": the operator will not wait for shutdown_timeout.
  void on_signal(int signo) {
    if (!stopping) {
      stop(signo);  // shutdown.started; a second signal closes at once
      wait_for_signal();
      return;
    }
    event(LogLevel::warn, Event::shutdown_interrupted, "signal={} connections={}", signo, live.load());
    interrupted = true;
    force_close_all();
    asio::error_code ignored;
    signal_set->clear(ignored);  // a third signal gets its default action
  }

  void start() {
    if (!acceptor && !unix_listener && !tls_acceptor) {
      throw std::logic_error("wireframe: WireframeServer::run() before bind(), bind_unix() or bind_tls()");
    }
    if (running.exchange(true)) throw std::logic_error("wireframe: WireframeServer runs once");
    accept_restart.emplace(workers[0]->io);
    spawn_accept_loops();
    if (stopping) post_shutdown();  // stop() came between bind() and run()
    watch_signals();
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

WireframeServer& WireframeServer::max_connections(std::size_t n) {
  impl_->limit.store(n, std::memory_order_relaxed);
  return *this;
}

WireframeServer& WireframeServer::bind(const std::string& host, std::uint16_t port) {
  return bind(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));
}

WireframeServer& WireframeServer::bind(const asio::ip::tcp::endpoint& endpoint) {
  impl_->create_workers();
  listen_on(impl_->acceptor.emplace(impl_->workers[0]->io), endpoint);
  return *this;
}

WireframeServer& WireframeServer::bind_tls(const std::string& host, std::uint16_t port, TlsListener listener) {
  return bind_tls(asio::ip::tcp::endpoint(asio::ip::make_address(host), port), std::move(listener));
}

WireframeServer& WireframeServer::bind_tls(const asio::ip::tcp::endpoint& endpoint, TlsListener listener) {
  if (!listener.factory) throw std::invalid_argument("wireframe: bind_tls() needs a listener from tls_listener()");
  impl_->create_workers();
  if (impl_->tls_acceptor) throw std::logic_error("wireframe: bind_tls() once per server");
  listen_on(impl_->tls_acceptor.emplace(impl_->workers[0]->io), endpoint);
  impl_->tls_factory = std::move(listener.factory);
  return *this;
}

WireframeServer& WireframeServer::bind_unix(const std::string& path, std::optional<std::filesystem::perms> permissions) {
  impl_->create_workers();
  if (impl_->unix_listener) throw std::logic_error("wireframe: bind_unix() once per server");
  auto& listener = impl_->unix_listener.emplace(impl_->workers[0]->io);
  impl_->unix_file = detail::UnixSocketFile::bind(listener, path, permissions);
  listener.listen(asio::socket_base::max_listen_connections);
  return *this;
}

const std::string& WireframeServer::unix_path() const noexcept { return impl_->unix_file.path(); }

asio::ip::tcp::endpoint WireframeServer::local_endpoint() const { return bound_address(impl_->acceptor); }

asio::ip::tcp::endpoint WireframeServer::tls_local_endpoint() const { return bound_address(impl_->tls_acceptor); }

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

std::uint64_t WireframeServer::refused_connections() const noexcept {
  return impl_->refused.load(std::memory_order_relaxed);
}

bool WireframeServer::drain_interrupted() const noexcept { return impl_->interrupted.load(); }

}  // namespace wireframe
