// A hostile peer against a fragmenting server, over real sockets: every attack gets its own
// error (through WireframeProtocol::handle_error and the teardown reason), the connection's
// reassembly memory stays within ReassemblyLimits, and other clients are served throughout.
//
// The attacker is a fragmenting WireframeClient that also writes hand-built fragments straight
// to its socket (support/fragment_wire.hpp). Its "stats" request (id 9) is answered with the
// connection's ReassemblyStats as seen after every fragment sent before it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/async_test.hpp"
#include "support/fragment_wire.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_fragment_attacks_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

constexpr std::size_t max_message = 64 * 1024;
constexpr std::size_t max_buffered = 96 * 1024;
constexpr std::size_t max_partials = 3;
constexpr std::size_t fragment_cap = 1024;

// Errors the server reported through the protocol hook (hooks run on server threads).
struct ErrorLog {
  std::mutex mutex;
  std::vector<std::error_code> codes;
  std::size_t count(std::error_code ec) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count(codes.begin(), codes.end(), ec));
  }
};

struct Recorder {
  using hooks = protocol_hooks<hook::handle_error>;
  std::shared_ptr<ErrorLog> log;
  void handle_error(const WireframeError<NoProtocolError>& e, ProtocolContext<NoConnectionState>&) {
    if (!e.is_io()) return;
    std::lock_guard lock(log->mutex);
    log->codes.push_back(e.io_error());
  }
};

ReassemblyLimits tight(std::chrono::milliseconds timeout = 30s) {
  ReassemblyLimits l;
  l.max_message_size = max_message;
  l.max_buffered_bytes = max_buffered;
  l.max_partials = max_partials;
  l.reassembly_timeout = timeout;
  return l;
}

asio::awaitable<Resp> echo(Envelope& req) {
  co_return Resp(Envelope(req.id(), req.correlation_id(), req.payload()));
}

asio::awaitable<Resp> stats(Envelope& req, ConnectionContext& ctx) {
  const ReassemblyStats s = ctx.reassembly_stats();
  co_return Resp(Envelope(9, req.correlation_id(), fmt::format("{} {}", s.partials, s.buffered_bytes)));
}

template <class Strategy>
struct Target {
  std::shared_ptr<ErrorLog> errors = std::make_shared<ErrorLog>();
  TeardownLog teardowns;
  ServerFixture fx;

  explicit Target(Strategy s, ReassemblyLimits limits = tight(),
                  FragmentErrorPolicy policy = FragmentErrorPolicy::by_kind)
      : fx(WireframeApp<>()
               .with_fragmentation(s, limits, policy)
               .with_protocol(Recorder{errors})
               .on_connection_teardown([this](ConnectionContext&, std::error_code ec) { teardowns.add(ec); })
               .route(1, echo)
               .route(9, stats)
               .build()) {}
};

template <class Strategy>
asio::awaitable<std::unique_ptr<WireframeClient<>>> connect_client(const asio::ip::tcp::endpoint& ep, Strategy s) {
  auto client = std::make_unique<WireframeClient<>>(co_await asio::this_coro::executor);
  client->with_fragmentation(s, tight());
  CO_REQUIRE_OK(client->connect(ep));
  co_return client;
}

asio::awaitable<void> send_raw(WireframeClient<>& c, const Wire& bytes) {
  co_await asio::async_write(c.socket(), asio::buffer(bytes), asio::use_awaitable);
}

// The connection's reassembly state after everything sent so far: "partials buffered_bytes".
asio::awaitable<ReassemblyStats> stats_of(WireframeClient<>& c) {
  auto [ec, reply] = co_await c.call(Envelope(9, 0));
  REQUIRE_FALSE(ec);
  ReassemblyStats s;
  REQUIRE(std::sscanf(std::string(reply.payload_text()).c_str(), "%zu %zu", &s.partials, &s.buffered_bytes) == 2);
  co_return s;
}

// An echo round trip of a message several fragments long: the connection works.
asio::awaitable<bool> serves(WireframeClient<>& c) {
  const std::string text(5 * fragment_cap, 'x');
  auto [ec, reply] = co_await c.call(Envelope(1, 0, text));
  co_return !ec && reply.payload_text() == text;
}

// The server closed this client's connection: a request gets no reply, only an error
// (connection_closed, or a reset/broken pipe when the close raced the request).
asio::awaitable<bool> closed(WireframeClient<>& c) {
  auto [ec, reply] = co_await c.call(Envelope(1, 0, "anyone?"));
  co_return static_cast<bool>(ec);
}

Wire bytes_of(std::size_t n, std::uint8_t fill = 0xab) { return Wire(n, fill); }

}  // namespace

