#pragma once
// TlsSession: what a TLS connection negotiated, for handlers and hooks
// (ConnectionContext::tls()). Plain data, so that the core library needs no OpenSSL: the TLS
// layer (wireframe::tls, tls/) fills it in once the handshake has succeeded.

#include <string>

namespace wireframe {

struct TlsSession {
  std::string version;       // "TLSv1.3"
  std::string cipher;        // "TLS_AES_256_GCM_SHA384"
  std::string server_name;   // the name the client asked for (SNI), if any
  std::string alpn;          // the application protocol agreed on (ALPN), if any
  std::string peer_subject;  // the peer certificate's subject, if it sent one ("CN=client,O=...")
  bool peer_verified = false;  // it sent one, and it verified against the trusted CAs
};

}  // namespace wireframe
