#include "support/async_test.hpp"

#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace wireframe::test {

void abort_with(const char* why) {
  std::fprintf(stderr, "FATAL: %s\n", why);
  std::abort();
}

}  // namespace wireframe::test

namespace wireframe::test {

asio::awaitable<asio::ip::tcp::socket> raw_connect(const asio::ip::tcp::endpoint& ep) {
  asio::ip::tcp::socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(ep, asio::use_awaitable);
  co_return s;
}

asio::awaitable<void> raw_write(asio::ip::tcp::socket& s, std::span<const std::uint8_t> bytes) {
  co_await asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
}

asio::awaitable<void> raw_write(GenericSocket& s, std::span<const std::uint8_t> bytes) {
  co_await asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
}

std::string unique_socket_path() {
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::temp_directory_path();
  return (dir / ("wf-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".sock")).string();
}

asio::awaitable<std::vector<std::uint8_t>> read_until_closed(asio::ip::tcp::socket& s) {
  std::vector<std::uint8_t> all;
  std::uint8_t buf[4096];
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), detail::use_nothrow);
    all.insert(all.end(), buf, buf + n);
    if (ec) co_return all;
  }
}

}  // namespace wireframe::test
