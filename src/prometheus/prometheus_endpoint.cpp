#include "wireframe/prometheus/prometheus_endpoint.hpp"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace wireframe {
namespace {

prometheus::MetricType to_prometheus(MetricType t) {
  switch (t) {
    case MetricType::counter: return prometheus::MetricType::Counter;
    case MetricType::gauge: return prometheus::MetricType::Gauge;
    case MetricType::histogram: return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

prometheus::ClientMetric to_prometheus(const MetricFamily& family, const MetricSample& sample) {
  prometheus::ClientMetric out;
  for (const auto& [name, value] : sample.labels) out.label.push_back({name, value});
  switch (family.type) {
    case MetricType::counter: out.counter.value = sample.value; break;
    case MetricType::gauge: out.gauge.value = sample.value; break;
    case MetricType::histogram:
      out.histogram.sample_count = sample.count;
      out.histogram.sample_sum = sample.value;
      for (std::size_t i = 0; i < family.bounds.size(); ++i) {
        out.histogram.bucket.push_back({sample.buckets[i], family.bounds[i]});
      }
      // prometheus-cpp writes the buckets it is given: +Inf is ours to add.
      out.histogram.bucket.push_back({sample.count, std::numeric_limits<double>::infinity()});
      break;
  }
  return out;
}

class MetricsCollectable final : public prometheus::Collectable {
 public:
  explicit MetricsCollectable(std::shared_ptr<Metrics> metrics) : metrics_(std::move(metrics)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    for (const MetricFamily& f : metrics_->collect()) {
      prometheus::MetricFamily family{f.name, f.help, to_prometheus(f.type), {}};
      for (const MetricSample& s : f.samples) family.metric.push_back(to_prometheus(f, s));
      out.push_back(std::move(family));
    }
    return out;
  }

 private:
  std::shared_ptr<Metrics> metrics_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> prometheus_collectable(std::shared_ptr<Metrics> metrics) {
  return std::make_shared<MetricsCollectable>(std::move(metrics));
}

struct PrometheusEndpoint::Impl {
  // Declared first, destroyed last: the exposer (and its HTTP threads) goes before what it reads.
  std::shared_ptr<prometheus::Collectable> collectable;
  prometheus::Exposer exposer;

  Impl(std::shared_ptr<Metrics> metrics, const std::string& address, const std::string& path)
      : collectable(prometheus_collectable(std::move(metrics))), exposer(address, 1) {
    exposer.RegisterCollectable(collectable, path);
  }
};

PrometheusEndpoint::PrometheusEndpoint(std::shared_ptr<Metrics> metrics, const std::string& address,
                                       const std::string& path)
    : impl_(std::make_unique<Impl>(std::move(metrics), address, path)) {}

PrometheusEndpoint::~PrometheusEndpoint() = default;

std::uint16_t PrometheusEndpoint::port() const {
  const std::vector<int> ports = impl_->exposer.GetListeningPorts();
  if (ports.empty()) throw std::runtime_error("PrometheusEndpoint: not listening");
  return static_cast<std::uint16_t>(ports.front());
}

}  // namespace wireframe
