#pragma once
// ClientStream: a byte stream WireframeClient reads and writes in place of its own socket, for
// transports layered over a socket (TLS: tls/tls_client.hpp installs one with
// WireframeClient::use_stream). A client is not on a hot path: one virtual call per read or
// write is nothing next to the system call behind it.

#include <cstddef>
#include <span>
#include <tuple>

#include "wireframe/detail/asio.hpp"

namespace wireframe {

class ClientStream {
 public:
  virtual ~ClientStream() = default;
  virtual asio::awaitable<std::tuple<asio::error_code, std::size_t>> read_some(asio::mutable_buffer buffer) = 0;
  // All of `buffers`, or an error.
  virtual asio::awaitable<asio::error_code> write(std::span<const asio::const_buffer> buffers) = 0;
  // The orderly end of sending (TLS: close_notify, then the TCP half-close).
  virtual void shutdown_send() = 0;
  virtual void close() = 0;
  [[nodiscard]] virtual bool is_open() const = 0;
};

}  // namespace wireframe
