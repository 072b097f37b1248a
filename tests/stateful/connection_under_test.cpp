#include "stateful/connection_under_test.hpp"

namespace wireframe::stateful {

std::pair<GenericSocket, GenericSocket> OverLoopback::connect(asio::io_context& io) {
  using Protocol = asio::generic::stream_protocol;
  const asio::ip::tcp::endpoint any_port(asio::ip::address_v4::loopback(), 0);
  asio::basic_socket_acceptor<Protocol> acceptor(io, Protocol::endpoint(any_port));
  GenericSocket client(io);
  client.connect(acceptor.local_endpoint());
  GenericSocket server(io);
  acceptor.accept(server);
  // Small buffers: a peer that stops reading stalls the writer after a few KiB, not a few MiB.
  server.set_option(asio::socket_base::send_buffer_size(8 * 1024));
  client.set_option(asio::socket_base::receive_buffer_size(8 * 1024));
  return {std::move(server), std::move(client)};
}

}  // namespace wireframe::stateful
