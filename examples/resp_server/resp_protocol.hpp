#pragma once
// RESP2 request syntax, shared by RespCodec (which only finds where a request ends) and
// RespPacket (which copies its arguments out). One scanner, two sinks: the codec's discards the
// arguments, the packet's keeps them, so the two can never disagree on what a request is.
//
// A request is either
//   - a multibulk: "*<n>\r\n" then n bulk strings "$<len>\r\n<len bytes>\r\n"
//     (n <= 0 is an empty request, which Redis ignores), or
//   - an inline command: one line of words ending in "\r\n" or "\n" (split by RespPacket, with
//     Redis's quoting rules).
// Every declared number is checked against the limits as soon as its digits are readable, so
// a peer announcing a huge bulk or array is refused before any of it is buffered.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>

namespace resp {

inline constexpr std::size_t MiB = 1024 * 1024;

struct Limits {
  // Largest bulk string (one argument), like Redis's proto-max-bulk-len.
  std::size_t max_bulk_length = 512 * MiB;
  // Most arguments in one multibulk request. Lower than Redis's (2^31 - 1) on purpose: the
  // codec is stateless, so while a request arrives it is rescanned from its start on every read
  // (see RespCodec), at a cost proportional to the arguments seen so far. This cap bounds that
  // work per read (measured on the 2-core test machine: a 64 MiB DEL of 65535 keys of 1 KiB
  // costs 2 s of CPU; a 7 MB DEL of 10^6 one-byte keys 0.9 s).
  std::size_t max_array_elements = 64 * 1024;
  // Longest inline command line (Redis's PROTO_INLINE_MAX_SIZE).
  std::size_t max_inline_length = 64 * 1024;
  // Largest request in all (headers included), like Redis's client-query-buffer-limit. This is
  // the codec's max_frame_length(): the connection's read buffer never grows beyond it (plus one
  // read chunk).
  std::size_t max_request_length = 1024 * MiB;
};

// Why a request was refused. Messages follow Redis's "Protocol error: ..." replies.
enum class Errc {
  incomplete = 1,            // RespPacket::decode_from got less than one request
  invalid_multibulk_length,  // "*" not followed by a number and CRLF
  too_many_elements,         // "*<n>" with n above max_array_elements
  expected_dollar,           // a multibulk element that is not a bulk string
  invalid_bulk_length,       // "$" not followed by a non-negative number and CRLF
  bulk_too_large,            // "$<len>" with len above max_bulk_length
  missing_crlf,              // a bulk string not followed by CRLF
  inline_too_long,           // no newline within max_inline_length bytes
  request_too_large,         // the request would exceed max_request_length
  unbalanced_quotes,         // an inline command with an unterminated quote
  trailing_bytes,            // RespPacket::decode_from got more than one request
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), category()}; }

enum class ScanStatus { complete, need_more, error };

struct ScanResult {
  ScanStatus status = ScanStatus::need_more;
  std::size_t size = 0;  // bytes of the request (complete)
  Errc error{};          // (error)
};

// A sink that keeps nothing: the codec only needs the request's length.
struct DiscardArgs {
  void begin(std::size_t /*count*/) noexcept {}
  void arg(const char* /*data*/, std::size_t /*len*/) noexcept {}
};

