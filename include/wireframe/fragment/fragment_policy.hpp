#pragma once
// What a connection does when reassembly reports an error (docs/fragmentation.md, "Errors").
// Whatever the policy, the error is reported through WireframeProtocol::handle_error and the
// log, and only ever affects the connection it happened on.

#include <system_error>

#include "wireframe/fragment/fragment_error.hpp"

namespace wireframe {

enum class FragmentErrorPolicy {
  // Default. Errors about one message (message_too_large, too_many_partials, buffer_limit,
  // reassembly_timeout) drop that message and the connection carries on; errors that mean the
  // peer does not follow the protocol (bad_header, out_of_order, duplicate_fragment,
  // missing_first, sequence_gap, length_mismatch: a correct peer on a reliable stream never
  // causes them) close the connection.
  by_kind,
  // Every error drops the message concerned (or the bad frame) and the connection carries on.
  drop_message,
  // Every error closes the connection.
  close_connection,
};

// True when `ec` (a fragment_errc) closes the connection under `policy`.
[[nodiscard]] inline bool fragment_error_closes(std::error_code ec, FragmentErrorPolicy policy) noexcept {
  switch (policy) {
    case FragmentErrorPolicy::drop_message: return false;
    case FragmentErrorPolicy::close_connection: return true;
    case FragmentErrorPolicy::by_kind: break;
  }
  return !(ec == fragment_errc::message_too_large || ec == fragment_errc::too_many_partials ||
           ec == fragment_errc::buffer_limit || ec == fragment_errc::reassembly_timeout);
}

}  // namespace wireframe
