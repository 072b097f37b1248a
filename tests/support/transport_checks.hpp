#pragma once
// The checks every transport must pass (echo, pushes, fragmented messages), written once and
// run per transport: tests/integration/test_transports.cpp runs them over TCP and a Unix domain
// socket, tests/tls/test_tls.cpp over TLS. A transport is a policy type:
//
//   struct Via {
//     static constexpr bool unix_socket;  // the fixture also binds a Unix socket
//     template <class App> static void bind(WireframeServer&, std::shared_ptr<const App>);  // more listeners
//     static asio::awaitable<std::error_code> connect(WireframeClient<>&, ServerFixture&);
//     static void check_peer(std::string_view seen);  // what the handler reports of its peer
//   };

#include <random>
#include <string>
#include <vector>

#include "support/async_test.hpp"

namespace wireframe::test::transport {

using Resp = Response<Envelope>;

inline constexpr std::uint32_t echo_id = 1;
inline constexpr std::uint32_t peer_id = 2;  // answers with what the handler knows of its peer
inline constexpr std::uint32_t push_id = 3;  // answers, then pushes two frames after its reply

inline std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

// peer_id's answer: "unix <peer>" on a Unix socket, "tls <version> <peer>" over TLS, else the peer.
inline std::string describe_peer(const ConnectionContext& ctx) {
  std::string out;
  if (ctx.transport() == Transport::unix_domain) out += "unix ";
  if (ctx.tls() != nullptr) out += "tls " + ctx.tls()->version + " ";
  return out + ctx.peer_name();
}

inline auto app() {
  return WireframeApp<>()
      .route(echo_id, [](Envelope& e) -> Resp { return std::move(e); })
      .route(peer_id,
             [](Envelope& e, ConnectionContext& ctx) -> Resp {
               return Envelope(e.id(), e.correlation_id(), describe_peer(ctx));
             })
      .route(push_id, [](Envelope& e, ConnectionContext& ctx) -> asio::awaitable<Resp> {
        // No Catch2 assertion here (a server thread): a refused push shows in what the client gets.
        auto handle = ctx.push_handle<Envelope>();
        (void)handle.try_push(Envelope(9, 0, "high"), PushPriority::high);
        (void)handle.try_push(Envelope(9, 0, "low"), PushPriority::low);
        co_return std::move(e);
      });
}

template <class Via, class App>
std::unique_ptr<ServerFixture> serve(std::shared_ptr<const App> built) {
  return std::make_unique<ServerFixture>(built, 1, 2s, Via::unix_socket,
                                         [built](WireframeServer& s) { Via::bind(s, built); });
}

// Pipelined echoes of every size, replies in order and byte-exact; the handler sees the transport.
// 240 KB in all: the client writes everything before it reads, so the replies must fit in the
// socket buffers and the server's outbound budget (a Unix socket buffers about 200 KB).
template <class Via>
void check_echo() {
  auto fx = serve<Via>(app().build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(Via::connect(client, *fx));
    std::vector<Envelope> batch;
    for (std::size_t i = 0; i < 20; ++i) {
      batch.emplace_back(echo_id, i + 1, random_bytes(i * i * 97, static_cast<unsigned>(i)));
    }
    CO_REQUIRE_OK(client.send_all(batch));
    for (const Envelope& sent : batch) {
      auto [ec, reply] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(reply == sent);
    }
    auto [ec, seen] = co_await client.call(Envelope(peer_id, 0, ""));
    REQUIRE_FALSE(ec);
    Via::check_peer(seen.payload_text());
  });
}

// A handler's pushes reach the peer: queued before its reply, they go out before it (the
// writer's biased select: pushes before responses), the high one first.
template <class Via>
void check_pushes() {
  auto fx = serve<Via>(app().build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(Via::connect(client, *fx));
    CO_REQUIRE_OK(client.send(Envelope(push_id, 7, "request")));
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i) {
      auto [ec, frame] = co_await client.receive();
      REQUIRE_FALSE(ec);
      got.emplace_back(frame.payload_text());
    }
    CHECK(got == std::vector<std::string>{"high", "low", "request"});
  });
}

// A 3 MiB message split into 32 KiB frames both ways.
template <class Via>
void check_fragments() {
  LengthDelimitedCodec::Options o;
  o.max_frame_length = 32 * 1024;
  const LenFlag32K strategy(o.max_frame_length - LenFlag32K::header_length);
  ReassemblyLimits limits;
  limits.max_message_size = 8 * 1024 * 1024;
  limits.max_buffered_bytes = 8 * 1024 * 1024;
  auto fx = serve<Via>(app().with_codec(LengthDelimitedCodec(o)).with_fragmentation(strategy, limits).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor, LengthDelimitedCodec(o));
    client.with_fragmentation(strategy, limits);
    CO_REQUIRE_OK(Via::connect(client, *fx));
    const Envelope big(echo_id, 5, random_bytes(3 * 1024 * 1024 + 11, 5));
    auto [ec, reply] = co_await client.call(big);
    REQUIRE_FALSE(ec);
    CHECK(reply == big);
  }, 30s);
}

}  // namespace wireframe::test::transport
