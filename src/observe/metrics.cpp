#include "wireframe/observe/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace wireframe {
namespace detail {

namespace {
std::atomic<std::uint64_t> next_cells_id{1};
}

struct MetricCells::State {
  std::size_t capacity;
  mutable std::mutex mutex;
  std::size_t used = 0;
  // One block per thread that wrote, kept for the life of the Metrics (a counter never goes
  // back). A thread that ends leaves its block to the next thread with its id.
  std::map<std::thread::id, std::unique_ptr<std::atomic<std::uint64_t>[]>> blocks;
};

MetricCells::MetricCells(std::size_t capacity)
    : state_(std::make_unique<State>()), id_(next_cells_id.fetch_add(1, std::memory_order_relaxed)) {
  state_->capacity = capacity;
}

MetricCells::~MetricCells() {
  // This thread's cache may still name our blocks; other threads' caches are only compared by
  // id_, which no later MetricCells reuses.
  for (auto& entry : metric_cells_cache) {
    if (entry.owner == id_) entry = {};
  }
}

std::uint32_t MetricCells::allocate(std::size_t n) {
  const std::lock_guard lock(state_->mutex);
  if (n > state_->capacity - state_->used) {
    throw std::length_error(fmt::format("Metrics: {} more cells do not fit its capacity of {} (raise it: "
                                        "Metrics(capacity))",
                                        n, state_->capacity));
  }
  const auto first = static_cast<std::uint32_t>(state_->used);
  state_->used += n;
  return first;
}

std::atomic<std::uint64_t>* MetricCells::local_slow() noexcept {
  std::atomic<std::uint64_t>* block = nullptr;
  {
    const std::lock_guard lock(state_->mutex);
    auto& slot = state_->blocks[std::this_thread::get_id()];
    if (!slot) {
      // Value-initialised: every cell starts at zero. Allocated once per thread and Metrics.
      slot = std::make_unique<std::atomic<std::uint64_t>[]>(state_->capacity);
    }
    block = slot.get();
  }
  // The least recently filled entry goes (round robin is enough for four).
  static thread_local std::size_t next = 0;
  metric_cells_cache[next] = {id_, block};
  next = (next + 1) % metric_cells_cache.size();
  return block;
}

std::uint64_t MetricCells::sum(std::uint32_t cell) const {
  const std::lock_guard lock(state_->mutex);
  std::uint64_t total = 0;
  for (const auto& [thread, block] : state_->blocks) total += block[cell].load(std::memory_order_relaxed);
  return total;
}

}  // namespace detail

std::uint64_t Histogram::count() const {
  if (cells_ == nullptr) return 0;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_->size(); ++i) total += cells_->sum(static_cast<std::uint32_t>(first_ + i));
  return total;
}

std::uint64_t Histogram::sum() const {
  return cells_ != nullptr ? cells_->sum(static_cast<std::uint32_t>(first_ + bounds_->size() + 1)) : 0;
}

namespace {

bool valid_name(const std::string& name, bool label) {
  if (name.empty()) return false;
  const auto ok = [label](char c, bool first) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
    return alpha || (!first && c >= '0' && c <= '9');
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!ok(name[i], i == 0)) return false;
  }
  return !(label && name.rfind("__", 0) == 0);
}

// A label value in the text format: backslash, double quote and newline escaped.
std::string escaped(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string label_text(const MetricLabels& labels, const std::string& extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string out = "{";
  for (const auto& [k, v] : labels) out += fmt::format("{}{}=\"{}\"", out.size() > 1 ? "," : "", k, escaped(v));
  if (!extra.empty()) out += fmt::format("{}{}", out.size() > 1 ? "," : "", extra);
  return out + "}";
}

}  // namespace

struct Metrics::Registry {
  struct Series {
    MetricLabels labels;
    std::uint32_t first = 0;        // its cells
    std::function<double()> read;  // a gauge_callback's
  };
  struct Family {
    MetricType type;
    std::string help;
    std::vector<std::uint64_t> bounds;  // histogram
    double scale = 1.0;
    bool callback = false;
    std::vector<Series> series;
  };
  mutable std::mutex mutex;
  std::vector<std::string> order;  // family names in the order they were made
  std::map<std::string, Family> families;
};

Metrics::Metrics(std::size_t capacity)
    : cells_(std::make_unique<detail::MetricCells>(capacity)), registry_(std::make_unique<Registry>()) {}

Metrics::~Metrics() = default;

namespace {

template <class Registry, class Family = typename decltype(Registry::families)::mapped_type>
Family& family_for(Registry& r, const std::string& name, Family want) {
  if (!valid_name(name, false)) throw std::invalid_argument(fmt::format("Metrics: invalid metric name '{}'", name));
  auto [it, made] = r.families.try_emplace(name, want);
  Family& f = it->second;
  if (made) {
    r.order.push_back(name);
    return f;
  }
  if (f.type != want.type || f.help != want.help || f.bounds != want.bounds || f.scale != want.scale ||
      f.callback != want.callback) {
    throw std::invalid_argument(fmt::format("Metrics: '{}' was registered before with another type, help or buckets", name));
  }
  return f;
}

// A new series of `f` with `cells` cells. A family made for it and left with no series (the
// cells did not fit) is forgotten again, so that the refusal leaves nothing behind.
template <class Registry, class Family>
std::uint32_t add_series(Registry& r, const std::string& name, Family& f, const MetricLabels& labels,
                         detail::MetricCells& cells, std::size_t n) {
  try {
    const std::uint32_t first = n == 0 ? 0 : cells.allocate(n);
    f.series.push_back({labels, first, {}});
    return first;
  } catch (...) {
    if (f.series.empty()) {
      r.families.erase(name);
      r.order.pop_back();  // made last, by family_for, under the same lock
    }
    throw;
  }
}

void check_labels(const MetricLabels& labels) {
  for (const auto& [k, v] : labels) {
    if (!valid_name(k, true) || k == "le") throw std::invalid_argument(fmt::format("Metrics: invalid label name '{}'", k));
  }
}

}  // namespace

