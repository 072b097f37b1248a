#pragma once
// The transports a connection can run over, and what the connection actor needs of one.
//
// The actor is a template over its socket type (ConnectionActor<App, Socket>). A StreamSocket
// is an Asio stream socket the actor can drive with non-blocking reads and writes and readiness
// waits. TCP and Unix domain sockets share one: asio::generic::stream_protocol::socket, which
// holds a stream socket of any address family. Their system calls are the same, so one
// compiled actor serves both, and a server that also listens on a Unix socket compiles
// nothing more. docs/transports.md describes the transports.

#include <sys/socket.h>

#include <concepts>
#include <cstddef>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "wireframe/detail/asio.hpp"

#include <asio/generic/stream_protocol.hpp>
#include <asio/local/stream_protocol.hpp>

namespace wireframe {

// How a connection reached the server (ConnectionContext::transport()). `memory`: a
// MemorySocket (transport/memory_socket.hpp), in tests.
enum class Transport { tcp, unix_domain, memory };

// Both ends' address of a MemorySocket: it has none.
struct MemoryEndpoint {
  friend bool operator==(const MemoryEndpoint&, const MemoryEndpoint&) = default;
};

// The socket of a TCP or Unix domain connection.
using GenericSocket = asio::generic::stream_protocol::socket;

template <class S>
concept StreamSocket = requires(S& s, const S& cs, asio::mutable_buffer in, asio::const_buffer out, asio::error_code& ec) {
  typename S::endpoint_type;
  s.get_executor();
  { s.read_some(in, ec) } -> std::same_as<std::size_t>;
  { s.write_some(out, ec) } -> std::same_as<std::size_t>;
  s.non_blocking(true, ec);
  s.shutdown(asio::socket_base::shutdown_send, ec);
  s.cancel(ec);
  s.close(ec);
  { cs.available(ec) } -> std::convertible_to<std::size_t>;
  { cs.remote_endpoint(ec) } -> std::same_as<typename S::endpoint_type>;
  { cs.local_endpoint(ec) } -> std::same_as<typename S::endpoint_type>;
};

namespace detail {

// Bytes of the largest operation the connection actor keeps pending on a socket of this type,
// for the slot it keeps it in (actor/handler_slot.hpp). A socket type whose operations are
// larger says so by specialising this (tls/tls_socket.hpp does).
template <class S>
inline constexpr std::size_t operation_slot_size = 232;

// A connection's two ends as ConnectionContext keeps them (no allocation: a context is part of
// every connection's one block).
struct ConnectionAddresses {
  Transport transport = Transport::tcp;
  asio::ip::tcp::endpoint peer;   // TCP only
  asio::ip::tcp::endpoint local;  // TCP only
};

// A generic endpoint as its specific type (tcp::endpoint or local::stream_protocol::endpoint).
template <class Endpoint>
Endpoint as_specific(const asio::generic::stream_protocol::endpoint& ep) {
  Endpoint out;
  if (ep.size() <= out.capacity()) {
    std::memcpy(out.data(), ep.data(), ep.size());
    out.resize(ep.size());
  }
  return out;
}

inline std::string describe(const asio::ip::tcp::endpoint& ep) {
  const auto address = ep.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), ep.port());
  return fmt::format("{}:{}", address.to_string(), ep.port());
}
// The peer for people (logs): "127.0.0.1:4242", "[::1]:4242", "unix" (a Unix domain
// socket's client is normally unnamed) or "memory".
inline std::string peer_name(Transport transport, const asio::ip::tcp::endpoint& peer) {
  switch (transport) {
    case Transport::tcp: return describe(peer);
    case Transport::unix_domain: return "unix";
    case Transport::memory: break;
  }
  return "memory";
}
inline std::string peer_name(const asio::generic::stream_protocol::endpoint& peer) {
  if (peer.protocol().family() == AF_UNIX) return "unix";
  return describe(as_specific<asio::ip::tcp::endpoint>(peer));
}

inline ConnectionAddresses addresses_of(const asio::generic::stream_protocol::endpoint& peer,
                                        const asio::generic::stream_protocol::endpoint& local) {
  if (local.protocol().family() == AF_UNIX) return {Transport::unix_domain, {}, {}};
  return {Transport::tcp, as_specific<asio::ip::tcp::endpoint>(peer), as_specific<asio::ip::tcp::endpoint>(local)};
}
inline ConnectionAddresses addresses_of(const asio::ip::tcp::endpoint& peer, const asio::ip::tcp::endpoint& local) {
  return {Transport::tcp, peer, local};
}
inline ConnectionAddresses addresses_of(const MemoryEndpoint&, const MemoryEndpoint&) {
  return {Transport::memory, {}, {}};
}

}  // namespace detail
}  // namespace wireframe
