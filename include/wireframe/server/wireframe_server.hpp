#pragma once
// WireframeServer: runs a built WireframeApp on a pool of workers with graceful shutdown.
//
//   WireframeServer server(app);
//   server.workers(2).bind("127.0.0.1", 0);       // port 0: the OS picks; see local_endpoint()
//   server.run();                                 // blocks until stop() and every connection ended
//
// Each worker is one thread running its own io_context; accepted connections are spread over
// the workers round robin and never migrate. stop() (thread-safe, idempotent) stops accepting,
// lets each connection finish the command in flight, and force-closes whatever is still open
// when shutdown_timeout() expires; run() then returns.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

#include "wireframe/detail/asio.hpp"
#include "wireframe/server/connection_factory.hpp"

namespace wireframe {

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
  // program; the examples use it).
  WireframeServer& stop_on_signals(std::initializer_list<int> signals = {SIGINT, SIGTERM});

  // Opens the listening socket. Throws std::system_error if the address cannot be bound.
  WireframeServer& bind(const std::string& host, std::uint16_t port);
  WireframeServer& bind(const asio::ip::tcp::endpoint& endpoint);

  // The bound address (with the port the OS chose for port 0).
  [[nodiscard]] asio::ip::tcp::endpoint local_endpoint() const;

  // Serves until stop() and every connection has ended. The calling thread becomes worker 0.
  void run();
  // The same as a coroutine: every worker runs on its own thread; completes on the caller's
  // executor once they have all finished.
  asio::awaitable<void> run_async();

  // Thread-safe, idempotent, may be called before run().
  void stop();

  // Live connections right now (any thread).
  [[nodiscard]] std::size_t connection_count() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wireframe
