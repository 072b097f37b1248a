#pragma once
// WireframeClient over TLS. Part of wireframe::tls.
//
//   wireframe::TlsClientFiles files;
//   files.ca_file = "ca.crt";  // + cert_file and key_file for mutual TLS
//   auto tls = wireframe::tls_client_context(files);
//   WireframeClient<> client(co_await asio::this_coro::executor);
//   if (auto ec = co_await wireframe::connect_tls(client, "localhost", 8443, *tls)) ...;
//
// The server's certificate must chain to the context's CAs and name the host (or
// options.server_name, which is also sent as SNI); the handshake must end within
// options.handshake_timeout. Errors are returned: a refused certificate is an OpenSSL error
// (asio::error::get_ssl_category()) whose message says why.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <asio/ssl/host_name_verification.hpp>

#include "wireframe/client/client_stream.hpp"
#include "wireframe/detail/asio.hpp"
#include "wireframe/tls/tls_handshake.hpp"
#include "wireframe/tls/tls_socket.hpp"

namespace wireframe {

struct TlsClientOptions {
  std::string server_name;  // SNI and the name the certificate must carry (default: the host)
  bool verify_host = true;  // check that the certificate names the server
  std::vector<std::string> alpn;  // protocols to offer, preferred first (none: no ALPN)
  std::chrono::milliseconds handshake_timeout{10'000};
};

namespace detail {

class TlsClientStream final : public ClientStream {
 public:
  TlsClientStream(GenericSocket socket, asio::ssl::context& context) : socket_(std::move(socket), context) {}

  TlsSocket& socket() noexcept { return socket_; }

  asio::awaitable<std::tuple<asio::error_code, std::size_t>> read_some(asio::mutable_buffer buffer) override {
    co_return co_await socket_.async_read_some(buffer, use_nothrow);
  }
  asio::awaitable<asio::error_code> write(std::span<const asio::const_buffer> buffers) override {
    auto [ec, n] = co_await asio::async_write(socket_, buffers, use_nothrow);
    co_return ec;
  }
  // The close_notify and the half-close, written now if the socket takes them (it has room
  // unless the server stopped reading), else when the client next writes.
  void shutdown_send() override {
    asio::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  }
  void close() override {
    asio::error_code ignored;
    socket_.close(ignored);
  }
  [[nodiscard]] bool is_open() const override { return socket_.is_open(); }

 private:
  TlsSocket socket_;
};

// SNI, host name check and ALPN, before the handshake. False when OpenSSL refuses them.
bool prepare_client(TlsSocket& socket, const std::string& host, const TlsClientOptions& options, asio::error_code& ec);

}  // namespace detail

// Runs the TLS handshake on `client`'s connected socket; from then on the client speaks through
// TLS. `host` is the name the server's certificate must carry (and the SNI) unless
// options.server_name says otherwise. Connecting and upgrading in place are both this: after a
// plaintext exchange that asked the server for TLS (PostgreSQL's SSLRequest, answered 'S'), call
// it on the same client.
template <class Client>
asio::awaitable<std::error_code> start_tls(Client& client, const std::string& host, asio::ssl::context& context,
                                          const TlsClientOptions& options) {
  auto stream = std::make_unique<detail::TlsClientStream>(std::move(client.socket()), context);
  TlsSocket& socket = stream->socket();
  asio::error_code ec;
  if (!detail::prepare_client(socket, host, options, ec)) co_return ec;
  // The reads and writes after the handshake are non-blocking ones after a readiness wait
  // (tls_socket.hpp): a blocking socket would block them on a partial record.
  socket.non_blocking(true, ec);
  if (ec) co_return ec;
  auto [done] = co_await detail::async_handshake_within(socket, asio::ssl::stream_base::client,
                                                        options.handshake_timeout, detail::use_nothrow);
  if (done) co_return done;
  client.use_stream(std::move(stream));
  co_return std::error_code{};
}

// Connects `client` to host:port over TCP, then start_tls. Returns the first error (resolving,
// connecting, the handshake). Await it at once: it refers to its arguments, as
// WireframeClient::connect does.
template <class Client>
asio::awaitable<std::error_code> connect_tls(Client& client, const std::string& host, std::uint16_t port,
                                            asio::ssl::context& context, const TlsClientOptions& options) {
  if (auto ec = co_await client.connect(host, port)) co_return ec;
  const std::error_code ec = co_await start_tls(client, host, context, options);
  co_return ec;
}

// With the default options. (An overload, not a default argument: g++ 12 relocates a default
// argument's temporary bitwise when the caller is a coroutine, then frees its string twice.)
template <class Client>
asio::awaitable<std::error_code> connect_tls(Client& client, const std::string& host, std::uint16_t port,
                                            asio::ssl::context& context) {
  const TlsClientOptions defaults;
  const std::error_code ec = co_await connect_tls(client, host, port, context, defaults);
  co_return ec;
}

}  // namespace wireframe
