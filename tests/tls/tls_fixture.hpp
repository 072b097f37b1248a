#pragma once
// What the TLS tests share: certificates made for this test process (by
// tests/support/make_test_certs.sh, with Debian's openssl), contexts made from them, a TLS
// transport policy for the transport checks (support/transport_checks.hpp), and a log capture
// for the reasons the server gives.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <wireframe/tls.hpp>

#include "support/log_capture.hpp"
#include "support/transport_checks.hpp"

namespace wireframe::test::tls {

// The directory holding this process's certificates (made on first use, removed at exit).
const std::string& cert_dir();
inline std::string cert(const std::string& name) { return cert_dir() + "/" + name; }

inline std::shared_ptr<asio::ssl::context> server_context(const std::string& identity = "server",
                                                          bool require_client_cert = false,
                                                          std::vector<std::string> alpn = {}) {
  TlsServerFiles files;
  files.cert_file = cert(identity + ".crt");
  files.key_file = cert(identity + ".key");
  files.ca_file = cert("ca.crt");
  files.require_client_cert = require_client_cert;
  files.alpn = std::move(alpn);
  return tls_server_context(files);
}

// Trusts the test CA; with `identity`, presents that certificate (mutual TLS).
inline std::shared_ptr<asio::ssl::context> client_context(const std::string& identity = "") {
  TlsClientFiles files;
  files.ca_file = cert("ca.crt");
  if (!identity.empty()) {
    files.cert_file = cert(identity + ".crt");
    files.key_file = cert(identity + ".key");
  }
  return tls_client_context(files);
}

// Client options naming the server and offering ALPN protocols.
inline TlsClientOptions client_options(std::string server_name, std::vector<std::string> alpn = {}) {
  TlsClientOptions options;
  options.server_name = std::move(server_name);
  options.alpn = std::move(alpn);
  return options;
}

// The name the test server's certificate carries. A named string, never a literal, where a
// coroutine takes a std::string reference: g++ 12 mishandles a temporary std::string in a
// co_await expression (docs/development.md, compiler traps).
inline const std::string localhost = "localhost";

// The transport checks over TLS: the fixture's server also listens for TLS.
struct ViaTls {
  static constexpr bool unix_socket = false;
  template <class App>
  static void bind(WireframeServer& server, std::shared_ptr<const App> app) {
    server.bind_tls("127.0.0.1", 0, tls_listener(std::move(app), server_context()));
  }
  static asio::awaitable<std::error_code> connect(WireframeClient<>& client, ServerFixture& fx) {
    const auto context = client_context();
    const std::error_code ec = co_await connect_tls(client, localhost, fx.server().tls_local_endpoint().port(), *context);
    co_return ec;
  }
  static void check_peer(std::string_view seen) { CHECK(seen.starts_with("tls TLSv1.3 127.0.0.1:")); }
};

using test::LogCapture;

}  // namespace wireframe::test::tls