TEST_CASE("attack: a declared total above max_message_size is refused on the first fragment",
          "[integration][fragment][attack]") {
  Target t(Multiplexed{fragment_cap});
  run_async([&]() -> asio::awaitable<void> {
    auto bystander = co_await connect_client(t.fx.endpoint(), Multiplexed{fragment_cap});
    auto attacker = co_await connect_client(t.fx.endpoint(), Multiplexed{fragment_cap});
    co_await send_raw(*attacker, mux_fragment(false, 500, 0, bytes_of(100), std::uint64_t{1} << 40));
    const ReassemblyStats s = co_await stats_of(*attacker);
    CHECK(s.partials == 0);
    CHECK(s.buffered_bytes == 0);  // nothing reserved for the announced terabyte
    CHECK(t.errors->count(fragment_errc::message_too_large) == 1);
    // Its later fragments are skipped silently; the connection (and the others) carry on.
    co_await send_raw(*attacker, mux_fragment(true, 500, 1, bytes_of(100)));
    CO_CHECK(serves(*attacker));
    CO_CHECK(serves(*bystander));
    CHECK(t.errors->count(fragment_errc::message_too_large) == 1);
  });
}

TEST_CASE("attack: endless fragments stop at max_message_size, memory stays bounded",
          "[integration][fragment][attack]") {
  Target t(LenFlag32K{fragment_cap});
  run_async([&]() -> asio::awaitable<void> {
    auto bystander = co_await connect_client(t.fx.endpoint(), LenFlag32K{fragment_cap});
    auto attacker = co_await connect_client(t.fx.endpoint(), LenFlag32K{fragment_cap});
    // Four times the limit in non-final fragments (LenFlag32K carries one message at a time,
    // so the stats request can only come after the "message" ends).
    Wire burst;
    for (int i = 0; i < 64; ++i) burst = burst + lenflag_fragment(false, bytes_of(fragment_cap));
    for (int b = 0; b < 4; ++b) co_await send_raw(*attacker, burst);
    co_await send_raw(*attacker, lenflag_fragment(true, bytes_of(10)));  // the "message" ends
    const ReassemblyStats s = co_await stats_of(*attacker);
    CHECK(s.partials == 0);
    CHECK(s.buffered_bytes == 0);
    CHECK(t.errors->count(fragment_errc::message_too_large) == 1);  // reported once, then skipped
    CO_CHECK(serves(*attacker));
    CO_CHECK(serves(*bystander));
  });
}

TEST_CASE("attack: many partial messages at once hit max_partials and the byte budget",
          "[integration][fragment][attack]") {
  Target t(Multiplexed{fragment_cap});
  run_async([&]() -> asio::awaitable<void> {
    auto bystander = co_await connect_client(t.fx.endpoint(), Multiplexed{fragment_cap});
    auto attacker = co_await connect_client(t.fx.endpoint(), Multiplexed{fragment_cap});
    // Ten messages each declaring 40 KiB: the budget (96 KiB) holds two, max_partials three.
    for (std::uint32_t id = 1000; id < 1010; ++id) {
      co_await send_raw(*attacker, mux_fragment(false, id, 0, bytes_of(100), std::uint64_t{40 * 1024}));
    }
    ReassemblyStats s = co_await stats_of(*attacker);
    CHECK(s.partials == 2);
    CHECK(s.buffered_bytes == 2 * 40 * 1024);
    CHECK(s.buffered_bytes <= max_buffered);
    CHECK(t.errors->count(fragment_errc::buffer_limit) == 8);
    // Small ones fill the partial slots: the fourth is one too many.
    for (std::uint32_t id = 2000; id < 2002; ++id) {
      co_await send_raw(*attacker, mux_fragment(false, id, 0, bytes_of(100)));
    }
    s = co_await stats_of(*attacker);
    CHECK(s.partials == max_partials);
    CHECK(s.buffered_bytes <= max_buffered);
    CHECK(t.errors->count(fragment_errc::too_many_partials) == 1);
    // Whole messages need no slot: the connection still serves, and so do the others.
    CO_CHECK(serves(*bystander));
    const auto small = envelope_bytes(Envelope(1, 77, "tiny"));
    co_await send_raw(*attacker, mux_fragment(true, 3000, 0, small));
    auto [ec, reply] = co_await attacker->receive_for(77);
    CHECK_FALSE(ec);
    CHECK(reply.payload_text() == "tiny");
  });
}

