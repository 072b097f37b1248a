// Compile-time gating of events (log/events.hpp): this program is compiled with events below
// warn left out, as a user's would be with WIREFRAME_ACTIVE_LEVEL (or SPDLOG_ACTIVE_LEVEL) set
// to warn. Its logger accepts every level at run time, so whatever is missing was not compiled.
//
// Its own executable, and its own app type (a protocol error type of its own), so that none of
// the connection code this file instantiates is shared with code compiled at another level
// (the library's compiled default app is).
#undef WIREFRAME_ACTIVE_LEVEL
#define WIREFRAME_ACTIVE_LEVEL 3  // SPDLOG_LEVEL_WARN

#include <fmt/format.h>

#include "support/async_test.hpp"
#include "support/log_capture.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace {

struct GatedError {
  friend bool operator==(GatedError, GatedError) = default;
};

using App = WireframeApp<LengthDelimitedCodec, Envelope, GatedError>;
using Resp = Response<Envelope, GatedError>;

}  // namespace

template <>
struct fmt::formatter<GatedError> : fmt::formatter<fmt::string_view> {
  auto format(const GatedError&, fmt::format_context& ctx) const { return fmt::format_to(ctx.out(), "gated"); }
};

TEST_CASE("events below the compiled level are not compiled, those at it are", "[gating][events]") {
  static_assert(!compiled_in(LogLevel::debug) && !compiled_in(LogLevel::info) && compiled_in(LogLevel::warn));
  LogCapture log(false);  // level trace: the logger would take everything
  auto app = App()
                 .route(1, [](Envelope& r) -> Resp { return std::move(r); })
                 .route(2, [](Envelope&) -> Resp { throw std::runtime_error("route 2 fails"); })
                 .read_idle_timeout(500ms)
                 .logger(log.logger())
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, echo] = co_await client.call(Envelope(1, 1, "hi"));
    REQUIRE_FALSE(ec);
    CO_REQUIRE_OK(client.send(Envelope(2, 2, "x")));   // request.failed: warn
    CO_REQUIRE_OK(client.send(Envelope(77, 3, "?")));  // request.unknown_id: debug
    // timeout.fired (info), then connection.closed (warn: a timeout is an error).
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }, 5s));
  });
  for (const auto& line : log.lines()) UNSCOPED_INFO(line);
  CHECK(log.events(Event::request_failed).size() == 1);
  CHECK(log.events(Event::connection_closed).size() == 1);
  CHECK(log.events(Event::connection_opened).empty());    // debug
  CHECK(log.events(Event::request_unknown_id).empty());   // debug
  CHECK(log.events(Event::timeout_fired).empty());        // info
}
