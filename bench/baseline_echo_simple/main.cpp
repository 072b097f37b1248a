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
constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

constexpr std::size_t initial_buffer = 16 * 1024;
constexpr std::uint32_t max_body = 8 * 1024 * 1024;
constexpr std::uint32_t header_len = 12;
constexpr std::uint32_t echo_id = 1;

std::uint32_t load_be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

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

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::vector<std::unique_ptr<asio::io_context>>& contexts) {
  std::size_t next = 0;
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    asio::io_context& target = *contexts[next++ % contexts.size()];
    auto [ec, sock] = co_await acceptor.async_accept(target, nothrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {  // e.g. out of file descriptors: back off briefly instead of spinning
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(nothrow);
      continue;
    }
    asio::co_spawn(target, session(std::move(sock)), asio::detached);
  }
}

bool parse(std::string_view text, unsigned long max, unsigned long& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned long port = 7879, workers = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    const std::string_view value = i + 1 < argc ? argv[i + 1] : "";
    bool ok = i + 1 < argc;
    if (flag == "--host") {
      host = value;
    } else if (flag == "--port") {
      ok = ok && parse(value, 65535, port);
    } else if (flag == "--workers") {
      ok = ok && parse(value, 1024, workers) && workers > 0;
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "bench_baseline_echo_simple: bad argument '" << flag
                << "'\nusage: bench_baseline_echo_simple [--host ADDR] [--port N] [--workers N]\n";
      return 2;
    }
    ++i;
  }

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (unsigned long i = 0; i < workers; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
  asio::io_context& main_ctx = *contexts[0];

  tcp::acceptor acceptor(main_ctx);
  try {
    const tcp::endpoint ep(asio::ip::make_address(host), static_cast<std::uint16_t>(port));
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    std::cerr << "bench_baseline_echo_simple: cannot listen on " << host << ":" << port << ": " << e.what() << '\n';
    return 1;
  }
  const auto local = acceptor.local_endpoint();
  if (local.address().is_v6()) {
    std::cout << "listening on [" << local.address().to_string() << "]:" << local.port() << std::endl;
  } else {
    std::cout << "listening on " << local.address().to_string() << ':' << local.port() << std::endl;
  }

  asio::signal_set signals(main_ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int) {
    if (ec) return;
    for (auto& ctx : contexts) ctx->stop();
  });
  asio::co_spawn(main_ctx, accept_loop(acceptor, contexts), asio::detached);

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  for (unsigned long i = 1; i < workers; ++i) {
    guards.push_back(asio::make_work_guard(*contexts[i]));
    threads.emplace_back([&ctx = *contexts[i]] { ctx.run(); });
  }
  main_ctx.run();
  for (auto& ctx : contexts) ctx->stop();
  for (auto& t : threads) t.join();
  return 0;
}
