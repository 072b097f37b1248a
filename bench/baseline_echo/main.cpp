// bench_baseline_echo: the reference for echo_server benchmarks. A hand-written Asio C++20
// coroutine echo server for wireframe's default wire format (u32 big-endian length prefix; body =
// u32 BE message id, u64 BE correlation id, payload), as a skilled engineer tunes it: what
// wireframe must be measured against. Plain Asio only, no wireframe headers. (The first, simpler
// baseline, which copies every reply into an output buffer, is bench/baseline_echo_simple/.)
//
//   bench_baseline_echo [--host ADDR] [--port N] [--workers N]
//
// One io_context per worker thread; one acceptor (on worker 0) hands connections round-robin to
// the workers. Per connection one coroutine: read into a 64 KiB buffer, parse the frames in place,
// echo every complete message-id-1 frame of that read byte for byte with ONE gathered write whose
// buffers point into the read buffer (no copy; other ids are dropped, bodies shorter than the
// 12-byte envelope header or longer than 8 MiB close the connection), then move the partial frame
// at the end to the front (or grow the buffer for a frame larger than it) and read again.
// TCP_NODELAY. Prints "listening on HOST:PORT" as its first stdout line; exits 0 on SIGINT/SIGTERM.
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

// 64 KiB: one read takes in many small frames (fewer system calls under pipelining) and a 16 KiB
// frame whole, without the buffer having to grow.
constexpr std::size_t initial_buffer = 64 * 1024;

asio::awaitable<void> session(tcp::socket sock) {
  asio::error_code ignored;
  sock.set_option(tcp::no_delay(true), ignored);
  std::vector<unsigned char> in(initial_buffer);
  std::vector<asio::const_buffer> out;  // slices of `in`: the replies are the requests' own bytes
  std::size_t have = 0;                 // bytes of `in` holding data
  for (;;) {
    auto [ec, n] =
        co_await sock.async_read_some(asio::buffer(in.data() + have, in.size() - have), nothrow);
    if (ec) co_return;  // EOF or error: the connection is done
    have += n;

    std::size_t pos = 0;   // start of the first frame not yet complete
    std::size_t need = 0;  // its full size, when it is incomplete
    while (have - pos >= 4) {
      const std::uint32_t len = load_be32(in.data() + pos);
      if (len > max_body || len < header_len) co_return;  // broken framing: close
      const std::size_t frame = 4 + std::size_t{len};
      if (have - pos < frame) {
        need = frame;
        break;
      }
      if (load_be32(in.data() + pos + 4) == echo_id) {
        // Echoed frames that follow each other in the buffer make one slice: usually the whole
        // batch is a single buffer, and a dropped id only splits it.
        const unsigned char* start = in.data() + pos;
        if (!out.empty() &&
            static_cast<const unsigned char*>(out.back().data()) + out.back().size() == start) {
          out.back() = asio::const_buffer(out.back().data(), out.back().size() + frame);
        } else {
          out.emplace_back(start, frame);
        }
      }
      pos += frame;
    }

    // The slices point into `in`: it must not be read into, moved or grown until the write is
    // done. So no read overlaps the write (read -> write -> compact -> read): one write in flight
    // per read, which pipelining peers fill with many frames anyway.
    if (!out.empty()) {
      auto [wec, wn] = co_await asio::async_write(sock, out, nothrow);
      if (wec) co_return;
      out.clear();
    }

    // Keep the partial frame: move it to the front, and make room for all of it when it is larger
    // than the buffer (the loop above bounds it to 4 + max_body). Doubling rather than growing to
    // the exact size leaves room for the next frames: a buffer of one large frame would cut every
    // read, and so every write, to one frame.
    if (pos != 0) {
      if (have > pos) std::memmove(in.data(), in.data() + pos, have - pos);
      have -= pos;
    }
    if (need > in.size()) in.resize(std::max(need, 2 * in.size()));
  }
}

}  // namespace

int main(int argc, char** argv) { return bench::plain::run_server(argc, argv, "bench_baseline_echo", session); }
