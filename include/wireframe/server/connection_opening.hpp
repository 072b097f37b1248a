#pragma once
// A connection's opening: what runs between accept and the connection's actor when anything
// must, namely the preamble (WireframeApp::with_preamble) and the TLS handshake
// (tls/tls_listener.hpp). One coroutine per connection, on the connection's worker thread:
//
//   accept -> [TLS handshake] -> [preamble -> reply -> (read_next | upgrade_tls: handshake,
//             preamble again)] -> ConnectionActor::launch(socket, prelude)
//
// An opening is tracked like a live connection from accept, holding its admission slot
// (max_connections), so that shutdown reaches it; it hands the slot to the actor
// (ConnectionTracker::transfer). Each of its waits is bounded: the handshake by the handshake
// limit, the preamble by preamble_timeout, a reply by write_timeout. What goes wrong ends this
// connection only, logged; a throwing decoder or hook too (run() ends with the exception).
// A plain server without a preamble has no opening: the acceptor launches the actor directly.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "wireframe/actor/connection_actor.hpp"
#include "wireframe/app/connection_id.hpp"
#include "wireframe/app/settings.hpp"
#include "wireframe/detail/asio.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/log/event_log.hpp"
#include "wireframe/log/log.hpp"
#include "wireframe/preamble/preamble_hooks.hpp"
#include "wireframe/preamble/preamble_runner.hpp"
#include "wireframe/server/connection_tracker.hpp"
#include "wireframe/transport/stream_socket.hpp"

namespace wireframe::detail {

// A preamble that went through: proceed (with what the actor inherits) or upgrade_tls.
struct PreambleOutcome {
  PreambleAction action = PreambleAction::proceed;
  ConnectionPrelude prelude;
};

class ConnectionOpening : public TrackedConnection,
                          public std::enable_shared_from_this<ConnectionOpening> {
 public:
  // Nothing but the opening's own operations is in flight: both just close.
  void shutdown() override { close(); }
  void force_close() override { close(); }

  virtual ~ConnectionOpening() = default;

 protected:
  using clock = std::chrono::steady_clock;

  ConnectionOpening(GenericSocket& socket, ConnectionTracker& tracker, ConnectionId id,
                    const ConnectionSettings& settings, const PreambleRunner* preamble,
                    std::shared_ptr<spdlog::logger> logger);

  // Tracks the opening and starts run(); from here the opening keeps itself alive until it has
  // handed its connection over or closed it.
  void begin();
  virtual asio::awaitable<void> run() = 0;
  virtual void cancel_socket() noexcept = 0;
  virtual void close_socket() noexcept = 0;

  // Bounds the operations that follow until disarm(): at `deadline` the socket's operations
  // are cancelled and timed_out() says why. time_point::max(): unbounded.
  void arm(clock::time_point deadline);
  void disarm() noexcept;
  static clock::time_point deadline_after(std::chrono::milliseconds limit) noexcept;
  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }
  [[nodiscard]] bool closed() const noexcept { return closed_; }
  [[nodiscard]] const ConnectionSettings& settings() const noexcept { return settings_; }

  // Reads the preamble (every message of it, read_next) on `socket`, runs the hooks and writes
  // their replies. nullopt: the connection is to close (and what happened was logged).
  template <class Socket>
  asio::awaitable<std::optional<PreambleOutcome>> read_preamble(Socket& socket, bool tls_available,
                                                                bool tls_active);

  // Starts the connection's actor on `socket`; it takes over the admission slot. The opening
  // leaves the tracker after the actor joined it, never before: a worker whose tracker emptied
  // in between would count as drained during a shutdown. (So connection_count() counts both
  // for that moment, in which the actor may already have answered a request.)
  template <class Actor, class Socket, class AppPtr>
  void hand_over(Socket& socket, AppPtr app, ConnectionPrelude prelude) {
    if (closed_) return;
    Actor::launch(std::move(socket), std::move(app), id_, tracker_, std::move(prelude));
    handed_over_ = true;
    tracker_.transfer(*this);
  }

  // "connection 7 (127.0.0.1:4242): <what>", at `level`; never throws.
  void report(LogLevel level, const std::string& what) noexcept;

 private:
  template <class Socket>
  asio::awaitable<PreambleFailure> decode_next(Socket& socket, std::vector<std::byte>& buffered,
                                               PreambleStep& step);
  template <class Socket>
  asio::awaitable<bool> write_reply(Socket& socket, const PreambleReply& reply);
  std::optional<PreambleOutcome> after_reply(PreambleAction action, const PreambleReply& reply,
                                             std::vector<std::byte>& buffered, std::any& value);
  void refuse(const PreambleFailure& failure, PreambleReply& reply);
  void close() noexcept;
  void end(const std::exception_ptr& e) noexcept;

  asio::steady_timer timer_;
  ConnectionTracker& tracker_;
  ConnectionId id_;
  std::string peer_;
  EventLog events_;  // opening.failed, with the connection's fields
  const ConnectionSettings& settings_;  // the app's: the derived opening holds the app
  const PreambleRunner* preamble_;      // the app's, or null
  unsigned generation_ = 0;             // of the armed deadline; a stale expiry sees another
  bool timed_out_ = false;
  bool closed_ = false;
  bool handed_over_ = false;
};

