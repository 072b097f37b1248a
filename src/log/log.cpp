#include "wireframe/log/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

namespace wireframe {
namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace: return spdlog::level::trace;
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
    case LogLevel::off: break;
  }
  return spdlog::level::off;
}

std::shared_ptr<spdlog::logger> make_default() {
  // Not registered globally: a user's own "wireframe" logger must not clash with ours.
  return std::make_shared<spdlog::logger>(
      "wireframe", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
}

// The logger pointer is read on every log call from every worker; std::atomic<shared_ptr> is not
// available in libstdc++ 12, so the std::atomic_load/store free functions guard it.
std::shared_ptr<spdlog::logger>& slot() {
  static std::shared_ptr<spdlog::logger> logger = make_default();
  return logger;
}

}  // namespace

void set_logger(std::shared_ptr<spdlog::logger> logger) {
  std::atomic_store(&slot(), logger ? std::move(logger) : make_default());
}

void set_log_level(LogLevel level) { std::atomic_load(&slot())->set_level(to_spdlog(level)); }

namespace detail {

bool log_enabled(LogLevel level) noexcept {
  return level != LogLevel::off && std::atomic_load(&slot())->should_log(to_spdlog(level));
}

void log_write(LogLevel level, std::string_view message) {
  std::atomic_load(&slot())->log(to_spdlog(level), message);
}

std::shared_ptr<spdlog::logger> current_logger() { return std::atomic_load(&slot()); }

bool should_log(spdlog::logger& logger, LogLevel level) noexcept {
  return level != LogLevel::off && logger.should_log(to_spdlog(level));
}

void log_write(spdlog::logger& logger, LogLevel level, std::string_view message) {
  logger.log(to_spdlog(level), message);
}

}  // namespace detail
}  // namespace wireframe
