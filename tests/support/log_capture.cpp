#include "support/log_capture.hpp"

#include <algorithm>
#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <wireframe/log/log.hpp>

namespace wireframe::test {

struct LogCapture::Sink final : spdlog::sinks::base_sink<std::mutex> {
  std::vector<Entry> snapshot() {
    std::lock_guard lock(mutex_);  // base_sink's, held while it writes too
    return entries;
  }

 protected:
  std::vector<Entry> entries;
  void sink_it_(const spdlog::details::log_msg& msg) override {
    entries.push_back({static_cast<LogLevel>(std::min<int>(msg.level, static_cast<int>(LogLevel::error))),
                       std::string(msg.payload.data(), msg.payload.size())});
  }
  void flush_() override {}
};

LogCapture::LogCapture(bool process_wide)
    : sink_(std::make_shared<Sink>()),
      logger_(std::make_shared<spdlog::logger>("wireframe-test", sink_)),
      process_wide_(process_wide) {
  logger_->set_level(process_wide ? spdlog::level::debug : spdlog::level::trace);
  if (process_wide_) set_logger(logger_);
}

LogCapture::~LogCapture() {
  if (process_wide_) set_logger(nullptr);
}

std::vector<LogCapture::Entry> LogCapture::entries() const { return sink_->snapshot(); }

std::vector<std::string> LogCapture::lines() const {
  std::vector<std::string> out;
  for (auto& e : sink_->snapshot()) out.push_back(std::move(e.text));
  return out;
}

std::vector<LogCapture::Entry> LogCapture::events(Event event) const {
  const std::string prefix = std::string(event_name(event)) + " ";
  std::vector<Entry> out;
  for (auto& e : sink_->snapshot()) {
    if (e.text.rfind(prefix, 0) == 0) out.push_back(std::move(e));
  }
  return out;
}

bool LogCapture::has(std::initializer_list<std::string_view> parts) const {
  for (const auto& line : lines()) {
    bool all = true;
    for (auto part : parts) all = all && line.find(part) != std::string::npos;
    if (all) return true;
  }
  return false;
}

}  // namespace wireframe::test
