#include "support/log_capture.hpp"

#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <wireframe/log/log.hpp>

namespace wireframe::test {

struct LogCapture::Sink final : spdlog::sinks::base_sink<std::mutex> {
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex_);  // base_sink's, held while it writes too
    return lines;
  }

 protected:
  std::vector<std::string> lines;
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}
};

LogCapture::LogCapture() : sink_(std::make_shared<Sink>()) {
  auto logger = std::make_shared<spdlog::logger>("wireframe-test", sink_);
  logger->set_level(spdlog::level::debug);
  set_logger(std::move(logger));
}

LogCapture::~LogCapture() { set_logger(nullptr); }

std::vector<std::string> LogCapture::lines() const { return sink_->snapshot(); }

bool LogCapture::has(std::initializer_list<std::string_view> parts) const {
  for (const auto& line : lines()) {
    bool all = true;
    for (auto part : parts) all = all && line.find(part) != std::string::npos;
    if (all) return true;
  }
  return false;
}

}  // namespace wireframe::test
