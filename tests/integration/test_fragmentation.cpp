// Fragmentation on real connections: whole messages over small frames in both directions, and
// a high-priority push overtaking a large response (Multiplexed) or waiting for it (LenFlag32K).
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "support/async_test.hpp"
#include "support/fragment_wire.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_fragmentation_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

constexpr std::size_t frame_limit = 32 * 1024;

LengthDelimitedCodec small_frames() {
  LengthDelimitedCodec::Options o;
  o.max_frame_length = frame_limit;
  return LengthDelimitedCodec(o);
}

ReassemblyLimits roomy() {
  ReassemblyLimits l;
  l.max_message_size = 32 * 1024 * 1024;
  l.max_buffered_bytes = 32 * 1024 * 1024;
  return l;
}

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

asio::awaitable<Resp> echo(Envelope& req) {
  co_return Resp(Envelope(req.id(), req.correlation_id(), req.payload()));
}

Resp plain_echo(Envelope& req) { return Envelope(req.id(), req.correlation_id(), req.payload()); }

// A plain handler is served in the reader's turn, its reply sent through the response lane at
// once (no outbound ring) when nothing is ahead of it. Pipelined, mixed sizes: replies that fit
// one fragment, replies that need several (the lane keeps the rest for the writer, and the next
// reply must queue behind them), and one past the borrowing threshold. All in order, byte-exact.
template <class Strategy>
void check_pipelined_inline(Strategy strategy) {
  ServerFixture fx(WireframeApp<>()
                       .with_codec(small_frames())
                       .with_fragmentation(strategy, roomy())
                       .route(1, plain_echo)
                       .build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor, small_frames());
    client.with_fragmentation(strategy, roomy());
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    const std::vector<std::size_t> sizes = {5, 40 * 1024, 0, 7, 100 * 1024, 64, 33 * 1024, 1, 2, 3};
    std::vector<Envelope> batch;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      batch.emplace_back(1, i + 1, random_bytes(sizes[i], static_cast<unsigned>(i)));
    }
    CO_REQUIRE_OK(client.send_all(batch));
    for (const Envelope& sent : batch) {
      auto [ec, reply] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(reply.correlation_id() == sent.correlation_id());
      CHECK(std::equal(reply.payload().begin(), reply.payload().end(), sent.payload().begin(), sent.payload().end()));
    }
  }, 30s);
}

template <class Strategy>
void check_round_trips(Strategy strategy) {
  ServerFixture fx(WireframeApp<>()
                       .with_codec(small_frames())
                       .with_fragmentation(strategy, roomy())
                       .route(1, echo)
                       .build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor, small_frames());
    client.with_fragmentation(strategy, roomy());
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    // Empty, tiny, exactly one fragment's worth, one more byte, and several MiB.
    const std::size_t cap = strategy.max_fragment_payload();
    const std::size_t header = Envelope(1, 0).encoded_size();
    for (std::size_t size : {std::size_t{0}, std::size_t{5}, cap - header, cap - header + 1,
                             std::size_t{3 * 1024 * 1024 + 17}}) {
      const auto payload = random_bytes(size, static_cast<unsigned>(size));
      auto [ec, reply] = co_await client.call(Envelope(1, 0, payload));
      REQUIRE_FALSE(ec);
      CHECK(reply.payload().size() == size);
      CHECK(std::equal(reply.payload().begin(), reply.payload().end(), payload.begin(), payload.end()));
    }
  }, 30s);
}

}  // namespace

TEST_CASE("LenFlag32K: whole messages of any size cross a 32 KiB frame limit both ways",
          "[integration][fragment]") {
  check_round_trips(LenFlag32K(frame_limit - LenFlag32K::header_length));
}

TEST_CASE("Multiplexed: whole messages of any size cross a 32 KiB frame limit both ways",
          "[integration][fragment]") {
  check_round_trips(Multiplexed(frame_limit - Multiplexed::max_header_size()));
}

TEST_CASE("LenFlag32K: pipelined replies of a plain handler, of every size, come back in order",
          "[integration][fragment]") {
  check_pipelined_inline(LenFlag32K(frame_limit - LenFlag32K::header_length));
}

TEST_CASE("Multiplexed: pipelined replies of a plain handler, of every size, come back in order",
          "[integration][fragment]") {
  check_pipelined_inline(Multiplexed(frame_limit - Multiplexed::max_header_size()));
}

