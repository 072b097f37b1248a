#pragma once
// wireframe logs through spdlog, but spdlog.h stays out of our public headers (it costs about
// 1.5 s per translation unit): templates format with fmt, then hand a string to a compiled
// function. Formatting is skipped entirely when the level is off.
//
// By default wireframe logs to a logger named "wireframe" (created on first use, stderr, level
// info). set_logger() installs your own.

#include <fmt/format.h>

#include <memory>
#include <string_view>
#include <utility>

namespace spdlog {
class logger;
}

namespace wireframe {

enum class LogLevel { trace, debug, info, warn, error, off };

// Replaces the logger wireframe writes to (thread-safe; nullptr restores the default).
void set_logger(std::shared_ptr<spdlog::logger> logger);
// Sets the level of the current logger.
void set_log_level(LogLevel level);

namespace detail {

bool log_enabled(LogLevel level) noexcept;
void log_write(LogLevel level, std::string_view message);
// The process-wide logger now (set_logger, or the default).
std::shared_ptr<spdlog::logger> current_logger();
// For a logger held elsewhere (a connection's: log/event_log.hpp).
bool should_log(spdlog::logger& logger, LogLevel level) noexcept;
void log_write(spdlog::logger& logger, LogLevel level, std::string_view message);

template <class... A>
void log(LogLevel level, fmt::format_string<A...> format, A&&... args) {
  if (log_enabled(level)) log_write(level, fmt::format(format, std::forward<A>(args)...));
}

}  // namespace detail
}  // namespace wireframe
