#pragma once
// wireframe's own error codes for the I/O path (codec, actor, server, client). They are
// std::error_codes of one category, so they compose with asio::error_code and errno values.

#include <system_error>

namespace wireframe {

enum class errc {
  frame_too_large = 1,   // a prefix announced more than the codec's maximum frame length
  truncated_frame,       // the peer closed the stream in the middle of a frame
  malformed_frame,       // a frame's bytes do not form a valid packet (e.g. envelope too short)
  malformed_message,     // a payload does not decode as the requested typed message
  unknown_message_id,    // no route for the message id (reported when the policy is `error_frame`)
  handler_failed,        // a handler threw or its stream failed
  connection_closed,     // the connection ended before the operation could complete
  timed_out,             // a deadline expired
  shutting_down,         // the server or connection is shutting down
  invalid_configuration, // a builder was given contradictory or out-of-range settings
  duplicate_route,       // WireframeApp::route was given the same id twice
  queue_full,            // a push queue had no room and the caller would not wait
  rate_limited,          // the connection's push rate limit refused the frame
  read_timed_out,        // a frame was not complete within read_timeout of its first byte
  write_timed_out,       // a write made no progress for write_timeout (the peer does not read)
  idle_timed_out,        // nothing was read or written for idle_timeout
  handshake_timed_out,   // the first frame was not complete within handshake_timeout
  output_limit_exceeded, // a response would take the queued outbound bytes past max_outbound_bytes
  too_many_connections,  // the server was at max_connections
  corrupt_frame,         // a frame failed a frame processor's integrity check (e.g. a checksum)
  preamble_invalid,      // the preamble's decoder refused the bytes (WireframeApp::with_preamble)
  preamble_too_large,    // no preamble within the decoder's max_size() bytes
  preamble_timed_out,    // the preamble was not complete within preamble_timeout
  read_idle_timed_out,   // nothing was read for read_idle_timeout
  closed_by_request,     // PushHandle::close() asked the connection to end
};

const std::error_category& wireframe_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), wireframe_category()};
}

}  // namespace wireframe

template <>
struct std::is_error_code_enum<wireframe::errc> : std::true_type {};
