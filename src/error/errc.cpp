#include "wireframe/error/errc.hpp"

#include <string>

namespace wireframe {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wireframe"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::frame_too_large: return "frame exceeds the maximum frame length";
      case errc::truncated_frame: return "stream ended in the middle of a frame";
      case errc::malformed_frame: return "malformed frame";
      case errc::malformed_message: return "payload does not decode as the expected message";
      case errc::unknown_message_id: return "no route for message id";
      case errc::handler_failed: return "handler failed";
      case errc::connection_closed: return "connection closed";
      case errc::timed_out: return "timed out";
      case errc::shutting_down: return "shutting down";
      case errc::invalid_configuration: return "invalid configuration";
      case errc::duplicate_route: return "a route for this message id already exists";
      case errc::queue_full: return "push queue full";
      case errc::rate_limited: return "push rate limit exceeded";
      case errc::read_timed_out: return "frame not complete within the read timeout";
      case errc::write_timed_out: return "no write progress within the write timeout (peer not reading)";
      case errc::idle_timed_out: return "connection idle for longer than the idle timeout";
      case errc::handshake_timed_out: return "no first frame within the handshake timeout";
      case errc::output_limit_exceeded: return "outbound bytes would exceed max_outbound_bytes";
      case errc::too_many_connections: return "server at max_connections";
      case errc::corrupt_frame: return "frame failed its integrity check";
      case errc::preamble_invalid: return "invalid preamble";
      case errc::preamble_too_large: return "preamble too large";
      case errc::preamble_timed_out: return "preamble timed out";
      case errc::read_idle_timed_out: return "nothing read for longer than the read-idle timeout";
      case errc::closed_by_request: return "closed on request (PushHandle::close)";
    }
    return "unknown wireframe error";
  }
};

}  // namespace

const std::error_category& wireframe_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace wireframe
