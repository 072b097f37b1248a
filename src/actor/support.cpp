// Non-template helpers of the connection actor, compiled once.
#include <exception>
#include <string>
#include <system_error>

#include "wireframe/detail/asio.hpp"
#include "wireframe/detail/logged_completion.hpp"
#include "wireframe/log/log.hpp"

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

void log_task_exception(const char* what, ConnectionId id, const std::exception_ptr& e) noexcept {
  try {
    if (id != 0) {
      log(LogLevel::error, "{} (connection {}) ended by an exception: {}", what, id, describe_exception(e));
    } else {
      log(LogLevel::error, "{} ended by an exception: {}", what, describe_exception(e));
    }
  } catch (...) {  // logging itself failed (out of memory): nothing more can be done
  }
}

}  // namespace wireframe::detail
