// Metrics (observe/metrics.hpp): series by name and labels, histograms, the text format, and
// exact totals when many threads count at once (each into its own cells).
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <wireframe/observe/metrics.hpp>

using namespace wireframe;

namespace test_metrics_cpp {  // this file's names, apart from the other files of a unity build

namespace {

const MetricSample* find(const std::vector<MetricFamily>& families, const std::string& name, const MetricLabels& labels) {
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& s : f.samples) {
      if (s.labels == labels) return &s;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a counter's series is found by name and labels", "[unit][metrics]") {
  Metrics m;
  Counter a = m.counter("requests_total", "Requests.", {{"route", "1"}});
  Counter b = m.counter("requests_total", "Requests.", {{"route", "2"}});
  Counter a_again = m.counter("requests_total", "Requests.", {{"route", "1"}});
  a.add();
  a_again.add(4);
  b.add(2);
  CHECK(a.value() == 5);
  CHECK(b.value() == 2);
  const auto families = m.collect();
  REQUIRE(families.size() == 1);
  CHECK(families[0].type == MetricType::counter);
  CHECK(families[0].samples.size() == 2);
  CHECK(find(families, "requests_total", {{"route", "1"}})->value == 5);
  CHECK(find(families, "requests_total", {{"route", "2"}})->value == 2);
}

TEST_CASE("a gauge goes up and down, below zero too", "[unit][metrics]") {
  Metrics m;
  Gauge g = m.gauge("open", "Open things.");
  g.add(3);
  g.sub(5);
  CHECK(g.value() == -2);
  CHECK(find(m.collect(), "open", {})->value == -2);
  double level = 7.5;
  m.gauge_callback("level", "Read when collected.", [&level] { return level; });
  CHECK(find(m.collect(), "level", {})->value == 7.5);
  level = 1;
  CHECK(find(m.collect(), "level", {})->value == 1);
}

TEST_CASE("a histogram counts into cumulative buckets and scales its sum", "[unit][metrics]") {
  Metrics m;
  Histogram h = m.histogram("latency_seconds", "Latency.", {10, 100, 1000}, 0.001);
  for (std::uint64_t v : {5, 10, 11, 100, 500, 5000}) h.observe(v);
  CHECK(h.count() == 6);
  CHECK(h.sum() == 5626);
  const auto families = m.collect();
  const MetricSample* s = find(families, "latency_seconds", {});
  REQUIRE(s != nullptr);
  CHECK(s->buckets == std::vector<std::uint64_t>{2, 4, 5});  // <= 10, <= 100, <= 1000
  CHECK(s->count == 6);
  CHECK(s->value == Approx(5.626));
  CHECK(families[0].bounds == std::vector<double>{0.01, 0.1, 1.0});
  // Many observations of one value, as the actor records the requests of one read.
  h.record_in_bucket(h.cells()->local(), h.bucket_of(50), 50);
  CHECK(h.count() == 7);
}

TEST_CASE("the text format has help, type, labels and the +Inf bucket", "[unit][metrics]") {
  Metrics m;
  m.counter("frames_total", "Frames.", {{"direction", "in"}}).add(3);
  m.counter("wait_seconds_total", "Time waited.", {}, 1e-9).add(1'500'000'000);
  m.histogram("size_bytes", "Sizes.", {10}, 1.0, {{"path", "a\"b"}}).observe(20);
  const std::string text = m.text();
  CHECK_THAT(text, Catch::Contains("# HELP frames_total Frames.\n# TYPE frames_total counter\n"));
  CHECK_THAT(text, Catch::Contains("frames_total{direction=\"in\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("wait_seconds_total 1.5\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE size_bytes histogram\n"));
  CHECK_THAT(text, Catch::Contains("size_bytes_bucket{path=\"a\\\"b\",le=\"10\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("size_bytes_bucket{path=\"a\\\"b\",le=\"+Inf\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("size_bytes_count{path=\"a\\\"b\"} 1\n"));
}

TEST_CASE("names, labels and reuse with another shape are refused", "[unit][metrics]") {
  Metrics m;
  m.counter("x_total", "X.");
  CHECK_THROWS_AS(m.gauge("x_total", "X."), std::invalid_argument);
  CHECK_THROWS_AS(m.counter("x_total", "Other help."), std::invalid_argument);
  CHECK_THROWS_AS(m.counter("9lives", "Bad name."), std::invalid_argument);
  CHECK_THROWS_AS(m.counter("bad-name", "Bad name."), std::invalid_argument);
  CHECK_THROWS_AS(m.counter("ok", "Bad label.", {{"le", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(m.counter("ok", "Bad label.", {{"__reserved", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(m.histogram("h", "Unsorted.", {10, 5}), std::invalid_argument);
  CHECK_THROWS_AS(m.histogram("h", "Empty.", {}), std::invalid_argument);
}

TEST_CASE("a Metrics holds as many cells as it was made with", "[unit][metrics]") {
  Metrics m(4);
  m.histogram("h", "Two bounds: four cells.", {1, 2});
  CHECK_THROWS_AS(m.counter("one_more", "No room."), std::length_error);
  CHECK(m.collect().size() == 1);
}

TEST_CASE("counts from many threads add up exactly, while collected", "[unit][metrics]") {
  Metrics m;
  Counter c = m.counter("adds_total", "Adds.");
  Gauge g = m.gauge("level", "Up then down.");
  Histogram h = m.histogram("h", "Observations.", {1, 1000});
  constexpr int threads = 4;
  constexpr int per_thread = 50'000;
  std::atomic<bool> done{false};
  std::uint64_t last_seen = 0;
  bool monotonic = true;
  std::thread reader([&] {  // a scrape during the updates never sees a counter go back
    while (!done.load()) {
      const std::uint64_t v = c.value();
      monotonic = monotonic && v >= last_seen;
      last_seen = v;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        c.add();
        g.add(2);
        g.sub(1);
        h.observe(static_cast<std::uint64_t>(i % 2000));
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  CHECK(monotonic);
  CHECK(c.value() == threads * per_thread);
  CHECK(g.value() == threads * per_thread);
  CHECK(h.count() == threads * per_thread);
  const auto families = m.collect();  // find() points into it
  const MetricSample* s = find(families, "h", {});
  REQUIRE(s != nullptr);
  CHECK(s->buckets[0] == threads * 2 * (per_thread / 2000));  // 0 and 1, once per 2000
  CHECK(s->buckets[1] == threads * 1001 * (per_thread / 2000));
}

TEST_CASE("a thread counting into more Metrics than its cache holds loses nothing", "[unit][metrics]") {
  std::vector<std::unique_ptr<Metrics>> all;
  std::vector<Counter> counters;
  for (int i = 0; i < 7; ++i) {
    all.push_back(std::make_unique<Metrics>(16));
    counters.push_back(all.back()->counter("n_total", "N."));
  }
  for (int round = 0; round < 100; ++round) {
    for (const auto& c : counters) c.add();
  }
  for (const auto& c : counters) CHECK(c.value() == 100);
  all.erase(all.begin());  // a Metrics destroyed: a later one must not find its cells
  counters.erase(counters.begin());
  auto fresh = std::make_unique<Metrics>(16);
  Counter f = fresh->counter("n_total", "N.");
  f.add(3);
  CHECK(f.value() == 3);
}

}  // namespace test_metrics_cpp
