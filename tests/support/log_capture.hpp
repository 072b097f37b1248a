#pragma once
// A test's view of what wireframe logs: the reasons a server gives for what it refused.

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <wireframe/log/events.hpp>

namespace wireframe::test {

// Every line wireframe logs while it lives (then the default logger again). With
// `process_wide` false it is a logger to hand to WireframeApp::logger instead.
class LogCapture {
 public:
  struct Entry {
    LogLevel level;
    std::string text;
  };
  explicit LogCapture(bool process_wide = true);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  [[nodiscard]] std::vector<std::string> lines() const;
  [[nodiscard]] std::vector<Entry> entries() const;
  // The lines of one event (log/events.hpp): those that start with its name.
  [[nodiscard]] std::vector<Entry> events(Event event) const;
  [[nodiscard]] std::shared_ptr<spdlog::logger> logger() const { return logger_; }
  // True once some line contains every one of `parts`.
  [[nodiscard]] bool has(std::initializer_list<std::string_view> parts) const;

 private:
  struct Sink;
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<spdlog::logger> logger_;
  bool process_wide_;
};

}  // namespace wireframe::test
