#pragma once
// The parts of the PostgreSQL frontend/backend protocol (version 3.0) that pg_server speaks:
// message type bytes, the codes of the untyped startup packets, and the limits PostgreSQL
// itself applies. Everything here is from the protocol's documentation ("Frontend/Backend
// Protocol", "Message Formats"); nothing depends on wireframe.

#include <cstddef>
#include <cstdint>

namespace pg {

// --- the untyped packets a connection opens with (the preamble) -----------------------------
// Each is a 32-bit length (itself included) and a 32-bit code; a startup message then has its
// parameters, the others a fixed body.
inline constexpr std::uint32_t protocol_3_0 = 3u << 16;         // StartupMessage, version 3.0
inline constexpr std::uint32_t ssl_request_code = 80877103;     // SSLRequest
inline constexpr std::uint32_t gssenc_request_code = 80877104;  // GSSENCRequest
inline constexpr std::uint32_t cancel_request_code = 80877102;  // CancelRequest
// PostgreSQL refuses a startup packet longer than this (MAX_STARTUP_PACKET_LENGTH).
inline constexpr std::size_t max_startup_packet = 10000;

// --- frontend messages, by type byte (also the router's message ids) -------------------------
enum Frontend : std::uint32_t {
  msg_unsupported = 0,  // any type byte pg_server does not know: refused, then closed
  msg_query = 'Q',
  msg_password = 'p',
  msg_terminate = 'X',
  // The extended query protocol: answered with feature_not_supported until the next Sync.
  msg_parse = 'P',
  msg_bind = 'B',
  msg_describe = 'D',
  msg_execute = 'E',
  msg_close = 'C',
  msg_flush = 'H',
  msg_sync = 'S',
  msg_function_call = 'F',
  msg_copy_data = 'd',
  msg_copy_done = 'c',
  msg_copy_fail = 'f',
};

// --- backend messages -----------------------------------------------------------------------
namespace backend {
inline constexpr char authentication = 'R';
inline constexpr char parameter_status = 'S';
inline constexpr char backend_key_data = 'K';
inline constexpr char ready_for_query = 'Z';
inline constexpr char row_description = 'T';
inline constexpr char data_row = 'D';
inline constexpr char command_complete = 'C';
inline constexpr char empty_query = 'I';
inline constexpr char error_response = 'E';
inline constexpr char notice_response = 'N';
inline constexpr char notification = 'A';
}  // namespace backend

inline constexpr std::int32_t auth_ok = 0;
inline constexpr std::int32_t auth_cleartext_password = 3;

// ReadyForQuery's transaction status.
enum class TxStatus : char { idle = 'I', in_block = 'T', failed = 'E' };

}  // namespace pg
