#pragma once
// ConnectionActor's watchdog: one timer for everything time-bound on the connection
// (connection_timeouts.hpp) and the reassembly deadlines. Nothing re-arms it per frame: it wakes
// at the next deadline it knows of, or after the shortest timeout, and looks again. The reader
// cancels it when a new fragmented message makes the reassembly deadline earlier; the writer's
// end stops it. A completion handler, not a coroutine: its pending wait lives in timer_slot_.
// Included by actor/connection_actor.hpp only.

#include "wireframe/actor/connection_actor.hpp"  // the class these members belong to

namespace wireframe {

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::watchdog() {
  if (closing_ || writer_finished_) return maybe_finish();
  const auto now = clock::now();
  if (const auto expired = timeouts_.expired(now)) {
    on_timeout(*expired);
    if (closing_) return maybe_finish();
  }
  if constexpr (fragments) {
    if (!reader_done_) frag().expire(now, [this](const ReassemblyResult& r) { (void)on_fragment_error(r); });
  }
  if (reader_done_ && !timeouts_.any()) return maybe_finish();  // reassembly deadlines were all there was
  timer_deadline_ = next_watchdog_check(now);
  timer_.expires_at(timer_deadline_);
  timer_pending_ = true;
  timer_.async_wait(timer_slot_.bind([self = keep()](asio::error_code) {  // fired, re-armed or cancelled
    self->timer_pending_ = false;
    self->guarded(Part::watchdog, [&] { self->watchdog(); });
  }));
}

template <class App, StreamSocket Socket>
auto ConnectionActor<App, Socket>::next_watchdog_check(clock::time_point now) const -> clock::time_point {
  clock::time_point next = timeouts_.any() ? timeouts_.next_check(now) : clock::time_point::max();
  if constexpr (fragments) {
    if (!reader_done_) {
      if (const auto deadline = frag().next_deadline()) next = std::min(next, *deadline);
    }
  }
  return next;
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::rearm_reassembly_timer() {
  if constexpr (fragments) {
    const auto deadline = frag().next_deadline();
    if (deadline && *deadline < timer_deadline_) timer_.cancel();
  }
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::set_idle_timeout(std::chrono::milliseconds t) noexcept {
  timeouts_.set_idle(t);
  rearm_watchdog();
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::set_read_idle_timeout(std::chrono::milliseconds t) noexcept {
  timeouts_.set_read_idle(t);
  rearm_watchdog();
}

// A timeout changed (called from a handler or hook, so never inline: the watchdog may close the
// connection). A sleeping watchdog is woken if it would sleep past the new deadline; a stopped
// one (no timeout was on) gets a first run, posted once.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::rearm_watchdog() {
  if (closing_ || writer_finished_) return;
  if (timer_pending_) {
    if (timeouts_.any() && timeouts_.next_check(clock::now()) < timer_deadline_) timer_.cancel();
    return;
  }
  if (watchdog_posted_ || !timeouts_.any()) return;
  watchdog_posted_ = true;
  try {
    post([self = keep()] {
      self->watchdog_posted_ = false;
      if (!self->timer_pending_) self->guarded(Part::watchdog, [&] { self->watchdog(); });
    });
  } catch (...) {  // out of memory: the new timeout waits for the next change
    watchdog_posted_ = false;
  }
}

// Trickling, stalled and silent peers are closed at once; an idle one gracefully.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::on_timeout(errc which) {
  const auto ec = make_error_code(which);
  if (metrics_ != nullptr) metrics_->timed_out(ec);
  events().template emit<LogLevel::info>(Event::timeout_fired, "kind={}", detail::ConnectionMetrics::reason_name(ec));
  if (which == errc::idle_timed_out || which == errc::read_idle_timed_out) end_with(ec);
  else fail(ec);
}

// PushHandle::close(), from any thread, seen by the wake-up it posted (ring()).
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::close_on_request(CloseMode mode) {
  const auto ec = make_error_code(errc::closed_by_request);
  if (mode == CloseMode::immediate) fail(ec);
  else end_with(ec);
}

}  // namespace wireframe