Counter Metrics::counter(const std::string& name, const std::string& help, const MetricLabels& labels,
                         double scale) {
  check_labels(labels);
  const std::lock_guard lock(registry_->mutex);
  auto& f = family_for(*registry_, name, {MetricType::counter, help, {}, scale, false, {}});
  for (const auto& s : f.series) {
    if (s.labels == labels) return {cells_.get(), s.first};
  }
  return {cells_.get(), add_series(*registry_, name, f, labels, *cells_, 1)};
}

Gauge Metrics::gauge(const std::string& name, const std::string& help, const MetricLabels& labels) {
  check_labels(labels);
  const std::lock_guard lock(registry_->mutex);
  auto& f = family_for(*registry_, name, {MetricType::gauge, help, {}, 1.0, false, {}});
  for (const auto& s : f.series) {
    if (s.labels == labels) return {cells_.get(), s.first};
  }
  return {cells_.get(), add_series(*registry_, name, f, labels, *cells_, 1)};
}

Histogram Metrics::histogram(const std::string& name, const std::string& help, std::vector<std::uint64_t> bounds,
                             double scale, const MetricLabels& labels) {
  check_labels(labels);
  if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end()) {
    throw std::invalid_argument(fmt::format("Metrics: '{}' needs increasing bucket bounds", name));
  }
  const std::lock_guard lock(registry_->mutex);
  auto& f = family_for(*registry_, name, {MetricType::histogram, help, std::move(bounds), scale, false, {}});
  for (const auto& s : f.series) {
    if (s.labels == labels) return {cells_.get(), s.first, &f.bounds};
  }
  const std::uint32_t first = add_series(*registry_, name, f, labels, *cells_, f.bounds.size() + 2);
  return {cells_.get(), first, &f.bounds};  // std::map nodes do not move
}

void Metrics::gauge_callback(const std::string& name, const std::string& help, std::function<double()> read,
                             const MetricLabels& labels) {
  check_labels(labels);
  const std::lock_guard lock(registry_->mutex);
  auto& f = family_for(*registry_, name, {MetricType::gauge, help, {}, 1.0, true, {}});
  for (auto& s : f.series) {
    if (s.labels == labels) {
      s.read = std::move(read);
      return;
    }
  }
  f.series.push_back({labels, 0, std::move(read)});
}

std::vector<MetricFamily> Metrics::collect() const {
  const std::lock_guard lock(registry_->mutex);
  std::vector<MetricFamily> out;
  out.reserve(registry_->order.size());
  for (const auto& name : registry_->order) {
    const auto& f = registry_->families.at(name);
    MetricFamily family{name, f.help, f.type, {}, {}};
    for (std::uint64_t b : f.bounds) family.bounds.push_back(static_cast<double>(b) * f.scale);
    for (const auto& s : f.series) {
      MetricSample sample{s.labels, 0, 0, {}};
      if (f.callback) {
        sample.value = s.read ? s.read() : 0;
      } else if (f.type == MetricType::histogram) {
        std::uint64_t running = 0;
        for (std::size_t i = 0; i <= f.bounds.size(); ++i) {
          running += cells_->sum(static_cast<std::uint32_t>(s.first + i));
          if (i < f.bounds.size()) sample.buckets.push_back(running);
        }
        sample.count = running;
        sample.value = static_cast<double>(cells_->sum(static_cast<std::uint32_t>(s.first + f.bounds.size() + 1))) * f.scale;
      } else if (f.type == MetricType::gauge) {
        sample.value = static_cast<double>(static_cast<std::int64_t>(cells_->sum(s.first)));
      } else {
        sample.value = static_cast<double>(cells_->sum(s.first)) * f.scale;
      }
      family.samples.push_back(std::move(sample));
    }
    out.push_back(std::move(family));
  }
  return out;
}

std::string Metrics::text() const {
  static constexpr const char* types[] = {"counter", "gauge", "histogram"};
  std::string out;
  for (const auto& f : collect()) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, types[static_cast<int>(f.type)]);
    for (const auto& s : f.samples) {
      if (f.type != MetricType::histogram) {
        out += fmt::format("{}{} {}\n", f.name, label_text(s.labels), s.value);
        continue;
      }
      for (std::size_t i = 0; i < f.bounds.size(); ++i) {
        out += fmt::format("{}_bucket{} {}\n", f.name, label_text(s.labels, fmt::format("le=\"{}\"", f.bounds[i])),
                           s.buckets[i]);
      }
      out += fmt::format("{}_bucket{} {}\n", f.name, label_text(s.labels, "le=\"+Inf\""), s.count);
      out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", f.name, label_text(s.labels), s.value, f.name,
                         label_text(s.labels), s.count);
    }
  }
  return out;
}

std::vector<std::uint64_t> Metrics::latency_bounds() {
  std::vector<std::uint64_t> out;
  for (std::uint64_t decade = 10'000; decade <= 1'000'000'000; decade *= 10) {
    for (std::uint64_t step : {1, 2, 5}) out.push_back(decade * step + (step == 2 ? decade / 2 : 0));
  }
  out.push_back(10'000'000'000);
  return out;
}

}  // namespace wireframe
