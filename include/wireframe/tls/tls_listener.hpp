#pragma once
// A TLS listener for WireframeServer: each accepted connection's TLS handshake, then the app's
// actor over the TLS stream (ConnectionActor<App, TlsSocket>). Part of wireframe::tls.
//
//   wireframe::TlsServerFiles files;
//   files.cert_file = "server.crt";
//   files.key_file = "server.key";
//   server.bind_tls("0.0.0.0", 8443,
//                   wireframe::tls_listener(app, wireframe::tls_server_context(files)));
//
// The handshake must end within the app's handshake_timeout (else its read_timeout; with both
// off it is unbounded, as every other wait is then). It is part of the connection's opening
// (server/connection_opening.hpp): tracked like a live connection, holding an admission slot
// (max_connections), ended at once by the server's stop. A failed handshake is logged, with
// OpenSSL's reason, and ends that connection only.
//
// With TlsStart::on_request the connection starts plain and the app's preamble decides: its
// success hook answers PreambleAction::upgrade_tls to run the handshake on the same socket,
// after which the preamble is read again over TLS (PostgreSQL's SSLRequest), or proceeds in
// plain text (the hook can refuse that: PreambleReply::tls_active()).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <asio/ssl/context.hpp>

#include "wireframe/actor/connection_actor.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/log/log.hpp"
#include "wireframe/server/connection_factory.hpp"
#include "wireframe/server/connection_opening.hpp"
#include "wireframe/server/connection_tracker.hpp"
#include "wireframe/server/wireframe_server.hpp"
#include "wireframe/tls/tls_handshake.hpp"
#include "wireframe/tls/tls_socket.hpp"

namespace wireframe {

// When a TLS listener's connections start TLS.
enum class TlsStart {
  immediately,  // the handshake first (the default)
  on_request,   // when the app's preamble asks for it (PreambleAction::upgrade_tls)
};

namespace detail {

// One connection from accept to its actor: the handshake, the preamble, either or both.
template <class App>
class TlsOpening final : public ConnectionOpening {
 public:
  TlsOpening(GenericSocket socket, asio::ssl::context& context, TlsStart start,
             std::shared_ptr<const App> app, ConnectionTracker& tracker, ConnectionId id)
      : ConnectionOpening(socket, tracker, id, app->settings, app->preamble.get(), app->logger.resolve()),
        plain_(std::move(socket)),
        context_(context),
        start_(start),
        app_(std::move(app)) {}

  void start() { begin(); }

 private:
  asio::awaitable<void> run() override {
    if (start_ == TlsStart::immediately) {
      const bool ok = co_await handshake();
      if (!ok) co_return;
      if (!app_->preamble) {
        hand_over<ConnectionActor<App, TlsSocket>>(*tls_, app_, ConnectionPrelude{});
        co_return;
      }
    }
    std::optional<PreambleOutcome> outcome;
    for (;;) {
      if (tls_) {  // if/else, not `?:` around co_await (development.md, compiler traps)
        outcome = co_await read_preamble(*tls_, true, true);
      } else {
        outcome = co_await read_preamble(plain_, true, false);
      }
      if (!outcome) co_return;
      if (outcome->action != PreambleAction::upgrade_tls) break;
      const bool ok = co_await handshake();
      if (!ok) co_return;
    }
    if (tls_) {
      hand_over<ConnectionActor<App, TlsSocket>>(*tls_, app_, std::move(outcome->prelude));
    } else {
      hand_over<ConnectionActor<App>>(plain_, app_, std::move(outcome->prelude));
    }
  }

  // The handshake on the connection's socket (moved into a TlsSocket). False: it failed, logged.
  asio::awaitable<bool> handshake() {
    tls_.emplace(std::move(plain_), context_);
    auto [ec] = co_await async_handshake_within(*tls_, asio::ssl::stream_base::server,
                                                handshake_limit(settings()), use_nothrow);
    if (closed()) co_return false;          // the server's stop closed it: nothing to report
    if (!ec) tls_->non_blocking(true, ec);  // the preamble reads as the actor does (tls_socket.hpp)
    if (ec) report(LogLevel::warn, describe_handshake_failure(tls_->native_handle(), ec));
    co_return !ec;
  }

  void cancel_socket() noexcept override {
    on_socket([](auto& s, asio::error_code& ec) { s.cancel(ec); });
  }
  void close_socket() noexcept override {
    on_socket([](auto& s, asio::error_code& ec) { s.close(ec); });
  }
  // `f` on the socket in use: the TLS one from the handshake on, the plain one before.
  template <class F>
  void on_socket(F f) noexcept {
    asio::error_code ignored;
    if (tls_) return f(*tls_, ignored);
    f(plain_, ignored);
  }

  GenericSocket plain_;           // until the handshake
  std::optional<TlsSocket> tls_;  // from the handshake on
  asio::ssl::context& context_;   // the listener's, which outlives its connections
  TlsStart start_;
  std::shared_ptr<const App> app_;
};

template <class App>
class TlsConnectionFactory final : public ConnectionFactory {
 public:
  TlsConnectionFactory(std::shared_ptr<const App> app, std::shared_ptr<asio::ssl::context> context,
                       TlsStart start)
      : app_(std::move(app)), context_(std::move(context)), start_(start) {}

  void start(GenericSocket socket, ConnectionTracker& tracker, ConnectionId id) override {
    std::make_shared<TlsOpening<App>>(std::move(socket), *context_, start_, app_, tracker, id)
        ->start();
  }

  [[nodiscard]] const ConnectionMetrics* metrics() const noexcept override { return app_->metrics.get(); }
  [[nodiscard]] std::shared_ptr<spdlog::logger> logger() const override { return app_->logger.resolve(); }

 private:
  std::shared_ptr<const App> app_;
  std::shared_ptr<asio::ssl::context> context_;  // shared by every connection of the listener
  TlsStart start_;
};

}  // namespace detail

// The listener WireframeServer::bind_tls takes: `app` over TLS with `context`. TlsStart::on_request
// needs an app with a preamble (std::system_error, errc::invalid_configuration, otherwise).
template <class App>
TlsListener tls_listener(std::shared_ptr<const App> app,
                         std::shared_ptr<asio::ssl::context> context,
                         TlsStart start = TlsStart::immediately) {
  if (start == TlsStart::on_request && !app->preamble) {
    throw std::system_error(make_error_code(errc::invalid_configuration),
                            "TlsStart::on_request: the app has no preamble to request TLS with");
  }
  return TlsListener{std::make_shared<detail::TlsConnectionFactory<App>>(
      std::move(app), std::move(context), start)};
}

}  // namespace wireframe
