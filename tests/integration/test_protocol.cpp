// WireframeProtocol hooks on the real server path: each fires when documented.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/async_test.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_protocol_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

// What the hooks saw, in order (hooks run on server threads: guarded by a mutex).
struct Events {
  std::mutex mutex;
  std::vector<std::string> list;
  void add(std::string e) {
    std::lock_guard lock(mutex);
    list.push_back(std::move(e));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return list;
  }
  std::size_t count(const std::string& prefix) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& e : list) n += e.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
};

struct Recorder {
  using hooks = protocol_hooks<hook::on_connection_setup, hook::before_send, hook::on_command_end,
                               hook::handle_error, hook::stream_end_frame, hook::on_eof>;
  struct connection_state {
    int commands = 0;
  };
  using Ctx = ProtocolContext<connection_state>;
  std::shared_ptr<Events> events;

  void on_connection_setup(PushHandle<Envelope> handle, Ctx& ctx) {
    events->add(fmt::format("setup {}", ctx.id()));
    (void)handle.try_push(Envelope(50, 0, "hello"), PushPriority::high);  // greets at once
  }
  void before_send(Envelope& frame, Ctx&) {
    frame.payload_mut().push_back(std::byte{'!'});  // every outbound frame is marked
  }
  void on_command_end(Ctx& ctx) {
    ++ctx.state().commands;
    events->add(fmt::format("end {}", ctx.state().commands));
  }
  void handle_error(const WireframeError<NoProtocolError>& error, Ctx&) {
    events->add(fmt::format("error {}", error.io_error().message()));
  }
  std::optional<Envelope> stream_end_frame(Ctx&) { return Envelope(60, 0, "END"); }
  void on_eof(std::span<const std::byte> partial, Ctx&) {
    events->add(fmt::format("eof {}", partial.size()));
  }
};
static_assert(WireframeProtocol<Recorder, Envelope, NoProtocolError>);

Stream<Envelope> two_frames() {
  co_yield Envelope(20, 0, "s0");
  co_yield Envelope(20, 0, "s1");
}

Stream<Envelope> fails_after_one() {
  co_yield Envelope(20, 0, "s0");
  co_yield WireframeError<NoProtocolError>::io(make_error_code(errc::malformed_message));
}

auto recorded_app(const std::shared_ptr<Events>& events) {
  return WireframeApp<>()
      .with_protocol(Recorder{events})
      .route(1, [](Envelope& req) -> asio::awaitable<Resp> { co_return std::move(req); })
      .route(2, [](Envelope&) -> asio::awaitable<Resp> { co_return two_frames(); })
      .route(3, [](Envelope&) -> asio::awaitable<Resp> { co_return fails_after_one(); })
      .route(4, [](Envelope&) -> asio::awaitable<Resp> {
        throw std::runtime_error("boom");
        co_return Resp{};
      })
      .handler_error_policy(HandlerErrorPolicy::error_frame);
}

}  // namespace

TEST_CASE("protocol hooks: setup pushes first, before_send sees every kind of frame",
          "[integration][protocol]") {
  auto events = std::make_shared<Events>();
  ServerFixture fx(recorded_app(events).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> batch{Envelope(1, 1, "echo"), Envelope(2, 2, ""), Envelope(4, 3, "")};
    CO_REQUIRE_OK(client.send_all(batch));
    std::vector<std::string> got;
    for (int i = 0; i < 6; ++i) {
      auto [ec, f] = co_await client.receive();
      REQUIRE_FALSE(ec);
      const std::string_view text = f.payload_text();
      const std::string shown = f.id() == error_message_id
                                    ? (text.ends_with('!') ? "ERR!" : "ERR")  // text varies
                                    : std::string(text);
      got.push_back(fmt::format("{}:{}:{}", f.id(), f.correlation_id(), shown));
    }
    const std::vector<std::string> want{
        "50:0:hello!",           // the push from on_connection_setup; '!' marks before_send
        "1:1:echo!",             // a response
        "20:2:s0!", "20:2:s1!",  // stream frames
        "60:2:END!",             // the stream's terminator, with the request's correlation id
        fmt::format("{}:3:ERR!", error_message_id)};  // an error frame
    CHECK(got == want);
  });
  CHECK(eventually([&] { return events->count("end ") == 3; }));  // the failing one included
  CHECK(events->count("setup ") == 1);
  CHECK(events->count("error ") == 1);
}

