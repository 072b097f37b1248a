#pragma once
// The TLS flags the example servers and echo_client take, listed under "TLS" in --help, their
// checks, and what they change:
//
//   servers:  --tls-cert FILE --tls-key FILE [--tls-ca FILE]
//             listen with TLS on --port instead of plain TCP; with --tls-ca, every client must
//             present a certificate signed by that CA (mutual TLS)
//   clients:  --tls | --tls-ca FILE, and --tls-cert FILE --tls-key FILE for mutual TLS
//
// TLS lives in the wireframe::tls library (OpenSSL). examples/CMakeLists.txt links it and
// defines WIREFRAME_EXAMPLES_TLS when it is built. Without it the flags are still recognised,
// so that using one says "built without TLS" rather than that the flag is unknown.
//
// The rules between the flags (a certificate needs its key, no TLS over --unix) and loading the
// files are prepare_server()/prepare_client()'s, after the parse: a file that does not load
// exits 1, like any other failure to start, not 2 as a bad flag does.

#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <CLI/CLI.hpp>
#include <wireframe/wireframe.hpp>
#ifdef WIREFRAME_EXAMPLES_TLS
#include <wireframe/tls.hpp>
#endif

#include "cli.hpp"
#include "endpoint_text.hpp"

namespace example {

class TlsFlags {
 public:
  // add_*_flags() bind the flags to this object: it must outlive the parse.
  // `port_flag`: the flag that names the port TLS listens on (mqtt_broker has a TLS port of its
  // own beside the plain one).
  void add_server_flags(CLI::App& app, const std::string& port_flag = "--port") {
    add_file(app, "--tls-cert", cert_, "listen with TLS on " + port_flag + ", with this certificate (PEM)");
    add_file(app, "--tls-key", key_, "the certificate's private key (PEM); needed with --tls-cert");
    add_file(app, "--tls-ca", ca_,
             "mutual TLS: REQUIRE client certificates signed by this CA (PEM)");
  }
  void add_client_flags(CLI::App& app) {
    app.add_flag("--tls", system_trust_, "connect with TLS, trusting the system's CAs")
        ->group("TLS");
    add_file(app, "--tls-ca", ca_,
             "connect with TLS, trusting this CA (PEM) for the server's certificate");
    add_file(app, "--tls-cert", cert_,
             "this client's certificate (PEM), for servers that require one");
    add_file(app, "--tls-key", key_, "its private key (PEM); needed with --tls-cert");
  }

  [[nodiscard]] bool enabled() const {
    return system_trust_ || !cert_.empty() || !key_.empty() || !ca_.empty();
  }

  // "tls:" over TLS: what the "listening on" line and error messages put before HOST:PORT.
  [[nodiscard]] std::string prefix() const { return enabled() ? "tls:" : ""; }

  // After the flags are parsed: 0 when they make sense and their files load (or TLS is off);
  // else prints why and returns the exit status (2: flags that do not go together, 1: a file
  // that does not load, or a program built without TLS).
  int prepare_server(std::string_view program, bool unix_socket) {
    if (!enabled()) return 0;
    if (unix_socket) return complain(program, "TLS listens on TCP (--port), not on --unix", 2);
    if (cert_.empty() || key_.empty())
      return complain(program, "TLS needs both --tls-cert and --tls-key", 2);
    return load(program, true);
  }
  int prepare_client(std::string_view program, bool unix_socket) {
    if (!enabled()) return 0;
    if (unix_socket) return complain(program, "TLS connects over TCP (--port), not over --unix", 2);
    if (cert_.empty() != key_.empty())
      return complain(program, "--tls-cert and --tls-key go together", 2);
    return load(program, false);
  }

  // How a TLS listener starts its connections: with the handshake, or in plain text until the
  // app's preamble asks for TLS (PostgreSQL's SSLRequest: pg_server).
  enum class Start { immediately, on_request };

  // Listens on host:port: with TLS when the flags ask for it, plain TCP otherwise.
  template <class AppPtr>
  void bind(wireframe::WireframeServer& server, [[maybe_unused]] const AppPtr& app,
            const std::string& host, std::uint16_t port, [[maybe_unused]] Start start = Start::immediately) const {
#ifdef WIREFRAME_EXAMPLES_TLS
    if (context_) {
      const auto how = start == Start::on_request ? wireframe::TlsStart::on_request : wireframe::TlsStart::immediately;
      return (void)server.bind_tls(host, port, wireframe::tls_listener(app, context_, how));
    }
#endif
    server.bind(host, port);
  }

  // The address bind() listens on.
  [[nodiscard]] asio::ip::tcp::endpoint bound(const wireframe::WireframeServer& server) const {
    return enabled() ? server.tls_local_endpoint() : server.local_endpoint();
  }

  // "127.0.0.1:7878" or "tls:127.0.0.1:7878": the address bind() listens on.
  [[nodiscard]] std::string bound_text(const wireframe::WireframeServer& server) const {
    return prefix() + endpoint_text(bound(server));
  }

  // Connects `client` to host:port: with TLS (handshake included) when the flags ask for it.
  template <class Client>
  asio::awaitable<std::error_code> connect(Client& client, const std::string& host,
                                           std::uint16_t port) const {
#ifdef WIREFRAME_EXAMPLES_TLS
    if (context_) {
      const std::error_code ec = co_await wireframe::connect_tls(client, host, port, *context_);
      co_return ec;
    }
#endif
    const std::error_code ec = co_await client.connect(host, port);
    co_return ec;
  }

 private:
  static void add_file(CLI::App& app, const char* flag, std::string& file, const std::string& what) {
    app.add_option(flag, file, what)->type_name("FILE")->check(non_empty())->group("TLS");
  }

  static int complain(std::string_view program, std::string_view why, int status) {
    std::cerr << program << ": " << why << '\n';
    return status;
  }

#ifdef WIREFRAME_EXAMPLES_TLS
  // A missing or unreadable file, or a key that does not match its certificate, throws a
  // std::system_error naming the file.
  int load(std::string_view program, bool server) {
    try {
      context_ = server ? server_context() : client_context();
      return 0;
    } catch (const std::exception& e) {
      return complain(program, std::string("cannot set up TLS: ") + e.what(), 1);
    }
  }

  [[nodiscard]] std::shared_ptr<asio::ssl::context> server_context() const {
    wireframe::TlsServerFiles files;  // field by field: g++ 12 warns on designated initializers
    files.cert_file = cert_;
    files.key_file = key_;
    files.ca_file = ca_;
    files.require_client_cert = !ca_.empty();
    return wireframe::tls_server_context(files);
  }
  [[nodiscard]] std::shared_ptr<asio::ssl::context> client_context() const {
    wireframe::TlsClientFiles files;
    files.ca_file = ca_;  // empty (--tls alone): the system's CAs
    files.cert_file = cert_;
    files.key_file = key_;
    return wireframe::tls_client_context(files);
  }

  std::shared_ptr<asio::ssl::context> context_;  // set by prepare_*() when TLS is on
#else
  static int load(std::string_view program, bool) {
    return complain(program, "built without TLS (wireframe::tls needs OpenSSL 3)", 1);
  }
#endif

  std::string cert_, key_, ca_;
  bool system_trust_ = false;  // --tls
};

}  // namespace example
