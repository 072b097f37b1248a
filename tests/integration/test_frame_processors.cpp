// Frame processors on real connections: the CRC-32C example processor under fragmentation, the
// nesting order of a stack, a processor that holds frames, and a corrupt frame that ends only
// its own connection.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../../examples/checked_echo/crc32c_check.hpp"
#include "support/async_test.hpp"
#include "support/fragment_wire.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_frame_processors_cpp {  // this file's names, apart from the other files of a unity build

using example::Crc32cCheck;

namespace {

constexpr std::size_t frame_limit = 8 * 1024;

LengthDelimitedCodec small_frames(std::size_t limit = frame_limit) {
  LengthDelimitedCodec::Options o;
  o.max_frame_length = limit;
  return LengthDelimitedCodec(o);
}

Response<Envelope> echo(Envelope& request) { return std::move(request); }

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

std::span<const std::byte> as_bytes(const Wire& w) { return std::as_bytes(std::span(w)); }

// Splits raw bytes into the bodies of 4-byte length-prefixed frames (what is left incomplete
// stays in `rest`).
std::vector<Wire> frame_bodies(const Wire& bytes) {
  std::vector<Wire> out;
  std::size_t at = 0;
  while (bytes.size() - at >= 4) {
    const std::size_t n = std::size_t(bytes[at]) << 24 | std::size_t(bytes[at + 1]) << 16 |
                          std::size_t(bytes[at + 2]) << 8 | bytes[at + 3];
    if (bytes.size() - at - 4 < n) break;
    out.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(at + 4),
                     bytes.begin() + static_cast<std::ptrdiff_t>(at + 4 + n));
    at += 4 + n;
  }
  return out;
}

// A frame body as Crc32cCheck sends it.
Wire with_crc(Wire body) {
  const std::uint32_t crc = example::crc32c(as_bytes(body));
  put_be(body, crc, 4);
  return body;
}

// Wraps every frame in one byte before and one after, and checks both on the way in: stacked,
// the tags show the nesting order on the wire.
template <char Open, char Close>
struct Tag {
  InboundFrame inbound(std::span<const std::byte> frame, const FrameContext&) const {
    if (frame.size() < 2 || frame.front() != std::byte(Open) || frame.back() != std::byte(Close)) {
      return InboundFrame::fail(make_error_code(errc::corrupt_frame));
    }
    return InboundFrame::pass(frame.subspan(1, frame.size() - 2));
  }
  FrameOverhead overhead() const noexcept { return {1, 1}; }
  void outbound(std::span<std::byte> frame) const noexcept {
    frame.front() = std::byte(Open);
    frame.back() = std::byte(Close);
  }
};

// Takes empty frames in (keep-alives of a protocol) and counts them; passes the rest on.
struct KeepAliveFilter {
  std::shared_ptr<std::atomic<int>> seen = std::make_shared<std::atomic<int>>(0);
  InboundFrame inbound(std::span<const std::byte> frame, const FrameContext& ctx) const {
    if (!frame.empty()) return InboundFrame::pass(frame);
    if (ctx.connection != 0 && ctx.read_at.time_since_epoch().count() != 0) ++*seen;
    return InboundFrame::hold();
  }
  FrameOverhead overhead() const noexcept { return {}; }
  void outbound(std::span<std::byte>) const noexcept {}
};

// Records the errors connections report through the protocol hook.
struct ErrorLog {
  using hooks = protocol_hooks<hook::handle_error>;
  std::shared_ptr<std::atomic<int>> corrupt = std::make_shared<std::atomic<int>>(0);
  void handle_error(const WireframeError<NoProtocolError>& e,
                    ProtocolContext<NoConnectionState>&) const {
    if (e.is_io() && e.io_error() == errc::corrupt_frame) ++*corrupt;
  }
};

}  // namespace