TEST_CASE("attack: a message left incomplete is dropped after reassembly_timeout",
          "[integration][fragment][attack]") {
  Target t(Multiplexed{fragment_cap}, tight(200ms));
  run_async([&]() -> asio::awaitable<void> {
    auto attacker = co_await connect_client(t.fx.endpoint(), Multiplexed{fragment_cap});
    co_await send_raw(*attacker, mux_fragment(false, 700, 0, bytes_of(500)));
    ReassemblyStats s = co_await stats_of(*attacker);
    CHECK(s.partials == 1);
    CO_CHECK(eventually_async([&] { return t.errors->count(fragment_errc::reassembly_timeout) == 1; }));
    s = co_await stats_of(*attacker);
    CHECK(s.partials == 0);
    CHECK(s.buffered_bytes == 0);
    // Trickling more of it does not revive it, nor does it count as an error again.
    co_await send_raw(*attacker, mux_fragment(true, 700, 1, bytes_of(500)));
    CO_CHECK(serves(*attacker));
    CHECK(t.errors->count(fragment_errc::reassembly_timeout) == 1);
  });
}

namespace {

// Sends `attack`, then checks that the attacker was disconnected with `expected` (reported
// through handle_error and as the teardown reason) while a bystander keeps being served.
void expect_disconnect(const Wire& attack, fragment_errc expected) {
  Target t(Multiplexed{fragment_cap});
  run_async([&]() -> asio::awaitable<void> {
    auto bystander = co_await connect_client(t.fx.endpoint(), Multiplexed{fragment_cap});
    auto attacker = co_await connect_client(t.fx.endpoint(), Multiplexed{fragment_cap});
    co_await send_raw(*attacker, attack);
    CO_CHECK(closed(*attacker));
    CO_CHECK(serves(*bystander));
    CHECK(t.errors->count(expected) == 1);
    CO_CHECK(eventually_async([&] { return t.teardowns.size() == 1; }));
    CHECK(t.teardowns.reasons().front() == make_error_code(expected));
  });
}

}  // namespace

TEST_CASE("attack: a sequence gap closes the connection with sequence_gap", "[integration][fragment][attack]") {
  expect_disconnect(mux_fragment(false, 1, 0, bytes_of(10)) + mux_fragment(false, 1, 2, bytes_of(10)),
                    fragment_errc::sequence_gap);
}

TEST_CASE("attack: a duplicate fragment closes the connection with duplicate_fragment",
          "[integration][fragment][attack]") {
  expect_disconnect(mux_fragment(false, 1, 0, bytes_of(10)) + mux_fragment(false, 1, 1, bytes_of(10)) +
                        mux_fragment(false, 1, 1, bytes_of(10)),
                    fragment_errc::duplicate_fragment);
}

TEST_CASE("attack: fragments going backwards close the connection with out_of_order",
          "[integration][fragment][attack]") {
  expect_disconnect(mux_fragment(false, 1, 0, bytes_of(10)) + mux_fragment(false, 1, 1, bytes_of(10)) +
                        mux_fragment(false, 1, 2, bytes_of(10)) + mux_fragment(false, 1, 0, bytes_of(10)),
                    fragment_errc::out_of_order);
}

TEST_CASE("attack: a message without its first fragment closes the connection with missing_first",
          "[integration][fragment][attack]") {
  expect_disconnect(mux_fragment(false, 1, 5, bytes_of(10)), fragment_errc::missing_first);
}

TEST_CASE("attack: fragments not adding up to the declared total close with length_mismatch",
          "[integration][fragment][attack]") {
  expect_disconnect(mux_fragment(false, 1, 0, bytes_of(10), std::uint64_t{15}) + mux_fragment(true, 1, 1, bytes_of(10)),
                    fragment_errc::length_mismatch);
}

TEST_CASE("attack: a frame that is no fragment closes the connection with bad_header",
          "[integration][fragment][attack]") {
  expect_disconnect(framed(Wire{0xff, 0, 0}), fragment_errc::bad_header);
}

TEST_CASE("FragmentErrorPolicy: drop_message keeps a misbehaving peer, close_connection drops any",
          "[integration][fragment][attack]") {
  SECTION("drop_message") {
    Target t(Multiplexed{fragment_cap}, tight(), FragmentErrorPolicy::drop_message);
    run_async([&]() -> asio::awaitable<void> {
      auto peer = co_await connect_client(t.fx.endpoint(), Multiplexed{fragment_cap});
      co_await send_raw(*peer, mux_fragment(false, 1, 0, bytes_of(10)) + mux_fragment(false, 1, 2, bytes_of(10)));
      CO_CHECK(serves(*peer));
      CHECK(t.errors->count(fragment_errc::sequence_gap) == 1);
    });
  }
  SECTION("close_connection") {
    Target t(Multiplexed{fragment_cap}, tight(), FragmentErrorPolicy::close_connection);
    run_async([&]() -> asio::awaitable<void> {
      auto peer = co_await connect_client(t.fx.endpoint(), Multiplexed{fragment_cap});
      co_await send_raw(*peer, mux_fragment(false, 1, 0, bytes_of(10), std::uint64_t{1} << 40));
      CO_CHECK(closed(*peer));
      CHECK(t.errors->count(fragment_errc::message_too_large) == 1);
    });
  }
}

}  // namespace test_fragment_attacks_cpp
