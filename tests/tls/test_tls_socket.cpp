// TlsSocket's contract with the connection actor (tls/tls_socket.hpp), on a real TCP pair whose
// socket buffers are small, so that the kernel fills up at once:
//  - a write_some that reports every byte written has left no ciphertext behind
//    (output_pending() is false); otherwise it reported fewer, and the rest follows;
//  - a reader that, after a short read_some, waits for readiness (async_wait) never misses
//    plaintext already inside the TLS layer.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "tls_fixture.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_tls_socket_cpp {  // this file's names, apart from the other files of a unity build

namespace {

constexpr int small_buffer = 4096;

std::uint8_t pattern(std::size_t i) { return static_cast<std::uint8_t>((i * 7 + i / 251) & 0xff); }

// A connected pair of TlsSockets on 127.0.0.1, both handshaken, both non-blocking.
struct TlsPair {
  explicit TlsPair(asio::io_context& io)
      : server_context(tls::server_context()),
        client_context(tls::client_context()),
        acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::ip::tcp::socket client_raw(io);
    client_raw.open(asio::ip::tcp::v4());
    client_raw.set_option(asio::socket_base::send_buffer_size(small_buffer));
    client_raw.connect(acceptor.local_endpoint());
    asio::ip::tcp::socket server_raw = acceptor.accept();
    server_raw.set_option(asio::socket_base::receive_buffer_size(small_buffer));
    sender.emplace(GenericSocket(io, asio::generic::stream_protocol(AF_INET, IPPROTO_TCP), client_raw.release()),
                   *client_context);
    receiver.emplace(GenericSocket(io, asio::generic::stream_protocol(AF_INET, IPPROTO_TCP), server_raw.release()),
                     *server_context);
    int done = 0;
    asio::error_code client_ec, server_ec;
    detail::handshake_within(*sender, asio::ssl::stream_base::client, 5s, [&](asio::error_code ec) {
      client_ec = ec;
      ++done;
    });
    detail::handshake_within(*receiver, asio::ssl::stream_base::server, 5s, [&](asio::error_code ec) {
      server_ec = ec;
      ++done;
    });
    io.run_for(10s);
    io.restart();
    REQUIRE(done == 2);
    REQUIRE_FALSE(client_ec);
    REQUIRE_FALSE(server_ec);
    asio::error_code ec;
    sender->non_blocking(true, ec);
    receiver->non_blocking(true, ec);
    REQUIRE_FALSE(ec);
  }

  std::shared_ptr<asio::ssl::context> server_context;
  std::shared_ptr<asio::ssl::context> client_context;
  asio::ip::tcp::acceptor acceptor;
  std::optional<TlsSocket> sender;
  std::optional<TlsSocket> receiver;
};

}  // namespace

TEST_CASE("TlsSocket: a write reported whole leaves nothing behind, what it holds back follows, and a reader "
          "waiting for readiness misses nothing",
          "[tls][unit]") {
  asio::io_context io;
  TlsPair pair(io);
  TlsSocket& sender = *pair.sender;
  TlsSocket& receiver = *pair.receiver;
  constexpr std::size_t chunk = 100;  // small records: the kernel fills up in the middle of one
  std::size_t written = 0;            // bytes write_some reported
  std::size_t short_at = 0;           // where the short write happened (0: none)
  for (int calls = 0; calls < 100'000; ++calls) {  // until the kernel takes no more
    std::uint8_t data[chunk];
    for (std::size_t i = 0; i < chunk; ++i) data[i] = pattern(written + i);
    asio::error_code ec;
    const std::size_t n = sender.write_some(asio::buffer(data), ec);
    if (ec == asio::error::would_block) break;
    REQUIRE_FALSE(ec);
    written += n;
    if (n < chunk) {
      short_at = written;
      break;
    }
    REQUIRE_FALSE(sender.output_pending());  // the contract: reported whole means sent
  }
  REQUIRE(written > 0);
  // The rest of a short chunk goes out when the socket is writable again, as the actor does it.
  const std::size_t expected = short_at != 0 ? written - written % chunk + chunk : written;
  std::vector<std::uint8_t> rest;
  for (std::size_t i = written; i < expected; ++i) rest.push_back(pattern(i));
  bool rest_written = rest.empty();
  std::function<void()> write_rest = [&] {
    sender.async_write_some(asio::buffer(rest.data() + (written - short_at), rest.size() - (written - short_at)),
                            [&](asio::error_code ec, std::size_t n) {
                              REQUIRE_FALSE(ec);
                              written += n;
                              if (written < expected) return write_rest();
                              rest_written = !sender.output_pending();
                            });
  };
  if (!rest.empty()) write_rest();

  // The receiver reads the actor's way: read_some until it comes back short, then a readiness
  // wait. After a full read (its buffer is smaller than what the TLS layer holds after a read
  // from the socket) it goes on in turn synchronously, after async_wait, or with
  // async_read_some: neither may wait for the socket while plaintext waits inside TLS.
  std::vector<std::uint8_t> received;
  bool read_all = false;
  int full_reads = 0;
  std::uint8_t buf[1000];
  std::function<void()> read_loop;
  std::function<void(asio::error_code, std::size_t)> on_read = [&](asio::error_code ec, std::size_t n) {
    received.insert(received.end(), buf, buf + n);
    if (received.size() >= expected) {
      read_all = true;
      return;
    }
    if (ec == asio::error::would_block || (!ec && n < sizeof buf)) {
      return receiver.async_wait(asio::socket_base::wait_read, [&](asio::error_code wec) {
        if (!wec) read_loop();
      });
    }
    REQUIRE_FALSE(ec);
    switch (full_reads++ % 3) {
      case 0: return read_loop();
      case 1:
        return receiver.async_wait(asio::socket_base::wait_read, [&](asio::error_code wec) {
          if (!wec) read_loop();
        });
      default:
        return receiver.async_read_some(asio::buffer(buf), [&](asio::error_code rec, std::size_t rn) {
          on_read(rec, rn);
        });
    }
  };
  read_loop = [&] {
    asio::error_code ec;
    const std::size_t n = receiver.read_some(asio::buffer(buf), ec);
    on_read(ec, n);
  };
  read_loop();
  io.run_for(10s);
  INFO("written " << written << " of " << expected << ", short write at " << short_at << ", received " << received.size());
  CHECK(rest_written);
  REQUIRE(read_all);
  REQUIRE(received.size() == expected);
  for (std::size_t i = 0; i < received.size(); ++i) {
    if (received[i] != pattern(i)) FAIL("byte " << i << " differs");
  }
}

}  // namespace test_tls_socket_cpp