TEST_CASE("a CRC-32C processor under fragmentation checks every fragment on the wire",
          "[integration][processor]") {
  const LenFlag32K strategy(1024);
  ServerFixture fx(WireframeApp<>()
                       .with_codec(small_frames())
                       .route(1, echo)
                       .with_processor(Crc32cCheck{})
                       .with_fragmentation(strategy)
                       .build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<LengthDelimitedCodec, Envelope, Crc32cCheck> client(
        co_await asio::this_coro::executor, small_frames());
    client.with_fragmentation(strategy);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    for (std::size_t size : {std::size_t{0}, std::size_t{100}, std::size_t{200 * 1024}}) {
      const auto payload = random_bytes(size, static_cast<unsigned>(size));
      auto [ec, reply] = co_await client.call(Envelope(1, 0, payload));
      REQUIRE_FALSE(ec);
      CHECK(std::ranges::equal(reply.payload(), payload));
    }
    // The reply's raw frames: each a LenFlag32K fragment of at most 1024 + 2 bytes followed by
    // the CRC-32C of exactly those bytes.
    const auto payload = random_bytes(10 * 1024, 3);
    CO_REQUIRE_OK(client.send(Envelope(1, 77, payload)));
    Wire raw;
    std::vector<Wire> bodies;
    Wire message;
    bool last = false;
    while (!last) {
      std::array<std::uint8_t, 4096> chunk;
      auto [ec, n] =
          co_await client.socket().async_read_some(asio::buffer(chunk), detail::use_nothrow);
      REQUIRE_FALSE(ec);
      raw.insert(raw.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
      bodies = frame_bodies(raw);
      message.clear();
      last = false;
      for (const Wire& body : bodies) {
        REQUIRE(body.size() >= 2 + 4);
        REQUIRE(body.size() <= 1024 + 2 + 4);
        const Wire fragment(body.begin(), body.end() - 4);
        CHECK(with_crc(fragment) == body);
        message.insert(message.end(), fragment.begin() + 2, fragment.end());
        last = (fragment[0] & 0x80) != 0;  // LenFlag32K: the top bit marks the final fragment
      }
    }
    CHECK(bodies.size() == 11);  // 10 KiB + the envelope header in 1 KiB fragments
    Envelope decoded;
    const std::error_code decode_error = decoded.decode_from(as_bytes(message));
    REQUIRE_FALSE(decode_error);
    CHECK(decoded.correlation_id() == 77);
    CHECK(std::ranges::equal(decoded.payload(), payload));
  });
}

TEST_CASE("frame processors nest: the first added is nearest the codec",
          "[integration][processor]") {
  ServerFixture fx(WireframeApp<>()
                       .route(1, echo)
                       .with_processor(Tag<'A', 'a'>{})
                       .with_processor(Tag<'B', 'b'>{})
                       .build());
  run_async([&]() -> asio::awaitable<void> {
    // Through a client of the same stack, in the same order.
    WireframeClient<LengthDelimitedCodec, Envelope, Tag<'A', 'a'>, Tag<'B', 'b'>> client(
        co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, reply] = co_await client.call(Envelope(1, 0, std::string_view("nested")));
    REQUIRE_FALSE(ec);
    CHECK(reply.payload_text() == "nested");

    // On the wire: A B <envelope> b a, both ways.
    auto good = co_await raw_connect(fx.endpoint());
    Wire body{'A', 'B'};
    put_bytes(body, envelope_bytes(Envelope(1, 5, std::string_view("raw"))));
    put_bytes(body, Wire{'b', 'a'});
    co_await raw_write(good, framed(body));
    good.shutdown(asio::ip::tcp::socket::shutdown_send);
    const auto back = frame_bodies(co_await read_until_closed(good));
    REQUIRE(back.size() == 1);
    CHECK(back[0] == body);

    // Nested the other way round: the outer stage refuses it and the connection closes unanswered.
    auto swapped = co_await raw_connect(fx.endpoint());
    Wire wrong{'B', 'A'};
    put_bytes(wrong, envelope_bytes(Envelope(1, 6, std::string_view("raw"))));
    put_bytes(wrong, Wire{'a', 'b'});
    co_await raw_write(swapped, framed(wrong));
    const auto nothing = co_await read_until_closed(swapped);
    CHECK(nothing.empty());
  });
}

