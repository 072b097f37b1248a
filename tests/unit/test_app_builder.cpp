// WireframeApp::build(): validation and routing table.
#include <catch2/catch.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>

#include <wireframe/app/wireframe_app.hpp>
#include <wireframe/fragment/len_flag_32k.hpp>
#include <wireframe/log/log.hpp>

using namespace wireframe;

namespace test_app_builder_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {
asio::awaitable<Resp> h(Envelope& e) { co_return std::move(e); }
struct NoHooks {};

std::error_code build_error(const WireframeApp<>& app) {
  try {
    (void)app.build();
    return {};
  } catch (const std::system_error& e) {
    return e.code();
  }
}
}  // namespace

TEST_CASE("build() finds routes by id", "[app]") {
  auto app = WireframeApp<>().route(9, h).route(1, h).route(5, h).build();
  CHECK(app->find(1) != nullptr);
  CHECK(app->find(5) != nullptr);
  CHECK(app->find(9) != nullptr);
  CHECK(app->find(2) == nullptr);
  CHECK(app->find(0xFFFFFFFF) == nullptr);
}

TEST_CASE("build() rejects duplicates and impossible settings", "[app]") {
  CHECK(build_error(WireframeApp<>().route(1, h).route(1, h)) == make_error_code(errc::duplicate_route));
  CHECK(build_error(WireframeApp<>().max_queued_frames(0)) == make_error_code(errc::invalid_configuration));
  CHECK(build_error(WireframeApp<>().max_pipelined_requests(0)) ==
        make_error_code(errc::invalid_configuration));
  CHECK_FALSE(build_error(WireframeApp<>().route(1, h)));
  const std::chrono::milliseconds negative{-1};
  CHECK(build_error(WireframeApp<>().read_timeout(negative)) == make_error_code(errc::invalid_configuration));
  CHECK(build_error(WireframeApp<>().preamble_timeout(negative)) == make_error_code(errc::invalid_configuration));
  CHECK_FALSE(build_error(WireframeApp<>().preamble_timeout(std::chrono::milliseconds{0})));
}

TEST_CASE("an error_frame policy needs an error frame builder", "[app]") {
  auto app = WireframeApp<>().error_frame(nullptr).unknown_id_policy(UnknownIdPolicy::error_frame);
  CHECK(build_error(app) == make_error_code(errc::invalid_configuration));
}

TEST_CASE("the default error frame carries the request's correlation id and a text", "[app]") {
  auto app = WireframeApp<>().unknown_id_policy(UnknownIdPolicy::error_frame).build();
  Envelope req(3, 77, "x");
  auto frame = app->error_frame(req, WireframeError<NoProtocolError>::io(make_error_code(errc::unknown_message_id)));
  REQUIRE(frame);
  CHECK(frame->id() == error_message_id);
  CHECK(frame->correlation_id() == 77);
  CHECK(frame->payload_text().find("no route for message id") != std::string_view::npos);
}

TEST_CASE("app state is found by type and a missing type throws", "[app]") {
  struct Db {
    int n = 3;
  };
  auto app = WireframeApp<>().with_state(Db{}).with_state(std::make_shared<std::string>("s")).build();
  CHECK(app->state.get<Db>().n == 3);
  CHECK(app->state.get<std::string>() == "s");
  CHECK_THROWS_AS(app->state.get<double>(), std::out_of_range);
}

TEST_CASE("an app whose processor stage was discarded says so", "[app][processor]") {
  std::ostringstream log_text;
  set_logger(std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text)));
  const auto discarded = "destroyed without build()";
  {
    // The trap: the chain's result (the app with fragmentation) is thrown away.
    WireframeApp<> builder;
    builder.route(1, h).with_fragmentation(LenFlag32K()).route(2, h);
  }
  CHECK(log_text.str().find(discarded) != std::string::npos);
  log_text.str("");
  {
    // Built, extended, copied then built: nothing to say.
    (void)WireframeApp<>().route(1, h).with_fragmentation(LenFlag32K()).build();
    const auto with_both = WireframeApp<>().with_fragmentation(LenFlag32K()).with_protocol(NoHooks{});
    const auto copy = with_both;
    (void)copy.build();
  }
  CHECK(log_text.str().empty());
  set_logger(nullptr);
}

}  // namespace test_app_builder_cpp
