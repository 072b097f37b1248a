// WireframeError<E>: Io vs Protocol, equality, fmt output; and wireframe's error category.

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <string>
#include <system_error>
#include <type_traits>

#include "wireframe/error/errc.hpp"
#include "wireframe/error/wireframe_error.hpp"

namespace test_wireframe_error_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::errc;
using wireframe::NoProtocolError;
using wireframe::WireframeError;

namespace {

// A protocol's own error type, with its own formatter (below).
struct BadRequest {
  int code = 0;
  friend bool operator==(const BadRequest&, const BadRequest&) = default;
};

// A protocol error type without a formatter.
struct Opaque {
  int n = 0;
};

}  // namespace

}  // namespace test_wireframe_error_cpp

template <>
struct fmt::formatter<test_wireframe_error_cpp::BadRequest> : fmt::formatter<int> {
  template <class Ctx>
  auto format(const test_wireframe_error_cpp::BadRequest& e, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "bad request #{}", e.code);
  }
};

namespace test_wireframe_error_cpp {

TEST_CASE("an Io error carries its error_code") {
  const auto err = WireframeError<BadRequest>::io(errc::frame_too_large);
  CHECK(err.is_io());
  CHECK_FALSE(err.is_protocol());
  CHECK(err.io_error() == errc::frame_too_large);
  CHECK(err.io_error().category() == wireframe::wireframe_category());
}

TEST_CASE("a Protocol error carries the protocol's value") {
  const auto err = WireframeError<BadRequest>::protocol(BadRequest{400});
  CHECK(err.is_protocol());
  CHECK_FALSE(err.is_io());
  CHECK(err.protocol_error().code == 400);
}

TEST_CASE("the free helpers build the same errors") {
  const auto io = wireframe::io_error<BadRequest>(errc::timed_out);
  CHECK(io == WireframeError<BadRequest>::io(errc::timed_out));

  const auto proto = wireframe::protocol_error(BadRequest{7});
  static_assert(std::is_same_v<decltype(proto), const WireframeError<BadRequest>>);
  CHECK(proto == WireframeError<BadRequest>::protocol(BadRequest{7}));
}

TEST_CASE("equality compares kind and value") {
  using E = WireframeError<BadRequest>;
  CHECK(E::io(errc::timed_out) == E::io(errc::timed_out));
  CHECK_FALSE(E::io(errc::timed_out) == E::io(errc::shutting_down));
  // Same value, different category: different errors.
  CHECK_FALSE(
      E::io(errc::frame_too_large) ==
      E::io(std::error_code(static_cast<int>(errc::frame_too_large), std::generic_category())));
  CHECK(E::protocol(BadRequest{1}) == E::protocol(BadRequest{1}));
  CHECK_FALSE(E::protocol(BadRequest{1}) == E::protocol(BadRequest{2}));
  CHECK_FALSE(E::io(errc::timed_out) == E::protocol(BadRequest{1}));
}

TEST_CASE("an Io error formats with its category, value and message") {
  const auto err = WireframeError<BadRequest>::io(errc::frame_too_large);
  const std::string s = fmt::format("{}", err);
  CHECK(s == "io: wireframe:1 frame exceeds the maximum frame length");

  const auto sys =
      WireframeError<NoProtocolError>::io(std::make_error_code(std::errc::connection_reset));
  const std::string t = fmt::format("{}", sys);
  CHECK(t.find("io: generic:") == 0);
  CHECK(t.find(std::make_error_code(std::errc::connection_reset).message()) != std::string::npos);
}

TEST_CASE("a Protocol error formats with the protocol type's own formatter") {
  CHECK(fmt::format("{}", WireframeError<BadRequest>::protocol(BadRequest{404})) ==
        "protocol: bad request #404");
}

TEST_CASE("a Protocol error without a formatter still formats") {
  CHECK(fmt::format("{}", WireframeError<Opaque>::protocol(Opaque{3})) ==
        "protocol: protocol error");
}

TEST_CASE("NoProtocolError is comparable and formattable") {
  CHECK(NoProtocolError{} == NoProtocolError{});
  CHECK(fmt::format("{}", NoProtocolError{}) == "protocol error");
  using E = WireframeError<NoProtocolError>;
  CHECK(E::protocol({}) == E::protocol({}));
  CHECK(fmt::format("{}", E::protocol({})) == "protocol: protocol error");
  CHECK(fmt::format("{}", E::io(errc::connection_closed)) == "io: wireframe:7 connection closed");
}

TEST_CASE("every wireframe errc has its own message in the wireframe category") {
  const auto& cat = wireframe::wireframe_category();
  CHECK(std::string(cat.name()) == "wireframe");
  CHECK(cat.message(0) == "unknown wireframe error");
  std::string previous;
  for (int v = static_cast<int>(errc::frame_too_large);
       v <= static_cast<int>(errc::duplicate_route); ++v) {
    const std::error_code ec = static_cast<errc>(v);
    CAPTURE(v);
    CHECK(ec);  // no errc is "success"
    CHECK(&ec.category() == &cat);
    CHECK(ec.message() != "unknown wireframe error");
    CHECK(ec.message() != previous);
    previous = ec.message();
  }
}

}  // namespace test_wireframe_error_cpp
