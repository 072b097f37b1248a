#pragma once
// ConnectionTimeouts: the bookkeeping behind a connection's read, write, idle and handshake
// timeouts, kept apart from the actor so that it can be tested without sockets or clocks.
//
// The actor records a few timestamps as it works (one clock read per socket read or write, never
// per frame) and runs ONE timer, the watchdog, which asks expired(now) and sleeps until
// next_check(now). Nothing re-arms the timer on the hot path: next_check() never sleeps longer
// than the shortest enabled timeout, so a condition that starts while the watchdog sleeps (a
// partial frame, a write) is looked at before its own deadline can pass, and then precisely.
//
//   read       a frame must be complete within `read` of its first byte; bytes trickling in do
//              not extend it (slowloris). Suspended while the connection itself stops reading
//              (back-pressure), restarted when it reads again.
//   write      a write in progress that has made no progress for `write` (the peer stopped
//              reading).
//   idle       no byte read or written for `idle`.
//   read_idle  no byte read for `read_idle`, whatever was written. Suspended, like `read`, while
//              the connection itself stops reading.
//   handshake  no complete frame within `handshake` of the connection's start.
//
// idle and read_idle may change while the connection runs (set_idle, set_read_idle: a handler
// learnt the peer's keep-alive); the new value counts from the last activity.

#include <algorithm>
#include <chrono>
#include <optional>

#include "wireframe/error/errc.hpp"

namespace wireframe::detail {

class ConnectionTimeouts {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  struct Settings {
    std::chrono::milliseconds read{0};
    std::chrono::milliseconds write{0};
    std::chrono::milliseconds idle{0};
    std::chrono::milliseconds handshake{0};
    std::chrono::milliseconds read_idle{0};
  };

  ConnectionTimeouts(const Settings& s, time_point start) noexcept
      : s_(s), started_(start), last_activity_(start), last_read_(start) {}

  // True when no timeout is on: the actor then runs no watchdog for them.
  [[nodiscard]] bool any() const noexcept {
    return on(s_.read) || on(s_.write) || on(s_.idle) || on(s_.handshake) || on(s_.read_idle);
  }

  // A new idle or read-idle timeout for this connection (zero: off), counted from the last
  // activity it measures. The watchdog must look again if the next check moved earlier.
  void set_idle(std::chrono::milliseconds t) noexcept { s_.idle = t; }
  void set_read_idle(std::chrono::milliseconds t) noexcept { s_.read_idle = t; }

  // --- what the reader reports -------------------------------------------------------------

  // A read returned bytes at `now`; then the decoder took `frames` complete frames and left
  // `partial` (bytes of an unfinished frame are buffered).
  void on_read(time_point now, std::size_t frames, bool partial) noexcept {
    last_activity_ = now;
    last_read_ = now;
    if (frames > 0) got_frame_ = true;
    // After a complete frame, the bytes left over arrived in this very read: a new frame starts
    // now. Without one, an unfinished frame keeps the time of its first byte.
    if (!partial) partial_since_.reset();
    else if (frames > 0 || !partial_since_) partial_since_ = now;
  }
  // Frames decoded without a read (from bytes already buffered, after back-pressure).
  void on_decoded(time_point now, std::size_t frames, bool partial) noexcept {
    if (frames == 0) return;
    got_frame_ = true;
    partial_since_ = partial ? std::optional<time_point>(now) : std::nullopt;
  }
  // The connection stops reading (back-pressure) or reads again.
  void reader_paused(bool paused, time_point now) noexcept {
    reader_paused_ = paused;
    if (paused) return;
    // The peer was not the one waiting: its clocks restart.
    if (partial_since_) partial_since_ = now;
    last_read_ = now;
  }
  // The reader has ended (EOF, shutdown, error): read and handshake timeouts no longer apply.
  void reader_done() noexcept {
    reader_done_ = true;
    partial_since_.reset();
  }

  // The connection is ending gracefully: it reads no more, so only a stalled write can still
  // time out.
  void draining() noexcept {
    reader_done();
    idle_off_ = true;
  }

  // --- what the writer reports ---------------------------------------------------------------

  void write_started(time_point now) noexcept {
    writing_ = true;
    write_progress_ = now;
  }
  // Some bytes were written at `now` (the write may go on).
  void write_progress(time_point now) noexcept {
    write_progress_ = now;
    last_activity_ = now;
  }
  void write_finished(time_point now) noexcept {
    writing_ = false;
    last_activity_ = now;
  }

  // --- what the watchdog asks ----------------------------------------------------------------

  // The timeout that has expired at `now`, if any (the first in the order write, read,
  // handshake, idle, read_idle).
  [[nodiscard]] std::optional<errc> expired(time_point now) const noexcept {
    if (const auto d = write_deadline(); d && now >= *d) return errc::write_timed_out;
    if (const auto d = read_deadline(); d && now >= *d) return errc::read_timed_out;
    if (const auto d = handshake_deadline(); d && now >= *d) return errc::handshake_timed_out;
    if (const auto d = idle_deadline(); d && now >= *d) return errc::idle_timed_out;
    if (const auto d = read_idle_deadline(); d && now >= *d) return errc::read_idle_timed_out;
    return std::nullopt;
  }

  // When the watchdog must look again: the earliest running deadline, but never later than
  // `now` plus the shortest enabled timeout (see the top of this file).
  [[nodiscard]] time_point next_check(time_point now) const noexcept {
    time_point next = now + shortest();
    for (const auto& d : {write_deadline(), read_deadline(), handshake_deadline(), idle_deadline(),
                          read_idle_deadline()}) {
      if (d) next = std::min(next, *d);
    }
    return next;
  }

 private:
  static bool on(std::chrono::milliseconds t) noexcept { return t > std::chrono::milliseconds::zero(); }

  [[nodiscard]] duration shortest() const noexcept {
    duration best = duration::max();
    for (const auto t : {s_.read, s_.write, s_.idle, s_.handshake, s_.read_idle}) {
      if (on(t)) best = std::min<duration>(best, t);
    }
    return best == duration::max() ? std::chrono::hours(24) : best;
  }

  [[nodiscard]] std::optional<time_point> write_deadline() const noexcept {
    if (!on(s_.write) || !writing_) return std::nullopt;
    return write_progress_ + s_.write;
  }
  [[nodiscard]] std::optional<time_point> read_deadline() const noexcept {
    if (!on(s_.read) || reader_paused_ || reader_done_ || !partial_since_) return std::nullopt;
    return *partial_since_ + s_.read;
  }
  [[nodiscard]] std::optional<time_point> handshake_deadline() const noexcept {
    if (!on(s_.handshake) || got_frame_ || reader_done_) return std::nullopt;
    return started_ + s_.handshake;
  }
  [[nodiscard]] std::optional<time_point> idle_deadline() const noexcept {
    if (!on(s_.idle) || idle_off_ || writing_) return std::nullopt;  // a stalled write is write_timeout's
    return last_activity_ + s_.idle;
  }
  [[nodiscard]] std::optional<time_point> read_idle_deadline() const noexcept {
    if (!on(s_.read_idle) || reader_paused_ || reader_done_) return std::nullopt;
    return last_read_ + s_.read_idle;
  }

  Settings s_;
  time_point started_;
  time_point last_activity_;
  time_point last_read_;
  time_point write_progress_{};
  std::optional<time_point> partial_since_;
  bool got_frame_ = false;
  bool reader_paused_ = false;
  bool reader_done_ = false;
  bool writing_ = false;
  bool idle_off_ = false;
};

}  // namespace wireframe::detail
