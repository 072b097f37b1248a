#pragma once
// The TLS handshake of a connection, before its actor starts (server: tls_listener.hpp; client:
// tls_client.hpp): bounded in time, its failure described for the log, its outcome recorded
// as a TlsSession. Part of wireframe::tls.

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "wireframe/detail/asio.hpp"
#include "wireframe/tls/tls_socket.hpp"
#include "wireframe/transport/tls_session.hpp"

namespace wireframe::detail {

// What the handshake negotiated, for ConnectionContext::tls().
std::shared_ptr<const TlsSession> describe_session(SSL* ssl);
// Why a handshake failed, for the log: OpenSSL's reason, and the certificate check's when the
// peer's certificate was refused ("certificate verify failed: unable to get local issuer
// certificate").
std::string describe_handshake_failure(SSL* ssl, const asio::error_code& ec);

// Runs `socket`'s handshake; `done(ec)` when it ends. With a limit, a timer cancels it when the
// limit passes (ec is then asio::error::timed_out). `socket` must outlive the handshake.
template <class Done>
void handshake_within(TlsSocket& socket, asio::ssl::stream_base::handshake_type type,
                      std::chrono::milliseconds limit, Done done) {
  struct State {
    explicit State(TlsSocket::executor_type ex) : timer(std::move(ex)) {}
    asio::steady_timer timer;
    bool ended = false;  // the handshake's handler ran: `socket` may be moved or gone
    bool timed_out = false;
  };
  auto state = std::make_shared<State>(socket.get_executor());
  if (limit.count() > 0) {
    state->timer.expires_after(limit);
    state->timer.async_wait([state, &socket](const asio::error_code& ec) {
      // A timer that expired just as the handshake ended still reports success: `ended` says so.
      if (ec || state->ended) return;
      state->timed_out = true;
      asio::error_code ignored;
      socket.cancel(ignored);
    });
  }
  socket.stream().async_handshake(type, [state, &socket, done = std::move(done)](asio::error_code ec) mutable {
    state->ended = true;
    state->timer.cancel();
    if (state->timed_out) ec = asio::error::timed_out;
    if (!ec) socket.set_session(describe_session(socket.native_handle()));
    done(ec);
  });
}

// The same as an asynchronous operation (completion signature void(asio::error_code)).
template <class Token>
auto async_handshake_within(TlsSocket& socket, asio::ssl::stream_base::handshake_type type,
                            std::chrono::milliseconds limit, Token&& token) {
  return asio::async_initiate<Token, void(asio::error_code)>(
      [](auto handler, TlsSocket* s, asio::ssl::stream_base::handshake_type t, std::chrono::milliseconds l) {
        handshake_within(*s, t, l, std::move(handler));
      },
      token, &socket, type, limit);
}

}  // namespace wireframe::detail
