#pragma once
// detail::EventLog: where one connection's events go (log/events.hpp), with the connection's
// fields formatted once, when it starts: "conn=7 peer=127.0.0.1:40212". Each event is then
// its name, those fields and its own, written to the logger in one call. Lives in the
// connection's push queues, so that PushHandles (any thread) report with the same fields; set
// before any PushHandle exists and read-only afterwards.
//
// detail::LoggerChoice: the app's choice of logger (WireframeApp::logger).

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "wireframe/app/connection_id.hpp"
#include "wireframe/log/events.hpp"
#include "wireframe/log/log.hpp"

namespace wireframe::detail {

// Unset: the process-wide logger (set_logger), looked up as each connection starts. Set to
// null: no events at all.
struct LoggerChoice {
  std::optional<std::shared_ptr<spdlog::logger>> logger;
  [[nodiscard]] std::shared_ptr<spdlog::logger> resolve() const { return logger ? *logger : current_logger(); }
};

class EventLog {
 public:
  using clock = std::chrono::steady_clock;

  EventLog() = default;  // no logger: every event is dropped
  // Empty fields: the server's own events.
  explicit EventLog(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

  // Fixes the logger and the connection's fields for every event after.
  void open(std::shared_ptr<spdlog::logger> logger, ConnectionId id, std::string_view peer) noexcept;

  // Events whose level is fixed where they are written: compiled out below the active level.
  // `On` and `Active` are template parameters so that translation units compiled with different
  // levels instantiate different functions, not one function with two bodies.
  template <LogLevel L, bool On = compiled_in(L), class... A>
  void emit(Event event, fmt::format_string<A...> format, A&&... args) const {
    if constexpr (On) {
      if (enabled(L)) write(L, event, format, fmt::make_format_args(args...));
    }
  }
  // Events whose level depends on the case (a close: an error or not).
  template <int Active = WIREFRAME_ACTIVE_LEVEL, class... A>
  void emit(LogLevel level, Event event, fmt::format_string<A...> format, A&&... args) const {
    if (compiled_in(level, Active) && enabled(level)) write(level, event, format, fmt::make_format_args(args...));
  }
  // As emit, for places that must not throw (a user's logger may): a failure is dropped.
  template <LogLevel L, bool On = compiled_in(L), class... A>
  void emit_noexcept(Event event, fmt::format_string<A...> format, A&&... args) const noexcept {
    try {
      emit<L, On>(event, format, std::forward<A>(args)...);
    } catch (...) {  // nowhere left to report it
    }
  }

  [[nodiscard]] bool enabled(LogLevel level) const noexcept { return logger_ && should_log(*logger_, level); }
  // "conn=7 peer=127.0.0.1:40212": for a user's own log lines about this connection.
  [[nodiscard]] std::string_view fields() const noexcept { return {fields_.data(), fields_size_}; }
  [[nodiscard]] clock::time_point opened_at() const noexcept { return opened_at_; }

 private:
  void write(LogLevel level, Event event, fmt::string_view format, fmt::format_args args) const;

  std::shared_ptr<spdlog::logger> logger_;
  clock::time_point opened_at_{};
  // Long enough for the id and any IPv6 peer; a longer Unix domain peer is cut.
  std::array<char, 96> fields_{};
  std::size_t fields_size_ = 0;
};

}  // namespace wireframe::detail
