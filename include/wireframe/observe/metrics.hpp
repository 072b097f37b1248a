#pragma once
// Metrics: counters, gauges and histograms that wireframe (and your code) update on hot paths and
// an exporter reads when scraped (docs/observability.md). Give one to an app
// (WireframeApp::metrics) and every connection of it counts frames, bytes, requests by route and
// outcome, pushes, back-pressure, reassembly and timeouts into it; the Prometheus adapter
// (prometheus/prometheus_endpoint.hpp, target wireframe::prometheus) serves it as /metrics.
//
//   auto metrics = std::make_shared<wireframe::Metrics>();
//   wireframe::Counter logins = metrics->counter("app_logins_total", "Logins accepted.");
//   logins.add();                           // any thread, no lock, no atomic read-modify-write
//   for (const auto& family : metrics->collect()) { ... }
//
// Why it is cheap: every thread that updates a metric owns a block of cells, one per counter,
// gauge value or histogram bucket, and adds to its own cell with a plain load and store (relaxed
// atomics: the only writer of a cell is its thread, so nothing is lost and nothing bounces
// between cores). collect() sums a metric's cell over every thread's block. A thread's block is
// kept after the thread ends (a counter never goes back), and is reused by the next thread.
// Handles (Counter, Gauge, Histogram) are a few words, copyable, and valid while their Metrics is.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace wireframe {

// Label names and values of one series, e.g. {{"route", "1"}, {"outcome", "ok"}}.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { counter, gauge, histogram };

// One series of a family, as collect() read it.
struct MetricSample {
  MetricLabels labels;
  double value = 0;                    // counter, gauge: the value; histogram: the sum (scaled)
  std::uint64_t count = 0;             // histogram: how many observations
  std::vector<std::uint64_t> buckets;  // histogram: cumulative count per bound, as `le` means
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::counter;
  std::vector<double> bounds;  // histogram: the buckets' upper bounds (scaled), +Inf not included
  std::vector<MetricSample> samples;
};

namespace detail {

struct MetricCellsCacheEntry {
  std::uint64_t owner = 0;
  std::atomic<std::uint64_t>* block = nullptr;
};
// Which blocks this thread last used, for up to four Metrics objects at once (a server and a
// test's second server, say); a fifth takes the lock on a cache miss.
inline thread_local std::array<MetricCellsCacheEntry, 4> metric_cells_cache{};

// The cells of one Metrics object: a block per thread that has written to it (see above).
class MetricCells {
 public:
  explicit MetricCells(std::size_t capacity);
  ~MetricCells();
  MetricCells(const MetricCells&) = delete;
  MetricCells& operator=(const MetricCells&) = delete;

  // Reserves `n` consecutive cells (under a lock; at registration, not per update). Throws
  // std::length_error past the capacity given to Metrics.
  std::uint32_t allocate(std::size_t n);

  // This thread's block (first use: a lock, then a thread-local cache).
  std::atomic<std::uint64_t>* local() noexcept {
    for (const auto& entry : metric_cells_cache) {
      if (entry.owner == id_) return entry.block;
    }
    return local_slow();
  }

  static void add(std::atomic<std::uint64_t>& cell, std::uint64_t n) noexcept {
    cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void add(std::uint32_t cell, std::uint64_t n) noexcept { add(local()[cell], n); }

  // A cell's total over every thread's block.
  [[nodiscard]] std::uint64_t sum(std::uint32_t cell) const;

 private:
  std::atomic<std::uint64_t>* local_slow() noexcept;

  struct State;
  std::unique_ptr<State> state_;
  const std::uint64_t id_;  // never reused, unlike an address
};

}  // namespace detail

// A count that only goes up.
class Counter {
 public:
  Counter() = default;
  void add(std::uint64_t n = 1) const noexcept {
    if (cells_ != nullptr) cells_->add(cell_, n);
  }
  // The same into `block`, this thread's (cells()->local()), for a caller that updates several
  // metrics of one Metrics at once and looks its block up once.
  void add(std::atomic<std::uint64_t>* block, std::uint64_t n) const noexcept {
    if (cells_ != nullptr) detail::MetricCells::add(block[cell_], n);
  }
  [[nodiscard]] detail::MetricCells* cells() const noexcept { return cells_; }
  [[nodiscard]] std::uint64_t value() const { return cells_ != nullptr ? cells_->sum(cell_) : 0; }
  [[nodiscard]] bool valid() const noexcept { return cells_ != nullptr; }

