#include "wireframe/fragment/fragment_error.hpp"

#include <string>

namespace wireframe {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wireframe.fragment"; }

  std::string message(int value) const override {
    switch (static_cast<fragment_errc>(value)) {
      case fragment_errc::bad_header:
        return "frame does not start with a valid fragment header";
      case fragment_errc::message_too_large:
        return "fragmented message exceeds the maximum message size; message dropped";
      case fragment_errc::too_many_partials:
        return "too many messages in reassembly on this connection; new message dropped";
      case fragment_errc::buffer_limit:
        return "reassembly buffer limit of the connection reached; message dropped";
      case fragment_errc::reassembly_timeout:
        return "message not complete within the reassembly timeout; message dropped";
      case fragment_errc::out_of_order:
        return "fragment sequence number went backwards; message dropped";
      case fragment_errc::duplicate_fragment:
        return "fragment sequence number repeated; message dropped";
      case fragment_errc::missing_first:
        return "first fragment of a message missing (sequence number not 0); fragment dropped";
      case fragment_errc::sequence_gap:
        return "fragment sequence number skipped ahead (fragments missing); message dropped";
      case fragment_errc::length_mismatch:
        return "fragments do not add up to the declared message length; message dropped";
    }
    return "unknown fragmentation error";
  }
};

}  // namespace

const std::error_category& fragment_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace wireframe
