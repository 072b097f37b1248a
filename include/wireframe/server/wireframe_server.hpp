#pragma once
// WireframeServer: runs a built WireframeApp on a pool of workers with graceful shutdown.
//
//   WireframeServer server(app);
//   server.workers(2).bind("127.0.0.1", 0);       // port 0: the OS picks; see local_endpoint()
//   server.bind_unix("/run/app.sock");            // also (or only) a Unix domain socket
//   server.run();                                 // blocks until stop() and every connection ended
//
// Each worker is one thread running its own io_context; accepted connections are spread over
// the workers round robin and never migrate. stop() (thread-safe, idempotent) stops accepting,
// lets each connection finish the command in flight, and force-closes whatever is still open
// when shutdown_timeout() expires; run() then returns.
//
// Hardening: at most max_connections() connections live at once (default 10000); a task that
// throws (a connection's start, the accept loop) is logged and contained; with
// stop_on_signals(), a second signal during the graceful drain closes everything at once.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include "wireframe/detail/asio.hpp"
#include "wireframe/server/connection_factory.hpp"

namespace wireframe {

// What bind_tls() takes: made by tls_listener(app, context) (tls/tls_listener.hpp, in the
// wireframe::tls library), so that a server without TLS needs no OpenSSL.
struct TlsListener {
  std::shared_ptr<detail::ConnectionFactory> factory;
};

class WireframeServer {
 public:
  template <class App>
  explicit WireframeServer(std::shared_ptr<const App> app)
      : WireframeServer(std::unique_ptr<detail::ConnectionFactory>(
            std::make_unique<detail::AppConnectionFactory<App>>(std::move(app)))) {}

  explicit WireframeServer(std::unique_ptr<detail::ConnectionFactory> factory);
  ~WireframeServer();
  WireframeServer(const WireframeServer&) = delete;
  WireframeServer& operator=(const WireframeServer&) = delete;

  // Number of worker threads (default: std::thread::hardware_concurrency()). Before bind().
  WireframeServer& workers(std::size_t n);
  // How long stop() waits for connections to finish before closing them (default 5 s).
  WireframeServer& shutdown_timeout(std::chrono::milliseconds timeout);
  // Calls stop() when one of these signals arrives while the server runs (for servers run as a
  // program; the examples use it). Before run(). A signal that arrives while the graceful drain
  // is under way (after the first signal, or after stop()) does not wait for shutdown_timeout:
  // every connection on every worker is force-closed at once, run() returns as soon as they
  // have ended, and drain_interrupted() is true. A third signal then gets the signal's default
  // action. Convention (the examples follow it): a program whose drain was interrupted exits
  // with status 130 (128 + SIGINT), like a shell job killed by Ctrl-C; otherwise with 0.
  WireframeServer& stop_on_signals(std::initializer_list<int> signals = {SIGINT, SIGTERM});

  // The most connections served at once (default 10000; 0 = unlimited). Counted when a
  // connection is accepted, freed when it has ended. A connection beyond the limit is accepted
  // and closed at once: the peer reads EOF immediately, and the server logs a warning (at most
  // one per second, with the number refused). Why not stop accepting instead: the kernel would
  // keep completing handshakes into the listen backlog, and those clients would hang with no
  // answer at all. Connections already served are never affected. May be called at any time;
  // it applies from the next accepted connection (lowering it closes nobody).
  WireframeServer& max_connections(std::size_t n);

  // Opens the listening socket. Throws std::system_error if the address cannot be bound.
  WireframeServer& bind(const std::string& host, std::uint16_t port);
  WireframeServer& bind(const asio::ip::tcp::endpoint& endpoint);
  // Listens on a Unix domain socket at `path` as well as (or instead of) TCP; once per server.
  // A socket file left by a server that died is replaced; a live server's socket, or a file
  // that is not a socket, makes this throw std::system_error. The file gets `permissions` when
  // given (else what the umask leaves), and is removed when the server stops or is destroyed.
  // Connections through it run the same app: ConnectionContext::transport() tells them apart.
  WireframeServer& bind_unix(const std::string& path, std::optional<std::filesystem::perms> permissions = {});
  // The Unix socket's path (empty without bind_unix, or once removed).
  [[nodiscard]] const std::string& unix_path() const noexcept;

  // Listens for TLS connections as well (or only), once per server: each connection's TLS
  // handshake (bounded by the app's handshake_timeout, else its read_timeout), then the app
  // over TLS. docs/transports.md.
  WireframeServer& bind_tls(const std::string& host, std::uint16_t port, TlsListener listener);
  WireframeServer& bind_tls(const asio::ip::tcp::endpoint& endpoint, TlsListener listener);

  // The bound address (with the port the OS chose for port 0).
  [[nodiscard]] asio::ip::tcp::endpoint local_endpoint() const;
  // The TLS listener's address.
  [[nodiscard]] asio::ip::tcp::endpoint tls_local_endpoint() const;

  // Serves until stop() and every connection has ended. The calling thread becomes worker 0.
  void run();
  // The same as a coroutine: every worker runs on its own thread; completes on the caller's
  // executor once they have all finished.
  asio::awaitable<void> run_async();

  // Thread-safe, idempotent, may be called before run().
  void stop();

  // Live connections right now (any thread).
  [[nodiscard]] std::size_t connection_count() const noexcept;
  // Connections closed at once because max_connections() was reached, since the server was
  // made (any thread).
  [[nodiscard]] std::uint64_t refused_connections() const noexcept;
  // True when a second signal cut the graceful drain short (stop_on_signals()): connections
  // were force-closed rather than allowed to finish. Read it after run() returned.
  [[nodiscard]] bool drain_interrupted() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wireframe
