#pragma once
// Default frames as raw bytes, for tests that write what a WireframeClient would not (a frame
// in pieces, a flood, a frame behind a preamble in one write); and a bystander's round trip.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <wireframe/wireframe.hpp>

namespace wireframe::test {

// The wire bytes of one default frame (length prefix + envelope), for raw sockets.
inline std::vector<std::uint8_t> frame_bytes(std::uint32_t id, std::uint64_t correlation,
                                             std::size_t payload_size) {
  const Envelope e(id, correlation, std::vector<std::byte>(payload_size, std::byte{'p'}));
  std::vector<std::byte> body(e.encoded_size());
  e.encode_to(body);
  std::vector<std::uint8_t> out(4 + body.size());
  const auto n = static_cast<std::uint32_t>(body.size());
  for (int i = 0; i < 4; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
  std::transform(body.begin(), body.end(), out.begin() + 4,
                 [](std::byte b) { return std::to_integer<std::uint8_t>(b); });
  return out;
}

// One echo round trip on a fresh connection: the server still serves others.
inline asio::awaitable<bool> bystander_served(const asio::ip::tcp::endpoint& ep) {
  WireframeClient<> c(co_await asio::this_coro::executor);
  if (co_await c.connect(ep)) co_return false;
  auto [ec, r] = co_await c.call(Envelope(1, 0, "alive"));
  co_return !ec && r.payload_text() == "alive";
}

}  // namespace wireframe::test
