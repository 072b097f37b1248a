// Stream<F, E> driven directly (no sockets): laziness, one-frame-at-a-time, awaiting Asio
// operations, errors, and destruction while an await is pending.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>

#include <wireframe/packet/envelope.hpp>
#include <wireframe/response/response.hpp>

using namespace wireframe;
using namespace std::chrono_literals;

namespace test_stream_cpp {  // this file's names, apart from the other files of a unity build

using S = Stream<int>;

namespace {

int rings = 0;
void count_ring(void*) { ++rings; }

S three(int& body_steps) {
  ++body_steps;
  co_yield 1;
  ++body_steps;
  co_yield 2;
  ++body_steps;
  co_yield 3;
}

S with_timer(asio::steady_timer::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
  co_yield 7;
}

S failing() {
  co_yield 1;
  co_yield WireframeError<NoProtocolError>::io(make_error_code(errc::malformed_message));
  co_yield 2;
}

S throwing() {
  co_yield 1;
  throw std::runtime_error("boom");
}

S awaits_value() {
  auto answer = []() -> asio::awaitable<int> { co_return 41; };
  const int v = co_await answer();
  co_yield v + 1;
}

}  // namespace

TEST_CASE("a stream is lazy and produces one frame at a time", "[stream]") {
  asio::io_context io;
  int steps = 0;
  S s = three(steps);
  CHECK(steps == 0);  // nothing runs before start()
  rings = 0;
  s.start(io.get_executor(), &count_ring, nullptr);
  CHECK(steps == 1);
  REQUIRE(s.poll() == S::State::item);
  CHECK(rings == 1);
  CHECK(s.take() == 1);
  CHECK(steps == 2);  // the body ran on to the next yield, and no further
  CHECK(s.take() == 2);
  CHECK(s.take() == 3);
  CHECK(s.poll() == S::State::done);
}

TEST_CASE("a stream awaits Asio operations and rings when it has a frame", "[stream]") {
  asio::io_context io;
  S s = with_timer(5ms);
  rings = 0;
  s.start(io.get_executor(), &count_ring, nullptr);
  CHECK(s.poll() == S::State::pending);
  CHECK(rings == 0);
  io.run_for(2s);
  REQUIRE(s.poll() == S::State::item);
  CHECK(rings == 1);
  CHECK(s.take() == 7);
  io.restart();
  io.run_for(100ms);
  CHECK(s.poll() == S::State::done);
}

TEST_CASE("a stream can await other coroutines' values", "[stream]") {
  asio::io_context io;
  S s = awaits_value();
  s.start(io.get_executor(), &count_ring, nullptr);
  io.run_for(1s);
  REQUIRE(s.poll() == S::State::item);
  CHECK(s.take() == 42);
}

TEST_CASE("co_yield of an error ends the stream with that error", "[stream]") {
  asio::io_context io;
  S s = failing();
  s.start(io.get_executor(), &count_ring, nullptr);
  CHECK(s.take() == 1);
  REQUIRE(s.poll() == S::State::failed);
  CHECK(s.error().io_error() == make_error_code(errc::malformed_message));
}

TEST_CASE("an exception in the body fails the stream and keeps the exception", "[stream]") {
  asio::io_context io;
  S s = throwing();
  s.start(io.get_executor(), &count_ring, nullptr);
  CHECK(s.take() == 1);
  REQUIRE(s.poll() == S::State::failed);
  CHECK(s.error().io_error() == make_error_code(errc::handler_failed));
  CHECK(s.exception() != nullptr);
}

TEST_CASE("destroying a stream with a pending await cancels it safely", "[stream]") {
  asio::io_context io;
  {
    S s = with_timer(std::chrono::hours(1));
    s.start(io.get_executor(), &count_ring, nullptr);
    io.run_for(10ms);
    REQUIRE(s.poll() == S::State::pending);
  }  // destroyed here: the timer's completion must not resume a dead frame (ASan checks)
  io.restart();
  const auto handled = io.run_for(1s);
  CHECK(handled >= 1);  // the cancelled operation completed (and was ignored)
  CHECK(io.stopped());  // nothing left pending: the hour-long wait was really cancelled
}

TEST_CASE("Response has exactly the four shapes", "[response]") {
  using R = Response<int>;
  CHECK(R(5).is_single());
  CHECK(R(std::vector<int>{1, 2}).is_vec());
  CHECK(R().is_empty());
  CHECK(R::error(WireframeError<NoProtocolError>::io(make_error_code(errc::timed_out))).is_stream());
  R failed = R::error(WireframeError<NoProtocolError>::io(make_error_code(errc::timed_out)));
  auto& s = std::get<R::Stream>(failed.value());
  CHECK(s.poll() == Stream<int>::State::failed);
  CHECK(s.error().io_error() == make_error_code(errc::timed_out));
  static_assert(std::variant_size_v<R::variant_type> == 4);
}

namespace {
Stream<Envelope> about(const Envelope& request) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_yield Envelope(request.id() + 1, 0, "answer");
}
}  // namespace

// Regression: an aggregate promise_type was built from the coroutine's arguments (C++20), so
// this stream started with the request itself queued as its first frame.
TEST_CASE("a stream taking a frame argument does not start with it queued", "[stream]") {
  asio::io_context io;
  const Envelope request(7, 1, "the request");
  Stream<Envelope> s = about(request);
  CHECK(s.poll() == Stream<Envelope>::State::pending);
  s.start(io.get_executor(), &count_ring, nullptr);
  CHECK(s.poll() == Stream<Envelope>::State::pending);
  io.run_for(1s);
  REQUIRE(s.poll() == Stream<Envelope>::State::item);
  const Envelope first = s.take();
  CHECK(first.id() == 8);
  CHECK(first.payload_text() == "answer");
}

}  // namespace test_stream_cpp
