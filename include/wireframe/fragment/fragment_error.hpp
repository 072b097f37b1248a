#pragma once
// Error codes of the fragmentation layer (fragment splitting and reassembly). They are
// std::error_codes of their own category ("wireframe.fragment"), so they compose with
// wireframe::errc, asio::error_code and errno values. Every code names what happened to the
// message it is reported for; docs/fragmentation.md says what the connection does with each.

#include <system_error>

namespace wireframe {

enum class fragment_errc {
  bad_header = 1,      // the frame does not start with a valid fragment header for the strategy
  message_too_large,   // the message (declared or accumulated) exceeds max_message_size
  too_many_partials,   // a new message would exceed max_partials messages in reassembly
  buffer_limit,        // buffering the fragment would exceed max_buffered_bytes
  reassembly_timeout,  // the message was not complete within reassembly_timeout
  out_of_order,        // a fragment's sequence number went backwards (below the last accepted)
  duplicate_fragment,  // a fragment repeated the last accepted sequence number
  missing_first,       // the first fragment seen for a message had a sequence number other than 0
  sequence_gap,        // a fragment's sequence number skipped ahead (fragments are missing)
  length_mismatch,     // the fragments' payloads do not add up to the declared total length
};

const std::error_category& fragment_category() noexcept;

inline std::error_code make_error_code(fragment_errc e) noexcept {
  return {static_cast<int>(e), fragment_category()};
}

}  // namespace wireframe

template <>
struct std::is_error_code_enum<wireframe::fragment_errc> : std::true_type {};
