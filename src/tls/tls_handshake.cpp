#include "wireframe/tls/tls_handshake.hpp"

#include <openssl/x509.h>

#include <fmt/format.h>

namespace wireframe::detail {

namespace {

std::string subject_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string subject(data, n > 0 ? static_cast<std::size_t>(n) : 0);
  BIO_free(bio);
  return subject;
}

}  // namespace

std::shared_ptr<const TlsSession> describe_session(SSL* ssl) {
  auto session = std::make_shared<TlsSession>();
  session->version = SSL_get_version(ssl);
  if (const char* cipher = SSL_get_cipher_name(ssl)) session->cipher = cipher;
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) session->server_name = name;
  const unsigned char* alpn = nullptr;
  unsigned int alpn_size = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_size);
  if (alpn != nullptr) session->alpn.assign(reinterpret_cast<const char*>(alpn), alpn_size);
  if (X509* peer = SSL_get1_peer_certificate(ssl)) {
    session->peer_subject = subject_of(peer);
    session->peer_verified = SSL_get_verify_result(ssl) == X509_V_OK;
    X509_free(peer);
  }
  return session;
}

std::string describe_handshake_failure(SSL* ssl, const asio::error_code& ec) {
  if (ec == asio::error::timed_out) return "TLS handshake timed out";
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return fmt::format("TLS handshake failed: {}: {}", ec.message(), X509_verify_cert_error_string(verify));
  }
  return fmt::format("TLS handshake failed: {}", ec.message());
}

}  // namespace wireframe::detail

#include "wireframe/tls/tls_client.hpp"
#include "wireframe/tls/tls_context.hpp"

namespace wireframe::detail {

bool prepare_client(TlsSocket& socket, const std::string& host, const TlsClientOptions& options, asio::error_code& ec) {
  const std::string& name = options.server_name.empty() ? host : options.server_name;
  asio::error_code not_ip;
  (void)asio::ip::make_address(name, not_ip);
  // SNI carries host names only (RFC 6066, 3): never an address.
  if (not_ip && SSL_set_tlsext_host_name(socket.native_handle(), name.c_str()) != 1) {
    ec = asio::error_code(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category());
    return false;
  }
  if (options.verify_host) socket.stream().set_verify_callback(asio::ssl::host_name_verification(name), ec);
  if (ec) return false;
  if (!options.alpn.empty()) {
    std::string wire;
    if (!alpn_wire(options.alpn, wire)) {
      ec = std::make_error_code(std::errc::invalid_argument);
      return false;
    }
    // SSL_set_alpn_protos returns 0 on success (unlike most of OpenSSL).
    if (SSL_set_alpn_protos(socket.native_handle(), reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size())) != 0) {
      ec = asio::error_code(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category());
      return false;
    }
  }
  return true;
}

}  // namespace wireframe::detail
