// ConnectionTimeouts: which timeout expires when, and when the watchdog must look again, on a
// clock the test moves by hand.
#include <catch2/catch.hpp>

#include <chrono>

#include <wireframe/actor/connection_timeouts.hpp>

using namespace wireframe;
using namespace std::chrono_literals;

namespace test_connection_timeouts_cpp {  // this file's names, apart from the other files of a unity build

using detail::ConnectionTimeouts;

namespace {

const ConnectionTimeouts::time_point t0{std::chrono::hours(1)};

ConnectionTimeouts make(std::chrono::milliseconds read, std::chrono::milliseconds write,
                        std::chrono::milliseconds idle, std::chrono::milliseconds handshake) {
  return ConnectionTimeouts({read, write, idle, handshake}, t0);
}

}  // namespace

TEST_CASE("no timeout on: nothing ever expires", "[unit][timeouts]") {
  auto t = make(0ms, 0ms, 0ms, 0ms);
  CHECK_FALSE(t.any());
  t.on_read(t0, 0, true);
  t.write_started(t0);
  CHECK_FALSE(t.expired(t0 + 24h));
}

TEST_CASE("read timeout counts from a frame's first byte, trickling bytes do not extend it",
          "[unit][timeouts]") {
  auto t = make(1000ms, 0ms, 0ms, 0ms);
  CHECK_FALSE(t.expired(t0 + 10s));  // nothing buffered: an idle connection is not slow
  t.on_read(t0, 0, true);            // first byte of a frame
  for (int i = 1; i < 10; ++i) t.on_read(t0 + i * 100ms, 0, true);  // one byte every 100 ms
  CHECK_FALSE(t.expired(t0 + 999ms));
  CHECK(t.expired(t0 + 1000ms) == errc::read_timed_out);
}

TEST_CASE("a completed frame restarts the read clock for the bytes after it", "[unit][timeouts]") {
  auto t = make(1000ms, 0ms, 0ms, 0ms);
  t.on_read(t0, 0, true);
  t.on_read(t0 + 900ms, 1, true);  // completes the frame; the next one starts in this read
  CHECK_FALSE(t.expired(t0 + 1500ms));
  CHECK(t.expired(t0 + 1900ms) == errc::read_timed_out);
  t.on_read(t0 + 1800ms, 1, false);  // and completes it: nothing partial any more
  CHECK_FALSE(t.expired(t0 + 10s));
}

TEST_CASE("the read clock stops while the connection itself stops reading", "[unit][timeouts]") {
  auto t = make(1000ms, 0ms, 0ms, 0ms);
  t.on_read(t0, 0, true);
  t.reader_paused(true, t0 + 100ms);
  CHECK_FALSE(t.expired(t0 + 5s));       // back-pressure is not the peer's fault
  t.reader_paused(false, t0 + 5s);       // restarts from when reading resumed
  CHECK_FALSE(t.expired(t0 + 5900ms));
  CHECK(t.expired(t0 + 6s) == errc::read_timed_out);
}

TEST_CASE("write timeout: no progress for that long, steady progress keeps it away",
          "[unit][timeouts]") {
  auto t = make(0ms, 500ms, 0ms, 0ms);
  t.write_started(t0);
  for (int i = 1; i <= 10; ++i) t.write_progress(t0 + i * 400ms);  // slow but reading
  CHECK_FALSE(t.expired(t0 + 4400ms));
  CHECK(t.expired(t0 + 4500ms) == errc::write_timed_out);
  t.write_finished(t0 + 4200ms);
  CHECK_FALSE(t.expired(t0 + 1h));  // no write in progress: nothing to stall
}

TEST_CASE("idle timeout: nothing read or written", "[unit][timeouts]") {
  auto t = make(0ms, 0ms, 2000ms, 0ms);
  CHECK(t.expired(t0 + 2s) == errc::idle_timed_out);
  t.on_read(t0 + 1s, 1, false);
  CHECK_FALSE(t.expired(t0 + 2s));
  t.write_started(t0 + 2s);
  t.write_finished(t0 + 2500ms);
  CHECK_FALSE(t.expired(t0 + 4s));
  CHECK(t.expired(t0 + 4500ms) == errc::idle_timed_out);
  t.draining();  // a graceful end in progress reads nothing more: idle no longer applies
  CHECK_FALSE(t.expired(t0 + 1h));
}

TEST_CASE("handshake timeout: the first frame, counted from the start", "[unit][timeouts]") {
  auto t = make(0ms, 0ms, 0ms, 300ms);
  t.on_read(t0 + 100ms, 0, true);  // bytes, but no frame yet
  CHECK(t.expired(t0 + 300ms) == errc::handshake_timed_out);
  auto u = make(0ms, 0ms, 0ms, 300ms);
  u.on_read(t0 + 100ms, 1, false);
  CHECK_FALSE(u.expired(t0 + 1h));
}

TEST_CASE("next_check: the earliest deadline, never later than the shortest timeout",
          "[unit][timeouts]") {
  auto t = make(1000ms, 5000ms, 60000ms, 0ms);
  // Nothing running but idle (60 s): still look again within the shortest timeout, so that a
  // partial frame starting meanwhile is seen before its own deadline.
  CHECK(t.next_check(t0) == t0 + 1000ms);
  t.on_read(t0 + 200ms, 0, true);
  CHECK(t.next_check(t0 + 300ms) == t0 + 1200ms);  // the read deadline
  t.write_started(t0 + 300ms);
  CHECK(t.next_check(t0 + 300ms) == t0 + 1200ms);  // still the earliest
  t.on_read(t0 + 400ms, 1, false);
  CHECK(t.next_check(t0 + 400ms) == t0 + 1400ms);  // the cap: now + the shortest timeout
}


TEST_CASE("read-idle counts from the last byte read, and writing does not extend it",
          "[unit][timeouts]") {
  ConnectionTimeouts t({0ms, 0ms, 0ms, 0ms, 500ms}, t0);
  CHECK(t.any());
  t.on_read(t0 + 100ms, 1, false);
  for (int i = 1; i < 10; ++i) {  // a push every 100 ms: the connection is busy, not read from
    t.write_started(t0 + i * 100ms);
    t.write_finished(t0 + i * 100ms);
  }
  CHECK_FALSE(t.expired(t0 + 599ms));
  CHECK(t.expired(t0 + 600ms) == errc::read_idle_timed_out);
  CHECK(t.next_check(t0 + 300ms) == t0 + 600ms);
}

TEST_CASE("read-idle stops while the connection stops reading and restarts after",
          "[unit][timeouts]") {
  ConnectionTimeouts t({0ms, 0ms, 0ms, 0ms, 500ms}, t0);
  t.reader_paused(true, t0 + 100ms);
  CHECK_FALSE(t.expired(t0 + 10s));  // back-pressure is not the peer's silence
  t.reader_paused(false, t0 + 10s);
  CHECK_FALSE(t.expired(t0 + 10s + 499ms));
  CHECK(t.expired(t0 + 10s + 500ms) == errc::read_idle_timed_out);
  t.draining();  // a connection that reads no more cannot be read-idle
  CHECK_FALSE(t.expired(t0 + 1h));
}

TEST_CASE("idle and read-idle set while running count from the last activity",
          "[unit][timeouts]") {
  ConnectionTimeouts t({0ms, 0ms, 0ms, 0ms, 0ms}, t0);
  CHECK_FALSE(t.any());
  t.on_read(t0 + 1s, 1, false);
  t.set_read_idle(1500ms);  // a handler learnt the peer's keep-alive at t0 + 1.2 s
  CHECK(t.any());
  CHECK(t.next_check(t0 + 1200ms) == t0 + 2500ms);
  CHECK_FALSE(t.expired(t0 + 2499ms));
  CHECK(t.expired(t0 + 2500ms) == errc::read_idle_timed_out);
  t.set_read_idle(0ms);  // switched off again
  CHECK_FALSE(t.any());
  CHECK_FALSE(t.expired(t0 + 1h));
  t.set_idle(2s);
  t.write_started(t0 + 3s);
  t.write_finished(t0 + 3s);  // for idle, a write is activity
  CHECK_FALSE(t.expired(t0 + 4999ms));
  CHECK(t.expired(t0 + 5s) == errc::idle_timed_out);
}

}  // namespace test_connection_timeouts_cpp