 private:
  friend class Metrics;
  Counter(detail::MetricCells* cells, std::uint32_t cell) : cells_(cells), cell_(cell) {}
  detail::MetricCells* cells_ = nullptr;
  std::uint32_t cell_ = 0;
};

// A value that goes up and down by deltas (connections open, bytes queued): each thread adds
// its own deltas, the sum is the value. For a value only known as a whole, use
// Metrics::gauge_callback.
class Gauge {
 public:
  Gauge() = default;
  void add(std::int64_t delta) const noexcept {
    if (cells_ != nullptr) cells_->add(cell_, static_cast<std::uint64_t>(delta));  // wraps: sums right
  }
  void sub(std::int64_t delta) const noexcept { add(-delta); }
  void add(std::atomic<std::uint64_t>* block, std::int64_t delta) const noexcept {  // as Counter's
    if (cells_ != nullptr) detail::MetricCells::add(block[cell_], static_cast<std::uint64_t>(delta));
  }
  [[nodiscard]] std::int64_t value() const {
    return cells_ != nullptr ? static_cast<std::int64_t>(cells_->sum(cell_)) : 0;
  }
  [[nodiscard]] bool valid() const noexcept { return cells_ != nullptr; }

 private:
  friend class Metrics;
  Gauge(detail::MetricCells* cells, std::uint32_t cell) : cells_(cells), cell_(cell) {}
  detail::MetricCells* cells_ = nullptr;
  std::uint32_t cell_ = 0;
};

// Observations counted into fixed buckets, in integer units (nanoseconds, bytes); the family's
// scale turns them into the exported unit (1e-9 for seconds). Cells: one per bound, one for
// +Inf, one for the sum.
class Histogram {
 public:
  Histogram() = default;
  void observe(std::uint64_t v) const noexcept {
    if (cells_ == nullptr) return;
    std::atomic<std::uint64_t>* block = cells_->local();
    detail::MetricCells::add(block[first_ + bucket_of(v)], 1);
    detail::MetricCells::add(block[first_ + bounds_->size() + 1], v);
  }
  void observe(std::chrono::nanoseconds d) const noexcept {
    observe(static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count()));
  }
  // The bucket `v` falls in (bounds().size() for +Inf), for callers that record many
  // observations of one value (record_in_bucket).
  [[nodiscard]] std::size_t bucket_of(std::uint64_t v) const noexcept {
    std::size_t i = 0;
    while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
    return i;
  }
  // `n` observations of `v` whose bucket is known, into `block` (this thread's: cells()->local()).
  void record_in_bucket(std::atomic<std::uint64_t>* block, std::size_t bucket, std::uint64_t v,
                        std::uint64_t n = 1) const noexcept {
    detail::MetricCells::add(block[first_ + bucket], n);
    detail::MetricCells::add(block[first_ + bounds_->size() + 1], v * n);
  }
  [[nodiscard]] detail::MetricCells* cells() const noexcept { return cells_; }
  [[nodiscard]] bool valid() const noexcept { return cells_ != nullptr; }
  [[nodiscard]] std::uint64_t count() const;
  [[nodiscard]] std::uint64_t sum() const;

 private:
  friend class Metrics;
  Histogram(detail::MetricCells* cells, std::uint32_t first, const std::vector<std::uint64_t>* bounds)
      : cells_(cells), bounds_(bounds), first_(first) {}
  detail::MetricCells* cells_ = nullptr;
  const std::vector<std::uint64_t>* bounds_ = nullptr;
  std::uint32_t first_ = 0;
};

class Metrics {
 public:
  // `capacity`: cells per thread (8 bytes each). A counter or gauge takes one, a histogram its
  // bounds + 2. The default (8192: 64 KiB a thread) holds wireframe's figures for about 90
  // routes besides your own.
  explicit Metrics(std::size_t capacity = 8192);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The series of family `name` with `labels`, made on first use; the same name and labels give
  // the same series. A name used before with another type, help or bounds throws
  // std::invalid_argument, as does a name or label Prometheus would not accept.
  // `scale` multiplies a counter on export (1e-9: nanoseconds counted, seconds exported).
  Counter counter(const std::string& name, const std::string& help, const MetricLabels& labels = {},
                  double scale = 1.0);
  Gauge gauge(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  // `bounds`: increasing upper bounds in the observed unit; `scale` multiplies them, and the
  // sum, on export (1e-9: nanoseconds observed, seconds exported).
  Histogram histogram(const std::string& name, const std::string& help, std::vector<std::uint64_t> bounds,
                      double scale = 1.0, const MetricLabels& labels = {});
  // A gauge read when collected, for a value that is only known whole (a queue's length). Runs
  // on the collecting thread, under the registry's lock: keep it short, thread-safe, and free
  // of calls into this Metrics.
  void gauge_callback(const std::string& name, const std::string& help, std::function<double()> read,
                      const MetricLabels& labels = {});

  // Every family, its series in the order they were made. Any thread; sums every thread's cells.
  [[nodiscard]] std::vector<MetricFamily> collect() const;
  // The Prometheus text format (version 0.0.4) of collect(), for tests and simple exporters.
  [[nodiscard]] std::string text() const;

  // Bounds for latencies in nanoseconds: 10 µs to 10 s in 1-2.5-5 steps (export with 1e-9).
  static std::vector<std::uint64_t> latency_bounds();

  [[nodiscard]] detail::MetricCells& cells() noexcept { return *cells_; }

 private:
  struct Registry;
  std::unique_ptr<detail::MetricCells> cells_;
  std::unique_ptr<Registry> registry_;
};

}  // namespace wireframe
