// MemorySocket (transport/memory_socket.hpp): a stream socket's semantics in memory, and a
// real connection actor served over it.

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <wireframe/wireframe.hpp>

#include "support/async_test.hpp"

namespace test_memory_socket_cpp {  // this file's names, apart from the other files of a unity build

namespace {

using namespace wireframe;
using namespace std::chrono_literals;

std::string text(const std::vector<std::byte>& v, std::size_t n) {
  return {reinterpret_cast<const char*>(v.data()), n};
}

// The wire bytes of a default frame (length prefix + envelope) carrying `payload`.
void append_frame(std::vector<std::byte>& wire, std::uint64_t correlation, std::string_view payload) {
  const Envelope e(1, correlation, payload);
  const std::size_t at = wire.size();
  wire.resize(at + 4 + e.encoded_size());
  const auto n = static_cast<std::uint32_t>(e.encoded_size());
  for (std::size_t i = 0; i < 4; ++i) wire[at + i] = static_cast<std::byte>(n >> (24 - 8 * i));
  e.encode_to(std::span(wire).subspan(at + 4));
}

}  // namespace

TEST_CASE("memory socket: bytes written on one end are read on the other, up to the capacity") {
  asio::io_context io;
  auto [a, b] = MemorySocket::pair(io.get_executor(), 8);
  asio::error_code ec;
  const std::string msg = "0123456789";
  CHECK(a.write_some(asio::buffer(msg), ec) == 8);  // the capacity: the rest would block
  CHECK_FALSE(ec);
  CHECK(a.unread_by_peer() == 8);
  CHECK(a.write_some(asio::buffer(msg.data() + 8, 2), ec) == 0);
  CHECK(ec == asio::error::would_block);
  CHECK(b.available(ec) == 8);

  std::vector<std::byte> got(5);
  CHECK(b.read_some(asio::buffer(got), ec) == 5);
  CHECK(text(got, 5) == "01234");
  CHECK(a.write_some(asio::buffer(msg.data() + 8, 2), ec) == 2);  // wraps around the ring
  got.assign(16, std::byte{});
  CHECK(b.read_some(asio::buffer(got), ec) == 5);
  CHECK(text(got, 5) == "56789");
  CHECK(b.read_some(asio::buffer(got), ec) == 0);
  CHECK(ec == asio::error::would_block);
}

TEST_CASE("memory socket: a half-close reads as EOF after the last byte, a close fails the peer's writes") {
  asio::io_context io;
  auto [a, b] = MemorySocket::pair(io.get_executor(), 64);
  asio::error_code ec;
  a.write_some(asio::buffer(std::string("hi")), ec);
  a.shutdown(asio::socket_base::shutdown_send, ec);
  CHECK(a.write_some(asio::buffer(std::string("x")), ec) == 0);
  CHECK(ec == asio::error::broken_pipe);
  std::array<char, 8> buf{};
  CHECK(b.read_some(asio::buffer(buf), ec) == 2);
  CHECK(b.read_some(asio::buffer(buf), ec) == 0);
  CHECK(ec == asio::error::eof);

  b.write_some(asio::buffer(std::string("back")), ec);  // the other direction still works
  CHECK(a.read_some(asio::buffer(buf), ec) == 4);
  a.close(ec);
  CHECK_FALSE(a.is_open());
  CHECK(b.write_some(asio::buffer(std::string("late")), ec) == 0);
  CHECK(ec == asio::error::broken_pipe);
  CHECK(a.read_some(asio::buffer(buf), ec) == 0);
  CHECK(ec == asio::error::bad_descriptor);
}

TEST_CASE("memory socket: asynchronous operations wait for the peer and never complete inline") {
  test::run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto [a, b] = MemorySocket::pair(ex, 4);
    std::vector<std::byte> got;
    bool reader_done = false;
    asio::co_spawn(ex, [&b = b, &got, &reader_done]() -> asio::awaitable<void> {
      std::array<std::byte, 3> buf{};
      for (;;) {
        auto [ec, n] = co_await b.async_read_some(asio::buffer(buf), wireframe::detail::use_nothrow);
        got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        if (ec) {
          CHECK(ec == asio::error::eof);
          break;
        }
      }
      reader_done = true;
    }, asio::detached);
    // 10 bytes through a 4-byte pipe: the writer waits for the reader to make room.
    const std::string msg = "abcdefghij";
    auto [wec, written] = co_await asio::async_write(a, asio::buffer(msg), wireframe::detail::use_nothrow);
    CHECK_FALSE(wec);
    CHECK(written == msg.size());
    asio::error_code ec;
    a.shutdown(asio::socket_base::shutdown_send, ec);
    bool inline_completion = true;
    a.async_wait(asio::socket_base::wait_write, [&](asio::error_code) { inline_completion = false; });
    CHECK(inline_completion);  // ready at once, yet posted
    for (int i = 0; i < 100 && !reader_done; ++i) co_await asio::post(ex, asio::use_awaitable);
    CHECK_FALSE(inline_completion);
    REQUIRE(reader_done);
    CHECK(text(got, got.size()) == msg);
  });
}

