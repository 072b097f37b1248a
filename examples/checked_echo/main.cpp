// checked_echo: a frame processor of your own, server and client in one program
// (docs/getting-started.md, "Frame processors"). Every wire frame carries a CRC-32C of its body
// (crc32c_check.hpp), added by `.with_processor(Crc32cCheck{})` under the app's fragmentation,
// so each fragment of a large message is checked on its own.
//
//   1. a client of the same stack echoes a short message and a 1 MiB one (33 fragments);
//   2. a raw socket sends one frame with a flipped bit: the server closes that connection
//      (errc::corrupt_frame, logged and reported through the protocol's handle_error hook);
//   3. the first client's connection is untouched and still echoes.
// Exits 0 when all three happened as described.
#include <wireframe/wireframe.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../common/run_bounded.hpp"
#include "crc32c_check.hpp"

using namespace wireframe;
using namespace std::chrono_literals;
using example::Crc32cCheck;

namespace {

constexpr std::uint32_t echo_id = 1;

// Counts the integrity failures the connections report.
struct CorruptionCounter {
  using hooks = protocol_hooks<hook::handle_error>;
  std::shared_ptr<std::atomic<int>> corrupt = std::make_shared<std::atomic<int>>(0);
  void handle_error(const WireframeError<NoProtocolError>& e,
                    ProtocolContext<NoConnectionState>&) const {
    if (e.is_io() && e.io_error() == errc::corrupt_frame) ++*corrupt;
  }
};

auto make_app(const CorruptionCounter& counter) {
  auto echo = [](Envelope& request) -> Response<Envelope> { return std::move(request); };
  return WireframeApp<>()
      .route(echo_id, echo)
      .with_processor(Crc32cCheck{})     // nearest the codec: one checksum per wire frame
      .with_fragmentation(LenFlag32K())  // above it: large messages split into checked fragments
      .with_protocol(counter)
      .build();
}

using Client = WireframeClient<LengthDelimitedCodec, Envelope, Crc32cCheck>;

// One length-prefixed frame whose CRC is right for the body before one bit was flipped.
std::vector<std::byte> corrupted_frame() {
  const Envelope request(echo_id, 9, std::string_view("checked"));
  std::vector<std::byte> body(request.encoded_size() + Crc32cCheck::checksum_size);
  request.encode_to(std::span(body).first(request.encoded_size()));
  Crc32cCheck{}.outbound(body);
  body[body.size() / 2] ^= std::byte{0x04};
  std::vector<std::byte> wire(4 + body.size());  // the codec's 4-byte big-endian length first
  const auto n = static_cast<std::uint32_t>(body.size());
  for (std::size_t i = 0; i < 4; ++i) wire[i] = std::byte(n >> (24 - 8 * i));
  std::copy(body.begin(), body.end(), wire.begin() + 4);
  return wire;
}

asio::awaitable<bool> echoes(Client& client, std::size_t bytes) {
  const Envelope request(echo_id, 0, std::vector<std::byte>(bytes, std::byte{'x'}));
  auto [ec, reply] = co_await client.call(request);
  const bool ok = !ec && reply.payload().size() == bytes;
  std::cout << fmt::format("  echo of {} bytes: {}\n", bytes,
                           ok ? "ok" : "FAILED: " + ec.message());
  co_return ok;
}

}  // namespace

int main() {
  set_log_level(LogLevel::error);  // the demo prints what matters itself
  const CorruptionCounter counter;
  WireframeServer server(make_app(counter));
  server.workers(1).shutdown_timeout(2s).bind("127.0.0.1", 0);
  std::thread server_thread([&] { server.run(); });

  asio::io_context io;
  bool good_before = false, rejected = false, good_after = false;
  auto session = [&]() -> asio::awaitable<void> {
    Client client(io.get_executor());
    client.with_fragmentation(LenFlag32K());
    if (co_await client.connect(server.local_endpoint())) co_return;
    std::cout << "1. a client with the same stack\n";
    good_before = (co_await echoes(client, 5)) && (co_await echoes(client, 1024 * 1024));

    std::cout << "2. a raw frame with one bit flipped after its checksum was computed\n";
    asio::ip::tcp::socket raw(io.get_executor());
    co_await raw.async_connect(server.local_endpoint(), asio::use_awaitable);
    const auto wire = corrupted_frame();
    co_await asio::async_write(raw, asio::buffer(wire), asio::use_awaitable);
    std::array<std::byte, 64> sink;
    auto [ec, n] = co_await raw.async_read_some(asio::buffer(sink), detail::use_nothrow);
    rejected = ec == asio::error::eof && n == 0 && counter.corrupt->load() == 1;
    std::cout << fmt::format("  server closed the connection: {} (corrupt frames reported: {})\n",
                             ec ? ec.message() : "no", counter.corrupt->load());

    std::cout << "3. the first connection is untouched\n";
    good_after = co_await echoes(client, 64);
  };
  std::optional<std::string> failure;
  example::run_bounded(io, session, 20s, failure);
  server.stop();
  server_thread.join();
  if (failure) std::cout << *failure << '\n';
  const bool ok = good_before && rejected && good_after && !failure;
  std::cout << (ok ? "checked_echo: ok\n" : "checked_echo: FAILED\n");
  return ok ? 0 : 1;
}