TEST_CASE("protocol hooks: a failed stream gets no terminator and reports its error",
          "[integration][protocol]") {
  auto events = std::make_shared<Events>();
  ServerFixture fx(recorded_app(events).build());
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec0, hello] = co_await client.receive();
    REQUIRE_FALSE(ec0);
    CO_REQUIRE_OK(client.send(Envelope(3, 9, "")));
    auto [ec1, s0] = co_await client.receive();
    REQUIRE_FALSE(ec1);
    CHECK(s0.payload_text() == "s0!");
    auto [ec2, err] = co_await client.receive();
    REQUIRE_FALSE(ec2);
    CHECK(err.id() == error_message_id);  // not the "END" terminator
    CHECK(err.correlation_id() == 9);
  });
  CHECK(eventually([&] { return events->count("end ") == 1; }));
  CHECK(events->count("error ") == 1);
}

TEST_CASE("protocol hooks: on_eof gets the partial frame, handle_error a bad frame",
          "[integration][protocol]") {
  auto events = std::make_shared<Events>();
  LengthDelimitedCodec::Options opts;
  opts.max_frame_length = 64;
  ServerFixture fx(recorded_app(events).with_codec(LengthDelimitedCodec(opts)).build());
  run_async([&]() -> asio::awaitable<void> {
    {
      auto s = co_await raw_connect(fx.endpoint());
      const std::vector<std::uint8_t> half{0, 0, 0, 20, 1, 2, 3};  // 20 announced, 3 sent
      co_await raw_write(s, half);
      s.shutdown(asio::ip::tcp::socket::shutdown_send);
      (void)co_await read_until_closed(s);
    }
    CO_REQUIRE(eventually_async([&] { return events->count("eof ") == 1; }));
    {
      auto s = co_await raw_connect(fx.endpoint());
      const std::vector<std::uint8_t> huge{0, 0, 1, 0};  // 256 > 64
      co_await raw_write(s, huge);
      (void)co_await read_until_closed(s);
    }
    CO_REQUIRE(eventually_async([&] { return events->count("error ") == 2; }));
  });
  const auto list = events->snapshot();
  std::vector<std::string> eofs, errors;
  for (const auto& e : list) {
    if (e.rfind("eof ", 0) == 0) eofs.push_back(e);
    if (e.rfind("error ", 0) == 0) errors.push_back(e);
  }
  REQUIRE(eofs.size() == 1);
  CHECK(eofs[0] == "eof 7");  // the 7 bytes of the unfinished frame
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] == fmt::format("error {}", make_error_code(errc::truncated_frame).message()));
  CHECK(errors[1] == fmt::format("error {}", make_error_code(errc::frame_too_large).message()));
}

TEST_CASE("protocol hooks: each connection has its own protocol state",
          "[integration][protocol]") {
  auto events = std::make_shared<Events>();
  ServerFixture fx(recorded_app(events).build(), 2);
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    WireframeClient<> a(ex);
    WireframeClient<> b(ex);
    CO_REQUIRE_OK(a.connect(fx.endpoint()));
    CO_REQUIRE_OK(b.connect(fx.endpoint()));
    for (int i = 0; i < 3; ++i) {
      auto [ec, r] = co_await a.call(Envelope(1, 0, "a"));
      REQUIRE_FALSE(ec);
    }
    auto [ec, r] = co_await b.call(Envelope(1, 0, "b"));
    REQUIRE_FALSE(ec);
  });
  // a's commands count 1, 2, 3; b's count starts again at 1.
  CHECK(eventually([&] { return events->count("end ") == 4; }));
  CHECK(events->count("end 1") == 2);
  CHECK(events->count("end 2") == 1);
  CHECK(events->count("end 3") == 1);
}

}  // namespace test_protocol_cpp
