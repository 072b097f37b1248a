// Plain-function handlers, answered inline in the reader's turn, mixed with coroutine handlers:
// every shape of response, order under pipelining and back-pressure, failures and close.
#include <atomic>
#include <string>
#include <vector>

#include "support/async_test.hpp"

using namespace wireframe;
using namespace wireframe::test;

namespace test_sync_handlers_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

Resp plain_echo(Envelope& req) { return std::move(req); }
// Answers, then asks the connection to close: the requests read after it are not served.
Resp echo_then_close(Envelope& req, ConnectionContext& ctx) {
  ctx.close();
  return std::move(req);
}

Stream<Envelope> two_frames() {
  co_yield Envelope(3, 0, "s0");
  co_yield Envelope(3, 0, "s1");
}

// Sends `batch` in one go and returns the correlation ids of the next `n` frames received.
asio::awaitable<std::vector<std::uint64_t>> pipeline(WireframeClient<>& client, const std::vector<Envelope>& batch,
                                                     std::size_t n) {
  std::vector<std::uint64_t> ids;
  CO_REQUIRE_OK(client.send_all(batch));
  for (std::size_t i = 0; i < n; ++i) {
    auto [ec, f] = co_await client.receive();
    REQUIRE_FALSE(ec);
    ids.push_back(f.correlation_id());
  }
  co_return ids;
}

std::vector<std::uint64_t> one_to(std::uint64_t n) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("plain handlers answer with every shape of response", "[integration][sync]") {
  auto app = WireframeApp<>()
                 .route(1, plain_echo)
                 .route(2, [](Envelope& req, ConnectionContext&) -> Resp {
                   std::vector<Envelope> frames;
                   for (int i = 0; i < 3; ++i) frames.push_back(Envelope(2, 999, std::to_string(i)));
                   (void)req;
                   return frames;  // 999 is replaced by the request's correlation id
                 })
                 .route(3, [](Envelope&) -> Resp { return two_frames(); })
                 .route(4, [](Envelope&) -> Resp { return {}; })
                 .route<std::uint32_t>(5, [](std::uint32_t x, ConnectionContext&) { return std::uint64_t{x} * 3; })
                 .build();
  CHECK(app->find(1)->sync);
  CHECK_FALSE(app->find(1)->async);
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec1, echoed] = co_await client.call(Envelope(1, 11, "hi"));
    REQUIRE_FALSE(ec1);
    CHECK(echoed.payload_text() == "hi");
    CHECK(echoed.correlation_id() == 11);

    CO_REQUIRE_OK(client.send(Envelope(2, 12, "")));
    for (int i = 0; i < 3; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(f.correlation_id() == 12);
      CHECK(f.payload_text() == std::to_string(i));
    }
    CO_REQUIRE_OK(client.send(Envelope(3, 13, "")));
    for (const char* text : {"s0", "s1"}) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(f.correlation_id() == 13);
      CHECK(f.payload_text() == text);
    }
    CO_REQUIRE_OK(client.send(Envelope(4, 14, "nothing back")));  // Empty: the next reply is 5's
    auto [ec5, tripled] = co_await client.request<std::uint64_t>(5, std::uint32_t{14});
    REQUIRE_FALSE(ec5);
    CHECK(tripled == 42);
  });
}

TEST_CASE("plain and coroutine handlers pipelined: answered in order, whatever waits",
          "[integration][sync]") {
  auto app = WireframeApp<>()
                 .route(1, plain_echo)
                 .route(2, [](Envelope& req) -> asio::awaitable<Resp> {
                   co_await sleep_for(std::chrono::milliseconds(2));  // really suspends
                   co_return std::move(req);
                 })
                 .route(3, [](Envelope& req) -> asio::awaitable<Resp> { co_return std::move(req); })
                 .route(4, [](Envelope& req) -> Resp {
                   std::vector<Envelope> two{req, req};
                   return two;
                 })
                 .max_pipelined_requests(8)
                 .max_queued_frames(4)  // small: plain handlers' answers often wait for room
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch;
    std::vector<std::uint64_t> expected;
    for (std::uint64_t i = 1; i <= 300; ++i) {
      const std::uint32_t id = i % 17 == 0 ? 2 : i % 5 == 0 ? 3 : i % 7 == 0 ? 4 : 1;
      batch.emplace_back(id, i, std::string(i % 40, 'x'));
      expected.push_back(i);
      if (id == 4) expected.push_back(i);
    }
    const auto ids = co_await pipeline(client, batch, expected.size());
    CHECK(ids == expected);
  }, 20s);
}

