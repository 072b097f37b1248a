#pragma once
// Events: what wireframe logs, each under a stable name (docs/observability.md lists them), as
// one line of key=value fields:
//
//   connection.closed conn=7 peer=127.0.0.1:40212 reason=read_timed_out duration_ms=5003.1
//
// Levels are gated twice. At run time, by the logger's level. At compile time, as spdlog's own
// SPDLOG_DEBUG and SPDLOG_TRACE macros are: an event below WIREFRAME_ACTIVE_LEVEL is not
// compiled at all. WIREFRAME_ACTIVE_LEVEL is spdlog's SPDLOG_ACTIVE_LEVEL (spdlog's default:
// info) unless defined. The CMake target defines it for the library and everything linking it
// (option WIREFRAME_ACTIVE_LEVEL, default trace: every event compiled in, the logger decides),
// so that the compiled parts and your code agree; the connection actor and PushHandle are
// templates compiled in your translation units, and every one of them must see one value.

#include <cstdint>
#include <string_view>

#include "wireframe/log/log.hpp"

// spdlog's level numbers, defined exactly as spdlog/common.h defines them (an identical
// redefinition is allowed), so that -DSPDLOG_ACTIVE_LEVEL=SPDLOG_LEVEL_INFO works here even
// where spdlog's headers are not included.
#ifndef SPDLOG_LEVEL_TRACE
#define SPDLOG_LEVEL_TRACE 0
#define SPDLOG_LEVEL_DEBUG 1
#define SPDLOG_LEVEL_INFO 2
#define SPDLOG_LEVEL_WARN 3
#define SPDLOG_LEVEL_ERROR 4
#define SPDLOG_LEVEL_CRITICAL 5
#define SPDLOG_LEVEL_OFF 6
#endif

// As spdlog/common.h defines it (an identical definition either way round).
#if !defined(SPDLOG_ACTIVE_LEVEL)
#define SPDLOG_ACTIVE_LEVEL SPDLOG_LEVEL_INFO
#endif

#ifndef WIREFRAME_ACTIVE_LEVEL
#define WIREFRAME_ACTIVE_LEVEL SPDLOG_ACTIVE_LEVEL
#endif

namespace wireframe {

// True when events of `level` are compiled in (LogLevel's trace..error are spdlog's 0..4).
constexpr bool compiled_in(LogLevel level, int active = WIREFRAME_ACTIVE_LEVEL) noexcept {
  return level != LogLevel::off && static_cast<int>(level) >= active;
}

enum class Event : std::uint8_t {
  connection_opened,        // debug: transport
  connection_refused,       // warn: max_connections reached (at most one line a second)
  connection_closed,        // debug (peer left), info (asked to), warn (an error): reason, duration
  connection_fault,         // error: our code or a user object threw outside a handler
  start_failed,             // error: a connection could not start
  opening_failed,           // warn (debug: the peer left): the TLS handshake or the preamble failed
  hook_failed,              // error: a protocol or teardown hook threw
  request_failed,           // warn: a handler threw or returned an error
  request_unknown_id,       // debug: no route for the message id
  backpressure_on,          // debug: reading paused (inbound) or pushes held (outbound)
  backpressure_off,         // debug: and resumed, with how long it lasted
  push_refused,             // debug (the producer has the frame back), warn when dropped
  push_rate_limited,        // debug: the push rate limit refused a push
  push_dead_lettered,       // warn: pushed frames not sent, handed to the dead letter queue
  frame_dropped,            // error: an outbound frame could not be encoded
  reassembly_error,         // warn: a fragmented message was dropped
  reassembly_timeout,       // warn: a message in reassembly waited too long
  timeout_fired,            // info: read, write, idle, read-idle or handshake timeout
  accept_failed,            // warn (error when out of descriptors or memory)
  shutdown_started,         // info: connections being drained
  shutdown_deadline,        // warn: the drain's deadline passed, connections closed hard
  shutdown_interrupted,     // warn: a second signal during the drain, connections closed hard
  shutdown_completed,       // info: every connection ended
};

// The stable name: "connection.closed", "backpressure.on", ...
std::string_view event_name(Event event) noexcept;

}  // namespace wireframe
