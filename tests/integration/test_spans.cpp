// Spans (observe/tracer.hpp) over a real server: the tree a tracer sees for one connection with
// a request answered inline, a stream, a request that pushes, a failing one and an unknown id.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/async_test.hpp"
#include "support/log_capture.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_spans_cpp {  // this file's names, apart from the other files of a unity build

using Resp = Response<Envelope>;

namespace {

// Every span it was told of, with how it ended (thread-safe: pushes report on their thread).
class RecordingTracer final : public Tracer {
 public:
  struct Record {
    Span span;
    int starts = 0;
    int ends = 0;
    std::string outcome;
    std::chrono::nanoseconds duration{};
  };

  void start(const Span& span) noexcept override {
    std::lock_guard lock(mutex_);
    auto& r = records_[span.id];
    r.span = span;
    ++r.starts;
  }
  void end(const Span& span, const SpanEnd& end) noexcept override {
    std::lock_guard lock(mutex_);
    auto& r = records_[span.id];
    ++r.ends;
    r.outcome = std::string(end.outcome);
    r.duration = end.duration;
    // The fields end() is given must be start()'s.
    if (r.span.parent != span.parent || r.span.message_id != span.message_id ||
        r.span.correlation != span.correlation || r.span.start != span.start) {
      ++mismatches_;
    }
  }
  std::vector<Record> records() const {
    std::lock_guard lock(mutex_);
    std::vector<Record> out;
    for (const auto& [id, r] : records_) out.push_back(r);
    return out;
  }
  int mismatches() const {
    std::lock_guard lock(mutex_);
    return mismatches_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::uint64_t, Record> records_;
  int mismatches_ = 0;
};

Stream<Envelope> slow_three(Envelope request) {
  for (int i = 0; i < 3; ++i) {
    co_await sleep_for(10ms);
    co_yield Envelope(request.id(), request.correlation_id(), "s");
  }
}

const RecordingTracer::Record* find(const std::vector<RecordingTracer::Record>& rs, SpanKind kind,
                                    std::uint32_t message_id) {
  auto it = std::find_if(rs.begin(), rs.end(), [&](const auto& r) {
    return r.span.kind == kind && r.span.message_id == message_id;
  });
  return it != rs.end() ? &*it : nullptr;
}

}  // namespace

TEST_CASE("a connection's span has its requests, its stream and its pushes as children", "[integration][spans]") {
  auto tracer = std::make_shared<RecordingTracer>();
  std::atomic<ConnectionId> conn{0};
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope& r, ConnectionContext& ctx) -> Resp {
                   conn = ctx.id();
                   return std::move(r);
                 })
                 .route(2, [](Envelope& r) -> Resp { return Resp(slow_three(r)); })
                 .route(3, [](Envelope&, ConnectionContext& ctx) -> Resp {
                   (void)ctx.push_handle<Envelope>().try_push(Envelope(9, 0, "pushed"), PushPriority::high);
                   return Resp{};
                 })
                 .route(4, [](Envelope&) -> Resp { throw std::runtime_error("route 4 fails"); })
                 .tracer(tracer)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, echo] = co_await client.call(Envelope(1, 11, "hi"));
    REQUIRE_FALSE(ec);
    CO_REQUIRE_OK(client.send(Envelope(2, 12, "")));
    for (int i = 0; i < 3; ++i) {
      auto [sec, s] = co_await client.receive();
      REQUIRE_FALSE(sec);
    }
    CO_REQUIRE_OK(client.send(Envelope(3, 13, "")));
    auto [pec, pushed] = co_await client.receive();
    REQUIRE_FALSE(pec);
    CO_REQUIRE_OK(client.send(Envelope(4, 14, "")));
    CO_REQUIRE_OK(client.send(Envelope(77, 15, "")));
    auto [lec, last] = co_await client.call(Envelope(1, 16, "last"));  // the two before are done
    REQUIRE_FALSE(lec);
    client.close();
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
  const auto rs = tracer->records();
  for (const auto& r : rs) {
    UNSCOPED_INFO(span_kind_name(r.span.kind) << " id=" << r.span.id << " parent=" << r.span.parent << " msg="
                                              << r.span.message_id << " outcome=" << r.outcome);
  }
  CHECK(tracer->mismatches() == 0);
  for (const auto& r : rs) {  // every span started once and ended once
    CHECK(r.starts == 1);
    CHECK(r.ends == 1);
  }
  REQUIRE(rs.size() == 1 + 6 + 1);  // the connection, six requests, one push

  const auto* connection = find(rs, SpanKind::connection, 0);
  REQUIRE(connection != nullptr);
  CHECK(connection->span.parent == 0);
  CHECK(connection->span.connection == conn.load());
  CHECK(connection->outcome == "clean");

  auto child = [&](SpanKind kind, std::uint32_t message_id, std::uint64_t correlation, std::string_view outcome) {
    const auto* r = find(rs, kind, message_id);
    INFO(span_kind_name(kind) << " " << message_id);
    REQUIRE(r != nullptr);
    CHECK(r->span.parent == connection->span.id);
    CHECK(r->span.connection == conn.load());
    CHECK(r->span.correlation == correlation);
    CHECK(r->outcome == outcome);
    CHECK(r->span.start >= connection->span.start);
    CHECK(r->span.start + r->duration <= connection->span.start + connection->duration);
    return r;
  };
  child(SpanKind::request, 1, 11, "ok");
  const auto* stream = child(SpanKind::request, 2, 12, "ok");
  CHECK(stream->duration >= 30ms);  // to its last frame, not to the handler's return
  child(SpanKind::request, 3, 13, "ok");
  child(SpanKind::request, 4, 14, "error");
  child(SpanKind::request, 77, 15, "unknown_id");
  child(SpanKind::push, 9, 0, "queued");
}

