#pragma once
// WireframeError<E>: what a handler, a stream or a protocol hook reports. `Io` carries a
// std::error_code from the transport or codec; `Protocol` carries the protocol's own typed E.
// Keeping the two apart lets a protocol decide how to answer its own errors while transport
// failures always close the connection.

#include <fmt/format.h>

#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "wireframe/error/errc.hpp"

namespace wireframe {

// The protocol error type for apps that have none of their own.
struct NoProtocolError {
  friend bool operator==(NoProtocolError, NoProtocolError) = default;
};

template <class E>
class WireframeError {
 public:
  using protocol_error_type = E;

  static WireframeError io(std::error_code ec) { return WireframeError(std::in_place_index<0>, ec); }
  static WireframeError protocol(E e) {
    return WireframeError(std::in_place_index<1>, std::move(e));
  }

  [[nodiscard]] bool is_io() const noexcept { return value_.index() == 0; }
  [[nodiscard]] bool is_protocol() const noexcept { return value_.index() == 1; }

  // Precondition: is_io() / is_protocol() respectively.
  [[nodiscard]] const std::error_code& io_error() const { return std::get<0>(value_); }
  [[nodiscard]] const E& protocol_error() const { return std::get<1>(value_); }

  friend bool operator==(const WireframeError&, const WireframeError&) = default;

 private:
  template <std::size_t I, class... A>
  explicit WireframeError(std::in_place_index_t<I> i, A&&... a) : value_(i, std::forward<A>(a)...) {}

  std::variant<std::error_code, E> value_;
};

template <class E>
WireframeError<E> io_error(std::error_code ec) {
  return WireframeError<E>::io(ec);
}

template <class E>
WireframeError<std::decay_t<E>> protocol_error(E&& e) {
  return WireframeError<std::decay_t<E>>::protocol(std::forward<E>(e));
}

}  // namespace wireframe

template <>
struct fmt::formatter<wireframe::NoProtocolError> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(wireframe::NoProtocolError, Ctx& ctx) const {
    return fmt::formatter<fmt::string_view>::format("protocol error", ctx);
  }
};

// Formats as "io: <category>:<value> <message>" or "protocol: <E>"; E is formatted with its own
// fmt::formatter when it has one, else printed as "protocol error".
template <class E>
struct fmt::formatter<wireframe::WireframeError<E>> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }

  template <class Ctx>
  auto format(const wireframe::WireframeError<E>& err, Ctx& ctx) const {
    if (err.is_io()) {
      const auto& ec = err.io_error();
      return fmt::format_to(ctx.out(), "io: {}:{} {}", ec.category().name(), ec.value(),
                            ec.message());
    }
    if constexpr (fmt::is_formattable<E>::value) {
      return fmt::format_to(ctx.out(), "protocol: {}", err.protocol_error());
    } else {
      return fmt::format_to(ctx.out(), "protocol: protocol error");
    }
  }
};