TEST_CASE("plain handlers under outbound back-pressure: nothing lost, nothing reordered",
          "[integration][sync]") {
  auto app = WireframeApp<>().route(1, plain_echo).outbound_watermarks(2 * 1024, 8 * 1024).build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch;
    for (std::uint64_t i = 1; i <= 400; ++i) batch.emplace_back(1, i, std::string(1000, 'p'));
    const auto ids = co_await pipeline(client, batch, 400);  // never co_await inside CHECK
    CHECK(ids == one_to(400));
  }, 20s);
}

TEST_CASE("a plain handler that throws follows the handler error policy", "[integration][sync]") {
  auto throwing = [](Envelope& req) -> Resp {
    if (req.payload_text() == "boom") throw std::runtime_error("boom");
    return std::move(req);
  };
  SECTION("error_frame: an error frame answers it, later requests are served") {
    ServerFixture fx(WireframeApp<>().route(1, throwing).handler_error_policy(HandlerErrorPolicy::error_frame).build());
    run_async([&]() -> asio::awaitable<void> {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      const std::vector<Envelope> batch{Envelope(1, 1, "a"), Envelope(1, 2, "boom"), Envelope(1, 3, "c")};
      CO_REQUIRE_OK(client.send_all(batch));
      for (std::uint64_t i = 1; i <= 3; ++i) {
        auto [ec, f] = co_await client.receive();
        REQUIRE_FALSE(ec);
        CHECK(f.correlation_id() == i);
        CHECK((f.id() == error_message_id) == (i == 2));
      }
    });
  }
  SECTION("close: the answers before it arrive, then the connection closes") {
    TeardownLog log;
    ServerFixture fx(WireframeApp<>()
                         .route(1, throwing)
                         .handler_error_policy(HandlerErrorPolicy::close)
                         .on_connection_teardown([&log](ConnectionContext&, std::error_code ec) { log.add(ec); })
                         .build());
    run_async([&]() -> asio::awaitable<void> {
      WireframeClient<> client(co_await asio::this_coro::executor);
      CO_REQUIRE_OK(client.connect(fx.endpoint()));
      const std::vector<Envelope> batch{Envelope(1, 1, "a"), Envelope(1, 2, "boom"), Envelope(1, 3, "c")};
      CO_REQUIRE_OK(client.send_all(batch));
      auto [ec, first] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(first.correlation_id() == 1);
      auto [ec2, none] = co_await client.receive();
      CHECK(ec2 == make_error_code(errc::connection_closed));
      client.close();  // ends the server's lingering close at once
      CO_REQUIRE(eventually_async([&] { return log.size() == 1; }));
      CHECK(log.reasons()[0] == make_error_code(errc::handler_failed));
    });
  }
}

TEST_CASE("middleware wraps a plain handler, and ctx.close() from one closes after its answer",
          "[integration][sync]") {
  auto app = WireframeApp<>()
                 .wrap([](Envelope& req, ConnectionContext& ctx, const auto& next) -> asio::awaitable<Resp> {
                   req.payload_mut().push_back(std::byte{'M'});
                   co_return co_await next(req, ctx);
                 })
                 .route(1, plain_echo)
                 .route(9, echo_then_close)
                 .build();
  CHECK(app->find(1)->async);  // middleware is a coroutine: the plain handler is awaited in it
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, reply] = co_await client.call(Envelope(1, 1, "x"));
    REQUIRE_FALSE(ec);
    CHECK(reply.payload_text() == "xM");
    const std::vector<Envelope> batch{Envelope(9, 2, "bye"), Envelope(1, 3, "too late")};
    CO_REQUIRE_OK(client.send_all(batch));
    auto [ec2, bye] = co_await client.receive();
    REQUIRE_FALSE(ec2);
    CHECK(bye.payload_text() == "byeM");
    auto [ec3, none] = co_await client.receive();
    CHECK(ec3 == make_error_code(errc::connection_closed));
  });
}

