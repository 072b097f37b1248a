#pragma once
// A TLS listener for WireframeServer: each accepted connection's TLS handshake, then the app's
// actor over the TLS stream (ConnectionActor<App, TlsSocket>). Part of wireframe::tls.
//
//   wireframe::TlsServerFiles files;
//   files.cert_file = "server.crt";
//   files.key_file = "server.key";
//   server.bind_tls("0.0.0.0", 8443, wireframe::tls_listener(app, wireframe::tls_server_context(files)));
//
// The handshake must end within the app's handshake_timeout (else its read_timeout; with both
// off it is unbounded, as every other wait is then). A connection in its handshake holds an
// admission slot (max_connections) and is tracked like a live one: stopping the server ends
// the handshakes at once (nothing of them is in flight). A failed handshake is logged, with
// OpenSSL's reason, and ends that connection only.

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include <asio/ssl/context.hpp>

#include "wireframe/actor/connection_actor.hpp"
#include "wireframe/log/log.hpp"
#include "wireframe/server/connection_factory.hpp"
#include "wireframe/server/connection_tracker.hpp"
#include "wireframe/server/wireframe_server.hpp"
#include "wireframe/tls/tls_handshake.hpp"
#include "wireframe/tls/tls_socket.hpp"

namespace wireframe {

namespace detail {

// How long a TLS handshake may take under these settings (zero: unbounded).
inline std::chrono::milliseconds handshake_limit(const ConnectionSettings& s) noexcept {
  return s.handshake_timeout.count() > 0 ? s.handshake_timeout : s.read_timeout;
}

// One connection between accept and its actor: tracked, so that shutdown reaches it.
template <class App>
class TlsHandshake final : public TrackedConnection, public std::enable_shared_from_this<TlsHandshake<App>> {
 public:
  TlsHandshake(GenericSocket socket, asio::ssl::context& context, std::shared_ptr<const App> app,
               ConnectionTracker& tracker, ConnectionId id)
      : socket_(std::move(socket), context), app_(std::move(app)), tracker_(tracker), id_(id) {
    asio::error_code ignored;
    peer_ = peer_name(socket_.lowest().remote_endpoint(ignored));
  }

  void start() {
    tracker_.add(*this);  // may call shutdown() at once: the server is stopping
    handshake_within(socket_, asio::ssl::stream_base::server, handshake_limit(app_->settings),
                     [self = this->shared_from_this()](const asio::error_code& ec) { self->done(ec); });
  }

  // Nothing is in flight before the handshake ends: both just close.
  void shutdown() override { close(); }
  void force_close() override { close(); }

 private:
  void close() noexcept {
    closed_ = true;
    asio::error_code ignored;
    socket_.close(ignored);
  }

  void done(asio::error_code ec) noexcept {
    if (closed_) ec = asio::error::operation_aborted;  // shutdown closed it: nothing to report
    if (ec) return fail(ec);
    try {
      ConnectionActor<App, TlsSocket>::launch(std::move(socket_), app_, id_, tracker_);
    } catch (...) {
      const auto e = std::current_exception();
      warn([&] { return "could not start: " + describe_exception(e); });
      return tracker_.remove(*this);
    }
    tracker_.transfer(*this);  // the actor holds the connection's slot now
  }

  void fail(const asio::error_code& ec) noexcept {
    if (ec != asio::error::operation_aborted) {
      warn([&] { return describe_handshake_failure(socket_.native_handle(), ec); });
    }
    close();
    tracker_.remove(*this);
  }

  template <class Describe>
  void warn(Describe describe) noexcept {
    try {
      log(LogLevel::warn, "connection {} ({}): {}", id_, peer_, describe());
    } catch (...) {  // the logger failed: nowhere left to report it
    }
  }

  TlsSocket socket_;
  std::shared_ptr<const App> app_;
  ConnectionTracker& tracker_;
  ConnectionId id_;
  std::string peer_;
  bool closed_ = false;
};

template <class App>
class TlsConnectionFactory final : public ConnectionFactory {
 public:
  TlsConnectionFactory(std::shared_ptr<const App> app, std::shared_ptr<asio::ssl::context> context)
      : app_(std::move(app)), context_(std::move(context)) {}

  void start(GenericSocket socket, ConnectionTracker& tracker, ConnectionId id) override {
    std::make_shared<TlsHandshake<App>>(std::move(socket), *context_, app_, tracker, id)->start();
  }

 private:
  std::shared_ptr<const App> app_;
  std::shared_ptr<asio::ssl::context> context_;  // shared by every connection of the listener
};

}  // namespace detail

// The listener WireframeServer::bind_tls takes: `app` over TLS with `context`.
template <class App>
TlsListener tls_listener(std::shared_ptr<const App> app, std::shared_ptr<asio::ssl::context> context) {
  return TlsListener{std::make_shared<detail::TlsConnectionFactory<App>>(std::move(app), std::move(context))};
}

}  // namespace wireframe