namespace detail {

enum class NumStatus { ok, need_more, syntax, too_large };

// Parses "<digits>\r\n" at in[pos]; on ok, `pos` moves past the CRLF. A value above `max` is
// reported as soon as the digits seen so far exceed it, before the line is complete.
inline NumStatus parse_number(const char* in, std::size_t n, std::size_t& pos, std::uint64_t max,
                              bool allow_negative, std::int64_t& out) noexcept {
  std::size_t i = pos;
  bool negative = false;
  if (i == n) return NumStatus::need_more;
  if (in[i] == '-') {
    if (!allow_negative) return NumStatus::syntax;
    negative = true;
    ++i;
  }
  std::uint64_t value = 0;
  std::size_t digits = 0;
  for (;; ++i) {
    if (i == n) return NumStatus::need_more;
    const char c = in[i];
    if (c >= '0' && c <= '9') {
      if (++digits > 18) return negative ? NumStatus::syntax : NumStatus::too_large;
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (!negative && value > max) return NumStatus::too_large;
      continue;
    }
    if (c != '\r' || digits == 0) return NumStatus::syntax;
    break;
  }
  if (i + 1 == n) return NumStatus::need_more;
  if (in[i + 1] != '\n') return NumStatus::syntax;
  pos = i + 2;
  out = negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
  return NumStatus::ok;
}

}  // namespace detail

// Scans the multibulk request at the start of in[0, n) (in[0] == '*').
template <class Sink>
ScanResult scan_multibulk(const char* in, std::size_t n, const Limits& limits, Sink& sink) {
  using detail::NumStatus;
  auto fail = [](Errc e) { return ScanResult{ScanStatus::error, 0, e}; };
  std::size_t pos = 1;
  std::int64_t count = 0;
  switch (detail::parse_number(in, n, pos, limits.max_array_elements, true, count)) {
    case NumStatus::ok: break;
    case NumStatus::need_more: return {};
    case NumStatus::syntax: return fail(Errc::invalid_multibulk_length);
    case NumStatus::too_large: return fail(Errc::too_many_elements);
  }
  // The count line alone may pass a small max_request_length (found by fuzz/resp_codec.cpp:
  // "*0\r\n" was accepted under a limit of 1).
  if (pos > limits.max_request_length) return fail(Errc::request_too_large);
  if (count <= 0) {  // "*0" / "*-1": an empty request
    sink.begin(0);
    return {ScanStatus::complete, pos, {}};
  }
  sink.begin(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    if (pos == n) return {};
    if (in[pos] != '$') return fail(Errc::expected_dollar);
    ++pos;
    std::int64_t len = 0;
    switch (detail::parse_number(in, n, pos, limits.max_bulk_length, false, len)) {
      case NumStatus::ok: break;
      case NumStatus::need_more: return {};
      case NumStatus::syntax: return fail(Errc::invalid_bulk_length);
      case NumStatus::too_large: return fail(Errc::bulk_too_large);
    }
    const auto body = static_cast<std::size_t>(len);
    // Refused before the body is buffered; written so that nothing can overflow (body is at
    // most max_bulk_length, far below SIZE_MAX).
    if (pos > limits.max_request_length || body + 2 > limits.max_request_length - pos) {
      return fail(Errc::request_too_large);
    }
    if (n - pos < body + 2) return {};
    if (in[pos + body] != '\r' || in[pos + body + 1] != '\n') return fail(Errc::missing_crlf);
    sink.arg(in + pos, body);
    pos += body + 2;
  }
  return {ScanStatus::complete, pos, {}};
}

// Finds the end of the inline command at the start of in[0, n): the line including its "\n".
inline ScanResult scan_inline(const char* in, std::size_t n, const Limits& limits) noexcept {
  const std::size_t window = n < limits.max_inline_length ? n : limits.max_inline_length;
  if (const void* nl = window ? std::memchr(in, '\n', window) : nullptr) {
    return {ScanStatus::complete, static_cast<std::size_t>(static_cast<const char*>(nl) - in) + 1, {}};
  }
  if (n >= limits.max_inline_length) return {ScanStatus::error, 0, Errc::inline_too_long};
  return {};
}

// Scans one request of either kind at the start of in[0, n).
template <class Sink>
ScanResult scan_request(const char* in, std::size_t n, const Limits& limits, Sink& sink) {
  if (n == 0) return {};
  if (in[0] == '*') return scan_multibulk(in, n, limits, sink);
  return scan_inline(in, n, limits);
}

}  // namespace resp

template <>
struct std::is_error_code_enum<resp::Errc> : std::true_type {};
