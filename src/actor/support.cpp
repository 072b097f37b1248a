// Non-template helpers of the connection actor, compiled once.
#include <exception>
#include <string>
#include <system_error>

#include "wireframe/detail/asio.hpp"

namespace wireframe::detail {

std::string describe_exception(const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

// The ways a peer commonly goes away: logged at debug, not as warnings.
bool is_disconnect(const std::error_code& ec) noexcept {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == asio::error::operation_aborted;
}

}  // namespace wireframe::detail
