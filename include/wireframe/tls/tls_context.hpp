#pragma once
// TLS contexts from certificate, key and CA files, the way most servers and clients want them;
// or build your own asio::ssl::context and pass it where these are taken. Part of
// wireframe::tls (OpenSSL). docs/transports.md shows both.
//
//   wireframe::TlsServerFiles files;
//   files.cert_file = "server.crt";
//   files.key_file = "server.key";
//   files.ca_file = "ca.crt";            // to verify client certificates
//   files.require_client_cert = true;    // mutual TLS
//   server.bind_tls("0.0.0.0", 8443, wireframe::tls_listener(app, wireframe::tls_server_context(files)));

#include <memory>
#include <string>
#include <vector>

#include <asio/ssl/context.hpp>

namespace wireframe {

struct TlsServerFiles {
  std::string cert_file;  // PEM: the server's certificate, then its chain
  std::string key_file;   // PEM: its private key
  // PEM: the CAs that client certificates must chain to. With it, a client certificate is asked
  // for and verified when sent; without it, none is asked for.
  std::string ca_file;
  bool require_client_cert = false;  // mutual TLS: a client without a valid certificate is refused
  // ALPN: the protocols this server speaks, preferred first. A client that offers ALPN but
  // none of these is refused (RFC 7301); one that offers none is served.
  std::vector<std::string> alpn;
};

struct TlsClientFiles {
  std::string ca_file;  // PEM: the CAs the server must chain to (empty: the system's store)
  std::string cert_file;  // PEM: this client's certificate, for mutual TLS (optional)
  std::string key_file;
};

// TLS 1.2 or newer, no compression, no renegotiation. Throw std::system_error, naming the file,
// when one cannot be loaded (or the key does not match the certificate).
std::shared_ptr<asio::ssl::context> tls_server_context(const TlsServerFiles& files);
std::shared_ptr<asio::ssl::context> tls_client_context(const TlsClientFiles& files);

namespace detail {
// RFC 7301's wire format (each name preceded by its length byte) into `wire`; false when a name
// is empty or longer than 255 bytes. Shared by set_server_alpn and connect_tls.
bool alpn_wire(const std::vector<std::string>& protocols, std::string& wire);
}  // namespace detail

// ALPN on a server context made elsewhere (tls_server_context does this for TlsServerFiles::alpn).
// The list is copied into `context` and lives as long as it does.
void set_server_alpn(asio::ssl::context& context, const std::vector<std::string>& protocols);

}  // namespace wireframe
