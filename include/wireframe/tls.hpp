#pragma once
// wireframe's TLS transport: link wireframe::tls (OpenSSL 3). Not part of wireframe.hpp, so
// that a program without TLS compiles and links no OpenSSL. docs/transports.md.

#include "wireframe/tls/tls_client.hpp"
#include "wireframe/tls/tls_context.hpp"
#include "wireframe/tls/tls_handshake.hpp"
#include "wireframe/tls/tls_listener.hpp"
#include "wireframe/tls/tls_socket.hpp"
#include "wireframe/tls/tls_wire.hpp"
