#include "wireframe/tls/tls_context.hpp"

#include <openssl/ssl.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace wireframe {

namespace {

// Where set_server_alpn keeps the list: in the SSL_CTX itself, freed with it.
int alpn_index() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* p, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(p);
      });
  return index;
}

int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  const auto* wire = static_cast<const std::string*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), alpn_index()));
  if (wire == nullptr) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* selected = nullptr;
  const int r = SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(wire->data()),
                                      static_cast<unsigned int>(wire->size()), in, inlen);
  if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_ALERT_FATAL;  // no protocol in common
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// asio throws system_error with OpenSSL's reason; say which file it was about.
template <class F>
void load(const char* what, const std::string& file, F&& f) {
  asio::error_code ec;
  f(ec);
  if (ec) throw std::system_error(ec, std::string("wireframe: cannot load TLS ") + what + " '" + file + "'");
}

std::shared_ptr<asio::ssl::context> make_context(asio::ssl::context::method method) {
  auto context = std::make_shared<asio::ssl::context>(method);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression |
                       SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  return context;
}

void load_identity(asio::ssl::context& context, const std::string& cert, const std::string& key) {
  load("certificate", cert, [&](asio::error_code& ec) { context.use_certificate_chain_file(cert, ec); });
  // OpenSSL refuses a key that does not match the certificate loaded before it ("key values
  // mismatch"), so this also catches a key and certificate that are not a pair.
  load("private key", key, [&](asio::error_code& ec) { context.use_private_key_file(key, asio::ssl::context::pem, ec); });
}

}  // namespace

namespace detail {

bool alpn_wire(const std::vector<std::string>& protocols, std::string& wire) {
  wire.clear();
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) return false;
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  return true;
}

}  // namespace detail

void set_server_alpn(asio::ssl::context& context, const std::vector<std::string>& protocols) {
  auto wire = std::make_unique<std::string>();
  if (!detail::alpn_wire(protocols, *wire)) {
    throw std::invalid_argument("wireframe: ALPN protocol names are 1 to 255 bytes");
  }
  SSL_CTX* ctx = context.native_handle();
  delete static_cast<std::string*>(SSL_CTX_get_ex_data(ctx, alpn_index()));
  SSL_CTX_set_ex_data(ctx, alpn_index(), wire.release());
  SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr);
}

std::shared_ptr<asio::ssl::context> tls_server_context(const TlsServerFiles& files) {
  auto context = make_context(asio::ssl::context::tls_server);
  load_identity(*context, files.cert_file, files.key_file);
  if (!files.ca_file.empty()) {
    load("CA file", files.ca_file, [&](asio::error_code& ec) { context->load_verify_file(files.ca_file, ec); });
    auto mode = asio::ssl::verify_peer;
    if (files.require_client_cert) mode |= asio::ssl::verify_fail_if_no_peer_cert;
    context->set_verify_mode(mode);
  } else if (files.require_client_cert) {
    throw std::invalid_argument("wireframe: require_client_cert needs a CA file to verify clients against");
  }
  if (!files.alpn.empty()) set_server_alpn(*context, files.alpn);
  return context;
}

std::shared_ptr<asio::ssl::context> tls_client_context(const TlsClientFiles& files) {
  auto context = make_context(asio::ssl::context::tls_client);
  if (files.ca_file.empty()) context->set_default_verify_paths();
  else load("CA file", files.ca_file, [&](asio::error_code& ec) { context->load_verify_file(files.ca_file, ec); });
  context->set_verify_mode(asio::ssl::verify_peer);
  if (!files.cert_file.empty()) load_identity(*context, files.cert_file, files.key_file);
  return context;
}

}  // namespace wireframe
