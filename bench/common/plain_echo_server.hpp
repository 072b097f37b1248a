#pragma once
// What the hand-written baseline echo servers share, around their per-connection session: the
// flags (--host, --port, --workers), one io_context per worker thread, the acceptor on worker 0
// handing connections round-robin to the workers, the "listening on HOST:PORT" first line and a
// clean exit on SIGINT/SIGTERM. Plain Asio only, no wireframe headers: the baselines are what a
// user would write without the library.

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <charconv>
#include <csignal>
#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bench::plain {

using asio::ip::tcp;
using Session = asio::awaitable<void> (*)(tcp::socket);
inline constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

// The wire format both baselines parse: a 4-byte big-endian length, then the envelope (message id
// 4, correlation id 8, payload). wireframe's default cap on a body: all servers refuse the same
// frames.
inline constexpr std::uint32_t max_body = 8 * 1024 * 1024;
inline constexpr std::uint32_t header_len = 12;
inline constexpr std::uint32_t echo_id = 1;

inline std::uint32_t load_be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

inline asio::awaitable<void> accept_loop(tcp::acceptor& acceptor,
                                         std::vector<std::unique_ptr<asio::io_context>>& contexts,
                                         Session session) {
  std::size_t next = 0;
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    asio::io_context& target = *contexts[next++ % contexts.size()];
    auto [ec, sock] = co_await acceptor.async_accept(target, asio::experimental::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {  // e.g. out of file descriptors: back off briefly instead of spinning
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      continue;
    }
    asio::co_spawn(target, session(std::move(sock)), asio::detached);
  }
}

inline bool parse(std::string_view text, unsigned long max, unsigned long& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out <= max;
}

// The whole program around `session`: parses the flags, listens, serves until a signal.
// `name` is the program's, for its messages.
inline int run_server(int argc, char** argv, const char* name, Session session) {
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
      std::cerr << name << ": bad argument '" << flag << "'\nusage: " << name
                << " [--host ADDR] [--port N] [--workers N]\n";
      return 2;
    }
    ++i;
  }

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (unsigned long i = 0; i < workers; ++i)
    contexts.push_back(std::make_unique<asio::io_context>(1));
  asio::io_context& main_ctx = *contexts[0];

  tcp::acceptor acceptor(main_ctx);
  try {
    const tcp::endpoint ep(asio::ip::make_address(host), static_cast<std::uint16_t>(port));
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    std::cerr << name << ": cannot listen on " << host << ":" << port << ": " << e.what()
              << '\n';
    return 1;
  }
  const auto local = acceptor.local_endpoint();
  if (local.address().is_v6()) {
    std::cout << "listening on [" << local.address().to_string() << "]:" << local.port()
              << std::endl;
  } else {
    std::cout << "listening on " << local.address().to_string() << ':' << local.port() << std::endl;
  }

  asio::signal_set signals(main_ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int) {
    if (ec) return;
    for (auto& ctx : contexts) ctx->stop();
  });
  asio::co_spawn(main_ctx, accept_loop(acceptor, contexts, session), asio::detached);

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

}  // namespace bench::plain