TEST_CASE("memory socket: cancel and per-operation cancellation abort a pending wait") {
  test::run_async([]() -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    auto ex = co_await asio::this_coro::executor;
    auto [a, b] = MemorySocket::pair(ex, 4);
    asio::steady_timer timer(ex, 10ms);
    // The timer wins: the read is cancelled through its cancellation slot, and completes.
    const auto first = co_await (a.async_wait(asio::socket_base::wait_read, wireframe::detail::use_nothrow) ||
                                 timer.async_wait(wireframe::detail::use_nothrow));
    CHECK(first.index() == 1);

    asio::error_code waited;
    bool done = false;
    a.async_wait(asio::socket_base::wait_read, [&](asio::error_code ec) {
      waited = ec;
      done = true;
    });
    co_await asio::post(ex, asio::use_awaitable);
    asio::error_code ec;
    a.cancel(ec);
    for (int i = 0; i < 10 && !done; ++i) co_await asio::post(ex, asio::use_awaitable);
    REQUIRE(done);
    CHECK(waited == asio::error::operation_aborted);

    // A write wakes a reader that is waiting.
    done = false;
    a.async_wait(asio::socket_base::wait_read, [&](asio::error_code e) {
      waited = e;
      done = true;
    });
    co_await asio::post(ex, asio::use_awaitable);
    b.write_some(asio::buffer(std::string("x")), ec);
    for (int i = 0; i < 10 && !done; ++i) co_await asio::post(ex, asio::use_awaitable);
    REQUIRE(done);
    CHECK_FALSE(waited);
    CHECK(a.available(ec) == 1);
  });
}

TEST_CASE("memory socket: a connection actor serves a peer over it, and ends when the peer closes") {
  asio::io_context io;
  auto [server_end, client_end] = MemorySocket::pair(io.get_executor(), 256);
  using Resp = Response<Envelope>;
  std::error_code reason = make_error_code(errc::connection_closed);
  bool ended = false;
  Transport transport = Transport::tcp;
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& r) -> Resp { return std::move(r); })
                 .on_connection_setup([&](ConnectionContext& ctx) { transport = ctx.transport(); })
                 .on_connection_teardown([&](ConnectionContext&, std::error_code ec) {
                   reason = ec;
                   ended = true;
                 })
                 .build();
  ConnectionTracker tracker;
  ConnectionActor<std::decay_t<decltype(*app)>, MemorySocket>::launch(std::move(server_end), app, 7, tracker);

  std::vector<std::byte> received;
  asio::co_spawn(io, [&c = client_end, &received]() -> asio::awaitable<void> {
    std::vector<std::byte> wire;
    for (std::uint64_t i = 0; i < 50; ++i) append_frame(wire, i, "request " + std::to_string(i));  // through 256 bytes
    auto reader = [&]() -> asio::awaitable<void> {
      std::array<std::byte, 100> buf{};
      for (;;) {
        auto [ec, n] = co_await c.async_read_some(asio::buffer(buf), wireframe::detail::use_nothrow);
        received.insert(received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        if (ec) break;
      }
    };
    asio::co_spawn(co_await asio::this_coro::executor, reader, asio::detached);
    co_await asio::async_write(c, asio::buffer(wire), wireframe::detail::use_nothrow);
    asio::error_code ec;
    c.shutdown(asio::socket_base::shutdown_send, ec);
  }, asio::detached);
  io.run_for(5s);

  REQUIRE(ended);
  CHECK_FALSE(reason);  // the peer's clean end
  CHECK(transport == Transport::memory);
  CHECK(tracker.size() == 0);
  LengthDelimitedCodec codec;
  std::span<const std::byte> rest(received);
  std::uint64_t next = 0;
  while (!rest.empty()) {
    const auto r = codec.decode(rest);
    REQUIRE(r.status == DecodeStatus::frame);
    Envelope e;
    REQUIRE_FALSE(e.decode_from(r.frame));
    CHECK(e.correlation_id() == next);
    CHECK(e.payload_text() == "request " + std::to_string(next));
    ++next;
    rest = rest.subspan(r.consumed);
  }
  CHECK(next == 50);
}

}  // namespace test_memory_socket_cpp
