#pragma once
// LogException: the completion handler for tasks started with co_spawn whose result nobody
// awaits. asio::detached would drop an exception escaping such a task without a word; this
// logs it (at error, with what the task was and its connection id, 0 for none) so that a fault
// in a task ends only that task, loudly.
//
//   asio::co_spawn(ex, task(), detail::LogException{"accept loop"});

#include <exception>

#include "wireframe/app/connection_id.hpp"

namespace wireframe::detail {

// Logs `e` (if any) as "<what> (connection <id>) ended by an exception: <e.what()>".
void log_task_exception(const char* what, ConnectionId id, const std::exception_ptr& e) noexcept;

struct LogException {
  const char* what = "task";
  ConnectionId connection = 0;

  void operator()(const std::exception_ptr& e) const noexcept {
    if (e) log_task_exception(what, connection, e);
  }
};

}  // namespace wireframe::detail
