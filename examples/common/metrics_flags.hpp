#pragma once
// --metrics-port N, taken by the example servers: their app counts into a wireframe::Metrics,
// served in Prometheus's text format at http://HOST:N/metrics (HOST: the server's --host; N 0:
// the OS picks). The program prints "metrics on HOST:PORT" on stdout right after its
// "listening on" line. docs/observability.md shows a scrape.
//
// The endpoint is wireframe::prometheus (prometheus-cpp). examples/CMakeLists.txt links it and
// defines WIREFRAME_EXAMPLES_PROMETHEUS when it is built; without it the flag is still
// recognised, and using it says "built without Prometheus".

#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <wireframe/wireframe.hpp>
#ifdef WIREFRAME_EXAMPLES_PROMETHEUS
#include <wireframe/prometheus/prometheus_endpoint.hpp>
#endif

#include "cli.hpp"

namespace example {

class MetricsFlags {
 public:
  // Binds the flag to this object: it must outlive the parse and the server.
  void add_to(CLI::App& app) {
    app.add_option("--metrics-port", port_, "Serve Prometheus metrics at http://HOST:N/metrics (0: any port)")
        ->type_name("N")
        ->transform(decimal(0, 65535));
  }

  // The Metrics to give the app: null without --metrics-port.
  [[nodiscard]] std::shared_ptr<wireframe::Metrics> metrics() {
    if (port_ && !metrics_) metrics_ = std::make_shared<wireframe::Metrics>();
    return metrics_;
  }

  // Starts the endpoint (with --metrics-port) and prints where; 0 when all is well, else the
  // exit status, having said why.
  int start(std::string_view program, const std::string& host) {
    if (!port_) return 0;
#ifdef WIREFRAME_EXAMPLES_PROMETHEUS
    try {
      endpoint_.emplace(metrics(), host + ":" + std::to_string(*port_));
      std::cout << "metrics on " << host << ':' << endpoint_->port() << std::endl;
      return 0;
    } catch (const std::exception& e) {
      std::cerr << program << ": cannot serve metrics on " << host << ':' << *port_ << ": " << e.what() << '\n';
      return 1;
    }
#else
    (void)host;
    std::cerr << program << ": built without Prometheus (wireframe::prometheus needs prometheus-cpp)\n";
    return 1;
#endif
  }

 private:
  std::optional<std::uint16_t> port_;
  std::shared_ptr<wireframe::Metrics> metrics_;
#ifdef WIREFRAME_EXAMPLES_PROMETHEUS
  std::optional<wireframe::PrometheusEndpoint> endpoint_;
#endif
};

}  // namespace example
