#pragma once
// How the examples print an endpoint.

#include <string>

#include <wireframe/detail/asio.hpp>

namespace example {

// "127.0.0.1:7878" or "[::1]:7878": the form the "listening on" line uses.
inline std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + addr + "]" : addr) + ":" + std::to_string(ep.port());
}

}  // namespace example
