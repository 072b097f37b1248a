#pragma once
// StartupDecoder: the wireframe PreambleDecoder for what a PostgreSQL connection opens with,
// before any typed message: a StartupMessage (protocol version and parameters: user, database,
// application_name, ...), or an SSLRequest / GSSENCRequest (answered with one byte, then the
// client sends its StartupMessage), or a CancelRequest (a second connection asking the server
// to cancel the query running on another; no answer, the connection closes).
//
// Each packet is a 32-bit length (itself included), a 32-bit code and a body. The decoder keeps
// no state (one serves every connection from every worker) and refuses, with PostgreSQL's own
// words, a length outside 8..10000 bytes or a startup message whose parameters are not
// NUL-terminated pairs.

#include <wireframe/preamble/preamble_decoder.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pg_protocol.hpp"

namespace pg {

struct StartupPacket {
  enum class Kind { startup, ssl_request, gssenc_request, cancel_request };
  Kind kind = Kind::startup;
  std::uint32_t version = 0;  // startup: major << 16 | minor
  std::vector<std::pair<std::string, std::string>> parameters;  // startup, in the order sent
  std::int32_t cancel_pid = 0;     // cancel_request
  std::int32_t cancel_secret = 0;  // cancel_request

  // A startup parameter's value, or "" when the client did not send it.
  [[nodiscard]] std::string_view parameter(std::string_view name) const;
};

struct StartupDecoder {
  using value_type = StartupPacket;
  [[nodiscard]] std::size_t max_size() const noexcept { return max_startup_packet; }
  [[nodiscard]] wireframe::PreambleResult<StartupPacket> decode(std::span<const std::byte> bytes) const;
};

static_assert(wireframe::PreambleDecoder<StartupDecoder>);

}  // namespace pg