TEST_CASE("requests a drain leaves unrun end their spans as cancelled", "[integration][spans]") {
  auto tracer = std::make_shared<RecordingTracer>();
  std::atomic<int> started{0};
  auto app = WireframeApp<>()
                 .route(1, [&](Envelope& r, ConnectionContext&) -> asio::awaitable<Resp> {
                   ++started;
                   co_await sleep_for(150ms);
                   co_return std::move(r);
                 })
                 .tracer(tracer)
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    std::vector<Envelope> three;
    for (std::uint64_t c = 1; c <= 3; ++c) three.emplace_back(1, c, "r");
    CO_REQUIRE_OK(client.send_all(three));
    CO_REQUIRE(eventually_async([&] { return started.load() == 1; }));
    co_await sleep_for(20ms);  // the other two are read and queued behind the first
    fx.server().stop();        // graceful: the first finishes, the queued two never run
    auto [ec, first] = co_await client.receive();
    REQUIRE_FALSE(ec);
    CHECK(first.correlation_id() == 1);
  });
  (void)fx.stop(10s);
  const auto rs = tracer->records();
  std::map<std::uint64_t, std::string> by_correlation;
  for (const auto& r : rs) {
    CHECK(r.starts == 1);
    CHECK(r.ends == 1);  // every span ends, run or not
    if (r.span.kind == SpanKind::request) by_correlation[r.span.correlation] = r.outcome;
  }
  CHECK(started.load() == 1);
  CHECK(by_correlation == std::map<std::uint64_t, std::string>{{1, "ok"}, {2, "cancelled"}, {3, "cancelled"}});
}

TEST_CASE("LoggingTracer logs every span's end at trace level", "[integration][spans]") {
  LogCapture log(false);
  auto app = WireframeApp<>()
                 .route(1, [](Envelope& r) -> Resp { return std::move(r); })
                 .tracer(std::make_shared<LoggingTracer>(log.logger()))
                 .logger(nullptr)  // the events elsewhere: only the spans here
                 .build();
  ServerFixture fx(app);
  run_async([&]() -> asio::awaitable<void> {
    WireframeClient<> client(co_await asio::this_coro::executor);
    CO_REQUIRE_OK(client.connect(fx.endpoint()));
    auto [ec, echo] = co_await client.call(Envelope(1, 42, "hi"));
    REQUIRE_FALSE(ec);
    client.close();
    CO_REQUIRE(eventually_async([&] { return fx.server().connection_count() == 0; }));
  });
  const auto lines = log.entries();
  for (const auto& e : lines) UNSCOPED_INFO(e.text);
  REQUIRE(lines.size() == 2);
  for (const auto& e : lines) CHECK(e.level == LogLevel::trace);
  CHECK(lines[0].text.rfind("span.end kind=request id=", 0) == 0);
  CHECK(lines[0].text.find(" message_id=1 correlation=42 outcome=ok duration_us=") != std::string::npos);
  CHECK(lines[1].text.rfind("span.end kind=connection id=", 0) == 0);
  CHECK(lines[1].text.find(" parent=0 ") != std::string::npos);
  CHECK(lines[1].text.find(" outcome=clean duration_us=") != std::string::npos);
}

}  // namespace test_spans_cpp
