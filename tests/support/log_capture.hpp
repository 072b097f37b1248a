#pragma once
// A test's view of what wireframe logs: the reasons a server gives for what it refused.

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wireframe::test {

// Every line wireframe logs while it lives (then the default logger again).
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  [[nodiscard]] std::vector<std::string> lines() const;
  // True once some line contains every one of `parts`.
  [[nodiscard]] bool has(std::initializer_list<std::string_view> parts) const;

 private:
  struct Sink;
  std::shared_ptr<Sink> sink_;
};

}  // namespace wireframe::test