TEST_CASE("a frame processor that holds a frame keeps it from the router",
          "[integration][processor]") {
  const KeepAliveFilter filter;
  ServerFixture fx(WireframeApp<>().route(1, echo).with_processor(filter).build());
  run_async([&]() -> asio::awaitable<void> {
    auto s = co_await raw_connect(fx.endpoint());
    // keep-alive, request, keep-alive, request, keep-alive: in one write.
    const Wire keep_alive = framed(Wire{});
    const Wire bytes =
        keep_alive + framed(envelope_bytes(Envelope(1, 1, std::string_view("one")))) + keep_alive +
        framed(envelope_bytes(Envelope(1, 2, std::string_view("two")))) + keep_alive;
    co_await raw_write(s, bytes);
    s.shutdown(asio::ip::tcp::socket::shutdown_send);
    const auto replies = frame_bodies(co_await read_until_closed(s));
    REQUIRE(replies.size() == 2);
    CHECK(replies[0] == envelope_bytes(Envelope(1, 1, std::string_view("one"))));
    CHECK(replies[1] == envelope_bytes(Envelope(1, 2, std::string_view("two"))));
    CHECK(filter.seen->load() == 3);  // each one held, with its connection and read time
  });
}

TEST_CASE("a corrupt frame ends its own connection after the requests before it",
          "[integration][processor]") {
  const ErrorLog errors;
  TeardownLog teardowns;
  ServerFixture fx(WireframeApp<>()
                       .route(1, echo)
                       .on_connection_teardown(
                           [&](ConnectionContext&, std::error_code ec) { teardowns.add(ec); })
                       .with_processor(Crc32cCheck{})
                       .with_protocol(errors)
                       .build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<LengthDelimitedCodec, Envelope, Crc32cCheck> bystander(
        co_await asio::this_coro::executor);
    CO_REQUIRE_OK(bystander.connect(fx.endpoint()));

    auto s = co_await raw_connect(fx.endpoint());
    const Wire good = with_crc(envelope_bytes(Envelope(1, 1, std::string_view("good"))));
    Wire bad = with_crc(envelope_bytes(Envelope(1, 2, std::string_view("bad"))));
    bad[bad.size() - 6] ^= 0x01;  // one bit of the payload: the checksum no longer matches
    const Wire after = with_crc(envelope_bytes(Envelope(1, 3, std::string_view("never"))));
    co_await raw_write(s, framed(good) + framed(bad) + framed(after));
    const auto replies = frame_bodies(co_await read_until_closed(s));
    REQUIRE(replies.size() == 1);
    CHECK(replies[0] == good);
    CHECK(errors.corrupt->load() == 1);
    CO_CHECK(eventually_async([&] { return teardowns.size() == 1; }));
    CHECK(teardowns.reasons().at(0) == errc::corrupt_frame);

    auto [ec, reply] = co_await bystander.call(Envelope(1, 0, std::string_view("still here")));
    REQUIRE_FALSE(ec);
    CHECK(reply.payload_text() == "still here");
  });
}

TEST_CASE("build() counts the frame processors' overhead against the codec's frame limit",
          "[integration][processor]") {
  // A 1024-byte LenFlag32K fragment with its 2-byte header, plus 4 bytes of CRC.
  auto app = [](std::size_t limit) {
    return WireframeApp<>()
        .with_codec(small_frames(limit))
        .route(1, echo)
        .with_processor(Crc32cCheck{});
  };
  CHECK_THROWS_AS(app(1024 + 2 + 3).with_fragmentation(LenFlag32K(1024)).build(),
                  std::system_error);
  CHECK_NOTHROW(app(1024 + 2 + 4).with_fragmentation(LenFlag32K(1024)).build());
}

}  // namespace test_frame_processors_cpp
