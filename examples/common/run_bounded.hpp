#pragma once
// How the example clients run their session: on one io_context, never longer than a deadline,
// with anything the session throws turned into a failure text (so a client exits 1 with a
// message instead of aborting or hanging).

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include <wireframe/detail/asio.hpp>

namespace example {

// Runs `session` (a callable returning asio::awaitable<void>) until it ends or `deadline`
// passes. Sets `failure` if it threw; a session still pending at the deadline is left for the
// caller to report (it knows what "not done" means for it).
template <class Session>
void run_bounded(asio::io_context& io, Session session, std::chrono::steady_clock::duration deadline,
                 std::optional<std::string>& failure) {
  asio::co_spawn(io, std::move(session), [&failure](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      failure = std::string("unexpected exception: ") + ex.what();
    } catch (...) {
      failure = "unexpected exception";
    }
  });
  io.run_for(deadline);
}

}  // namespace example
