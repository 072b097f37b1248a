// WireframeApp::build(): validation and routing table.
#include <catch2/catch.hpp>

#include <wireframe/app/wireframe_app.hpp>

using namespace wireframe;
using Resp = Response<Envelope>;

namespace {
asio::awaitable<Resp> h(Envelope& e) { co_return std::move(e); }

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
