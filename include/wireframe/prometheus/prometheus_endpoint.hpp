#pragma once
// wireframe::prometheus (a separate CMake target: only those who ask for it link prometheus-cpp).
// Serves a Metrics in Prometheus's text format at /metrics over HTTP, with prometheus-cpp's
// pull exposer (Debian's prometheus-cpp-dev; its HTTP server is civetweb, on threads of its own).
//
//   auto metrics = std::make_shared<wireframe::Metrics>();
//   auto app = wireframe::WireframeApp<>().metrics(metrics) ... .build();
//   wireframe::PrometheusEndpoint endpoint(metrics, "127.0.0.1:9464");  // curl .../metrics
//
// Each scrape reads the Metrics then (collect(): every thread's cells summed), so a scrape costs
// the server's workers nothing. Already running prometheus-cpp? prometheus_collectable() gives
// the same figures to your own Exposer or Registry.

#include <cstdint>
#include <memory>
#include <string>

#include "wireframe/observe/metrics.hpp"

namespace prometheus {
class Collectable;
}

namespace wireframe {

// `metrics` as a prometheus-cpp Collectable (histograms with their +Inf bucket).
std::shared_ptr<prometheus::Collectable> prometheus_collectable(std::shared_ptr<Metrics> metrics);

class PrometheusEndpoint {
 public:
  // Listens on `address` ("host:port"; port 0: the OS picks, see port()) and serves `metrics` at
  // `path`. Throws std::runtime_error when the address cannot be bound.
  PrometheusEndpoint(std::shared_ptr<Metrics> metrics, const std::string& address, const std::string& path = "/metrics");
  ~PrometheusEndpoint();
  PrometheusEndpoint(const PrometheusEndpoint&) = delete;
  PrometheusEndpoint& operator=(const PrometheusEndpoint&) = delete;

  // The port it listens on.
  [[nodiscard]] std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wireframe
