// bench_baseline_echo_simple: the first reference for echo_server benchmarks, kept for comparison
// (the figures in docs/performance.md taken before the strong baseline in bench/baseline_echo/
// replaced it). A minimal hand-written Asio C++20 coroutine echo server for wireframe's default
// wire format (u32 big-endian length prefix; body = u32 BE message id, u64 BE correlation id,
// payload), as a skilled engineer writes it in an afternoon. Plain Asio only, no wireframe headers.
//
//   bench_baseline_echo_simple [--host ADDR] [--port N] [--workers N]
//
// One io_context per worker thread; one acceptor (on worker 0) hands connections round-robin to
// the workers. Per connection one coroutine: read into a reused 16 KiB buffer (the size of
// wireframe's default read chunk; grown only when a frame does not fit), take every complete frame
// in it, echo message id 1 byte for byte (same id, correlation id and payload; other ids are
// dropped, bodies shorter than the 12-byte envelope header or longer than 8 MiB close the
// connection), gather all replies of one read into one buffer and write it once. TCP_NODELAY.
// Prints "listening on HOST:PORT" as its first stdout line; exits 0 on SIGINT/SIGTERM.
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include "../common/plain_echo_server.hpp"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using asio::ip::tcp;
using bench::plain::nothrow;
using bench::plain::max_body;
using bench::plain::header_len;
using bench::plain::echo_id;
using bench::plain::load_be32;

constexpr std::size_t initial_buffer = 16 * 1024;

asio::awaitable<void> session(tcp::socket sock) {
  asio::error_code ignored;
  sock.set_option(tcp::no_delay(true), ignored);
  std::vector<unsigned char> in(initial_buffer);
  std::vector<unsigned char> out;
  std::size_t have = 0;
  for (;;) {
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(in.data() + have, in.size() - have), nothrow);
    if (ec) co_return;  // EOF or error: the connection is done
    have += n;

    std::size_t pos = 0;
    std::size_t need = 0;  // size of an incomplete frame that does not fit the buffer
    while (have - pos >= 4) {
      const std::uint32_t len = load_be32(in.data() + pos);
      if (len > max_body || len < header_len) co_return;  // broken framing: close
      const std::size_t frame = 4 + std::size_t{len};
      if (have - pos < frame) {
        if (frame > in.size()) need = frame;
        break;
      }
      if (load_be32(in.data() + pos + 4) == echo_id) {
        out.insert(out.end(), in.data() + pos, in.data() + pos + frame);
      }
      pos += frame;
    }
    if (pos != 0) {
      if (have > pos) std::memmove(in.data(), in.data() + pos, have - pos);
      have -= pos;
    }
    if (need != 0) in.resize(std::max(need, 2 * in.size()));

    if (!out.empty()) {
      auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(out), nothrow);
      if (wec) co_return;
      out.clear();
    }
  }
}

}  // namespace

int main(int argc, char** argv) { return bench::plain::run_server(argc, argv, "bench_baseline_echo_simple", session); }