TEST_CASE("every frame a fragmenting server sends fits the codec limit", "[integration][fragment]") {
  // A 1 MiB response read with a plain (non-fragmenting) client: each frame must decode under a
  // 32 KiB codec, and the frame bodies must be LenFlag32K fragments adding up to the message.
  ServerFixture fx(WireframeApp<>()
                       .with_codec(small_frames())
                       .with_fragmentation(LenFlag32K(frame_limit - 2))
                       .route(1, echo)
                       .build());
  run_async([&]() -> asio::awaitable<void> {
    const auto payload = random_bytes(1024 * 1024, 7);
    // Sends through a fragmenting client, reads the raw frames back on the same socket.
    WireframeClient<> sender(co_await asio::this_coro::executor, small_frames());
    sender.with_fragmentation(LenFlag32K(frame_limit - 2));
    CO_REQUIRE_OK(sender.connect(fx.endpoint()));
    CO_REQUIRE_OK(sender.send(Envelope(1, 3, payload)));
    Reassembler<LenFlag32K> r(LenFlag32K{}, roomy());
    LengthDelimitedCodec codec = small_frames();
    ByteBuffer in;
    std::size_t frames = 0;
    for (bool whole = false; !whole;) {
      auto space = in.prepare(64 * 1024);
      auto [ec, n] = co_await sender.socket().async_read_some(asio::buffer(space.data(), space.size()),
                                                              detail::use_nothrow);
      REQUIRE_FALSE(ec);
      in.commit(n);
      for (;;) {
        const DecodeResult d = codec.decode(in.readable());
        REQUIRE(d.status != DecodeStatus::error);
        if (d.status == DecodeStatus::need_more) break;
        ++frames;
        const auto res = r.feed(d.frame, std::chrono::steady_clock::now());
        REQUIRE(res.status != ReassemblyStatus::error);
        if (res.status == ReassemblyStatus::complete) {
          Envelope e;
          REQUIRE_FALSE(e.decode_from(res.message));
          CHECK(e.correlation_id() == 3);
          CHECK(std::equal(e.payload().begin(), e.payload().end(), payload.begin(), payload.end()));
          whole = true;
        }
        in.consume(d.consumed);
      }
    }
    CHECK(frames == (1024 * 1024 + 12 + frame_limit - 3) / (frame_limit - 2));
  }, 30s);
}

namespace {

// The frames a connection receives, in order: which message each completed, by payload text
// for small messages, and how many fragments of the big message (id 1) came after the push.
struct Arrivals {
  std::size_t big_fragments_after_push = 0;
  bool push_seen = false;
  bool big_complete = false;
  bool big_intact = false;
};

// The connection that asked for the big response, for the push (app state).
struct BigResponder {
  std::mutex mutex;
  std::optional<PushHandle<Envelope>> handle;
};

asio::awaitable<Resp> big_response(Envelope& req, ConnectionContext& ctx) {
  {
    auto& who = ctx.state<BigResponder>();
    std::lock_guard lock(who.mutex);
    who.handle = ctx.push_handle<Envelope>();
  }
  co_return Resp(Envelope(1, req.correlation_id(), random_bytes(16 * 1024 * 1024, 1)));
}

// Pushes to the big response's connection (from another connection: while the big response is
// in progress, its own connection reads no new requests).
asio::awaitable<Resp> urgent_push(Envelope& req, ConnectionContext& ctx) {
  std::optional<PushHandle<Envelope>> target;
  {
    auto& who = ctx.state<BigResponder>();
    std::lock_guard lock(who.mutex);
    target = who.handle;
  }
  if (target) (void)target->try_push(Envelope(7, 0, "urgent"), PushPriority::high);
  co_return Envelope(req.id(), req.correlation_id(), "pushed");
}

// Asks for a 16 MiB response, reads its first frame, then asks (on a second connection) for a
// high push to the first, and reads everything (own Reassembler, so that the order of fragments
// is visible).
template <class Strategy>
asio::awaitable<Arrivals> watch_push_vs_big_response(const asio::ip::tcp::endpoint& ep, Strategy s) {
  asio::ip::tcp::socket sock(co_await asio::this_coro::executor);
  sock.open(asio::ip::tcp::v4());
  sock.set_option(asio::socket_base::receive_buffer_size(64 * 1024));  // keep the server's writer busy
  co_await sock.async_connect(ep, asio::use_awaitable);
  auto single = [&](const Envelope& e) {
    Wire body = envelope_bytes(e);
    if constexpr (std::is_same_v<Strategy, Multiplexed>) return mux_fragment(true, 100 + e.id(), 0, body);
    else return lenflag_fragment(true, body);
  };
  co_await raw_write(sock, single(Envelope(1, 1)));
  Reassembler<Strategy> r(s, roomy());
  const LengthDelimitedCodec codec = small_frames();
  ByteBuffer in;
  Arrivals seen;
  bool asked = false;
  asio::ip::tcp::socket other(co_await asio::this_coro::executor);
  co_await other.async_connect(ep, asio::use_awaitable);
  while (!(seen.push_seen && seen.big_complete)) {
    auto space = in.prepare(16 * 1024);
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(space.data(), space.size()), detail::use_nothrow);
    REQUIRE_FALSE(ec);
    in.commit(n);
    for (DecodeResult d = codec.decode(in.readable()); d.status == DecodeStatus::frame;
         d = codec.decode(in.readable())) {
      const auto res = r.feed(d.frame, std::chrono::steady_clock::now());
      REQUIRE(res.status != ReassemblyStatus::error);
      const bool is_big = s.decode_header(d.frame).meta.payload_length > 1024;
      if (seen.push_seen && is_big) ++seen.big_fragments_after_push;
      if (res.status == ReassemblyStatus::complete) {
        Envelope e;
        REQUIRE_FALSE(e.decode_from(res.message));
        if (e.id() == 7) seen.push_seen = true;
        if (e.id() == 1) {
          seen.big_complete = true;
          const auto expected = random_bytes(16 * 1024 * 1024, 1);
          seen.big_intact = std::equal(e.payload().begin(), e.payload().end(), expected.begin(), expected.end());
        }
      }
      in.consume(d.consumed);
      if (!asked) {  // the big response has started: now the urgent push
        asked = true;
        co_await raw_write(other, single(Envelope(2, 2)));
      }
    }
  }
  co_return seen;
}

