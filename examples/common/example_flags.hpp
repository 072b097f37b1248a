#pragma once
// What every example program shares: reading flag values and printing an endpoint. (A folder
// without a main.cpp: examples/CMakeLists.txt builds no program from it.)

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <wireframe/detail/asio.hpp>

namespace example {

// A whole unsigned decimal number of at most `max` (no sign, no trailing characters).
template <class T>
bool parse(std::string_view text, std::type_identity_t<T> max, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out <= max;
}

// An IPv4 or IPv6 address literal.
inline bool valid_address(const std::string& text) {
  asio::error_code ec;
  (void)asio::ip::make_address(text, ec);
  return !ec;
}

// "127.0.0.1:7878" or "[::1]:7878": the form the "listening on" line uses.
inline std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + addr + "]" : addr) + ":" + std::to_string(ep.port());
}

}  // namespace example