template <class Socket>
asio::awaitable<std::optional<PreambleOutcome>> ConnectionOpening::read_preamble(Socket& socket,
                                                                                 bool tls_available,
                                                                                 bool tls_active) {
  const clock::time_point deadline = deadline_after(preamble_limit(settings_));
  std::vector<std::byte> buffered;  // read and not yet consumed by a preamble message
  for (;;) {
    PreambleStep step;
    arm(deadline);
    const PreambleFailure failure = co_await decode_next(socket, buffered, step);
    disarm();
    if (closed_) co_return std::nullopt;
    PreambleReply reply(tls_available, tls_active);
    if (failure.error) {
      refuse(failure, reply);
      if (!reply.bytes().empty()) co_await write_reply(socket, reply);
      co_return std::nullopt;
    }
    const PreambleAction action = preamble_->on_success(step.value, reply);
    buffered.erase(buffered.begin(), buffered.begin() + static_cast<std::ptrdiff_t>(step.consumed));
    const bool written = co_await write_reply(socket, reply);
    if (!written) co_return std::nullopt;
    if (action != PreambleAction::read_next)
      co_return after_reply(action, reply, buffered, step.value);
  }
}

// Reads until the buffered bytes hold a preamble message (an empty failure, `step` done) or
// cannot (the failure says why).
template <class Socket>
asio::awaitable<PreambleFailure> ConnectionOpening::decode_next(Socket& socket,
                                                                std::vector<std::byte>& buffered,
                                                                PreambleStep& step) {
  static constexpr std::size_t read_chunk = 4096;
  const std::size_t max = preamble_->max_size();
  PreambleFailure failure;
  for (;;) {
    if (!buffered.empty()) {
      step = preamble_->decode(buffered);
      if (step.kind == PreambleStep::Kind::done) {
        if (step.consumed == 0 || step.consumed > buffered.size()) {
          throw std::logic_error(
              fmt::format("the preamble decoder consumed {} of the {} bytes it was given",
                          step.consumed, buffered.size()));
        }
        co_return failure;
      }
      if (step.kind == PreambleStep::Kind::invalid) {
        failure.error = make_error_code(errc::preamble_invalid);
        failure.reason = std::move(step.reason);
        co_return failure;
      }
    }
    if (buffered.size() >= max) {
      failure.error = make_error_code(errc::preamble_too_large);
      failure.reason = fmt::format("no preamble within {} bytes", max);
      co_return failure;
    }
    const std::size_t old = buffered.size();
    buffered.resize(std::min(max, old + read_chunk));
    const asio::mutable_buffer into(buffered.data() + old, buffered.size() - old);
    auto [ec, n] = co_await socket.async_read_some(into, use_nothrow);
    buffered.resize(old + n);
    if (timed_out_) {
      failure.error = make_error_code(errc::preamble_timed_out);
      failure.reason = fmt::format("not complete within {} ms", preamble_limit(settings_).count());
      co_return failure;
    }
    if (ec) {
      failure.error = ec;
      co_return failure;
    }
  }
}

template <class Socket>
asio::awaitable<bool> ConnectionOpening::write_reply(Socket& socket, const PreambleReply& reply) {
  if (reply.bytes().empty()) co_return true;
  arm(deadline_after(settings_.write_timeout));
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(reply.bytes()), use_nothrow);
  disarm();
  if (ec && !closed_) {
    if (timed_out_) ec = make_error_code(errc::write_timed_out);
    report(LogLevel::debug, fmt::format("the preamble's reply was not written: {}", ec.message()));
  }
  co_return !ec;
}

// The opening of a plain (TCP or Unix domain) connection whose app has a preamble.
template <class App>
class PlainOpening final : public ConnectionOpening {
 public:
  static void start(GenericSocket socket, std::shared_ptr<const App> app,
                    ConnectionTracker& tracker, ConnectionId id) {
    std::make_shared<PlainOpening>(std::move(socket), std::move(app), tracker, id)->begin();
  }

  PlainOpening(GenericSocket socket, std::shared_ptr<const App> app, ConnectionTracker& tracker,
               ConnectionId id)
      : ConnectionOpening(socket, tracker, id, app->settings, app->preamble.get(), app->logger.resolve()),
        socket_(std::move(socket)),
        app_(std::move(app)) {}

 private:
  asio::awaitable<void> run() override {
    std::optional<PreambleOutcome> outcome = co_await read_preamble(socket_, false, false);
    if (outcome) hand_over<ConnectionActor<App>>(socket_, app_, std::move(outcome->prelude));
  }
  void cancel_socket() noexcept override {
    asio::error_code ignored;
    socket_.cancel(ignored);
  }
  void close_socket() noexcept override {
    asio::error_code ignored;
    socket_.close(ignored);
  }

  GenericSocket socket_;
  std::shared_ptr<const App> app_;
};

}  // namespace wireframe::detail
