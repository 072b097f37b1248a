// The connection opening's non-template parts (server/connection_opening.hpp).
#include <exception>
#include <string>

#include "wireframe/server/connection_opening.hpp"

namespace wireframe::detail {

ConnectionOpening::ConnectionOpening(GenericSocket& socket, ConnectionTracker& tracker,
                                     ConnectionId id, const ConnectionSettings& settings,
                                     const PreambleRunner* preamble, std::shared_ptr<spdlog::logger> logger)
    : timer_(socket.get_executor()),
      tracker_(tracker),
      id_(id),
      settings_(settings),
      preamble_(preamble) {
  asio::error_code ignored;
  peer_ = peer_name(socket.remote_endpoint(ignored));
  events_.open(std::move(logger), id, peer_);
}

void ConnectionOpening::begin() {
  tracker_.add(*this);  // may call shutdown() at once: the server is stopping
  asio::co_spawn(timer_.get_executor(), run(),
                 [self = shared_from_this()](const std::exception_ptr& e) { self->end(e); });
}

void ConnectionOpening::end(const std::exception_ptr& e) noexcept {
  disarm();
  if (e) report(LogLevel::error, "the connection's opening failed: " + describe_exception(e));
  if (handed_over_) return;
  close();
  tracker_.remove(*this);
}

void ConnectionOpening::close() noexcept {
  closed_ = true;
  disarm();
  close_socket();
}

void ConnectionOpening::arm(clock::time_point deadline) {
  ++generation_;
  timed_out_ = false;
  if (deadline == clock::time_point::max()) return;
  timer_.expires_at(deadline);
  timer_.async_wait(
      [self = shared_from_this(), generation = generation_](const asio::error_code& ec) {
        // An expiry already queued when its phase ended belongs to an older generation.
        if (ec || generation != self->generation_) return;
        self->timed_out_ = true;
        self->cancel_socket();
      });
}

void ConnectionOpening::disarm() noexcept {
  ++generation_;
  timer_.cancel();
}

ConnectionOpening::clock::time_point ConnectionOpening::deadline_after(
    std::chrono::milliseconds limit) noexcept {
  return limit.count() > 0 ? clock::now() + limit : clock::time_point::max();
}

void ConnectionOpening::report(LogLevel level, const std::string& what) noexcept {
  try {
    events_.emit(level, Event::opening_failed, "error=\"{}\"", what);
  } catch (...) {  // the logger failed: nowhere left to report it
  }
}

// A refused preamble: logged (a peer that just went away, at debug), then the failure hook.
void ConnectionOpening::refuse(const PreambleFailure& failure, PreambleReply& reply) {
  if (is_disconnect(failure.error)) {
    report(LogLevel::debug, "closed before its preamble: " + failure.error.message());
    return;
  }
  std::string what = "preamble refused: " + failure.error.message();
  if (!failure.reason.empty() && failure.reason != failure.error.message())
    what += ": " + failure.reason;
  report(LogLevel::warn, what);
  preamble_->on_failure(failure, reply);
}

// What the success hook asked for, once its reply is written.
std::optional<PreambleOutcome> ConnectionOpening::after_reply(PreambleAction action,
                                                              const PreambleReply& reply,
                                                              std::vector<std::byte>& buffered,
                                                              std::any& value) {
  switch (action) {
    case PreambleAction::proceed: {
      PreambleOutcome outcome;
      outcome.prelude.leftover = std::move(buffered);
      outcome.prelude.preamble = std::move(value);
      return outcome;
    }
    case PreambleAction::upgrade_tls:
      if (!reply.tls_available()) {
        report(LogLevel::warn, "the preamble asked for TLS, which this listener cannot start here");
        return std::nullopt;
      }
      // Bytes sent before the handshake would be read as if TLS had protected them (the flaw
      // behind PostgreSQL's CVE-2021-23214): a client waits for the reply before its handshake.
      if (!buffered.empty()) {
        report(
            LogLevel::warn,
            fmt::format("{} bytes arrived between the request for TLS and the handshake: refused",
                        buffered.size()));
        return std::nullopt;
      }
      return PreambleOutcome{PreambleAction::upgrade_tls, {}};
    case PreambleAction::close:
      report(LogLevel::debug, "closed by its preamble hook");
      return std::nullopt;
    case PreambleAction::read_next: break;  // handled by the caller
  }
  return std::nullopt;
}

}  // namespace wireframe::detail