template <class Strategy>
auto push_vs_big_app(Strategy s) {
  return WireframeApp<>()
      .with_codec(small_frames())
      .with_fragmentation(s, roomy())
      .route(1, big_response)
      .route(2, urgent_push)
      .with_state(std::make_shared<BigResponder>())
      .build();
}

}  // namespace

TEST_CASE("Multiplexed: a high push goes out between the fragments of a large response",
          "[integration][fragment][push]") {
  const Multiplexed s(frame_limit - Multiplexed::max_header_size());
  ServerFixture fx(push_vs_big_app(s));
  run_async([&]() -> asio::awaitable<void> {
    const Arrivals seen = co_await watch_push_vs_big_response(fx.endpoint(), s);
    CHECK(seen.big_intact);
    // No head-of-line blocking: most of the 16 MiB (512 fragments) was still to come.
    CHECK(seen.big_fragments_after_push > 100);
  }, 30s);
}

TEST_CASE("LenFlag32K: a push waits for the large message in progress (no interleaving)",
          "[integration][fragment][push]") {
  const LenFlag32K s(frame_limit - LenFlag32K::header_length);
  ServerFixture fx(push_vs_big_app(s));
  run_async([&]() -> asio::awaitable<void> {
    const Arrivals seen = co_await watch_push_vs_big_response(fx.endpoint(), s);
    CHECK(seen.big_intact);  // a fragment in between would have corrupted it
    CHECK(seen.big_fragments_after_push == 0);
  }, 30s);
}

TEST_CASE("build() refuses fragments that do not fit the codec, and invalid limits",
          "[integration][fragment]") {
  auto app = [] { return WireframeApp<>().with_codec(small_frames()).route(1, echo); };
  // LenFlag32K() is 2 + 32767 bytes: one more than a 32 KiB frame.
  CHECK_THROWS_AS(app().with_fragmentation(LenFlag32K()).build(), std::system_error);
  CHECK_NOTHROW(app().with_fragmentation(LenFlag32K(frame_limit - 2)).build());
  CHECK_NOTHROW(app().with_fragmentation(Multiplexed()).build());  // its default is exactly 32 KiB
  ReassemblyLimits no_timeout;
  no_timeout.reassembly_timeout = 0s;
  CHECK_THROWS_AS(app().with_fragmentation(Multiplexed(), no_timeout).build(), std::system_error);
}

}  // namespace test_fragmentation_cpp