TEST_CASE("a plain handler's ctx.close() stops the requests read after it", "[integration][sync]") {
  std::atomic<int> served{0};
  auto app = WireframeApp<>()
                 .route(1, [&served](Envelope& req) -> Resp {
                   ++served;
                   return std::move(req);
                 })
                 .route(9, echo_then_close)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    // One write: the close and the requests after it are decoded in the same read.
    const std::vector<Envelope> batch{Envelope(1, 1, "a"), Envelope(9, 2, "bye"), Envelope(1, 3, "c"),
                                      Envelope(1, 4, "d")};
    CO_REQUIRE_OK(client.send_all(batch));
    for (std::uint64_t i : {1u, 2u}) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      CHECK(f.correlation_id() == i);
    }
    auto [ec, none] = co_await client.receive();
    CHECK(ec == make_error_code(errc::connection_closed));
  });
  CHECK(served == 1);
}

namespace {

// An Envelope whose move leaves the source's correlation id at zero, as a packet of one's own
// may: the connection must stamp answers with the id the request arrived with, not with what
// is left in the packet after the handler moved it into its answer.
class ForgetfulPacket {
 public:
  ForgetfulPacket() = default;
  ForgetfulPacket(ForgetfulPacket&& other) noexcept : e_(std::move(other.e_)) { other.e_.set_correlation_id(0); }
  ForgetfulPacket& operator=(ForgetfulPacket&& other) noexcept {
    e_ = std::move(other.e_);
    other.e_.set_correlation_id(0);
    return *this;
  }
  ForgetfulPacket(const ForgetfulPacket&) = delete;
  ForgetfulPacket& operator=(const ForgetfulPacket&) = delete;
  ~ForgetfulPacket() = default;

  [[nodiscard]] std::uint32_t id() const noexcept { return e_.id(); }
  [[nodiscard]] std::uint64_t correlation_id() const noexcept { return e_.correlation_id(); }
  void set_correlation_id(std::uint64_t c) noexcept { e_.set_correlation_id(c); }
  [[nodiscard]] std::span<const std::byte> payload() const noexcept { return e_.payload(); }
  [[nodiscard]] std::size_t encoded_size() const noexcept { return e_.encoded_size(); }
  void encode_to(std::span<std::byte> out) const noexcept { e_.encode_to(out); }
  std::error_code decode_from(std::span<const std::byte> in) { return e_.decode_from(in); }

 private:
  Envelope e_;
};
static_assert(Packet<ForgetfulPacket>);

using ForgetfulResp = Response<ForgetfulPacket>;

}  // namespace

TEST_CASE("answers carry the request's correlation id even when the handler moved the request",
          "[integration][sync]") {
  auto app = WireframeApp<LengthDelimitedCodec, ForgetfulPacket>()
                 .route(1, [](ForgetfulPacket& req) -> ForgetfulResp { return std::move(req); })
                 .route(2, [](ForgetfulPacket& req) -> asio::awaitable<ForgetfulResp> { co_return std::move(req); })
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch;
    for (std::uint64_t i = 1; i <= 20; ++i) batch.emplace_back(i % 2 == 0 ? 2 : 1, i, "x");
    const auto ids = co_await pipeline(client, batch, 20);  // plain (inline) and coroutine
    CHECK(ids == one_to(20));
  });
}

}  // namespace test_sync_handlers_cpp
