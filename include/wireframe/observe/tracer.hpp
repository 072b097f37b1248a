#pragma once
// Tracer: the hook that sees the spans of an app's connections (WireframeApp::tracer), to bridge
// them to OpenTelemetry or any tracing system (docs/observability.md, "Spans"). Three kinds:
//
//   connection   from the connection's start to its end (outcome: the close reason)
//   request      from its decoding to its handler's answer written or queued, streams to
//                their last frame (outcome: ok, error, unknown_id or cancelled); a child of
//                its connection's span
//   push         from the PushHandle call to the frame's outcome at the queue (queued, or
//                the refusal: queue_full, rate_limited, connection_closed); a child of its
//                connection's span
//
// start() and end() are called on the connection's thread, except for pushes, which are
// called on the pushing thread: a tracer must be thread-safe. They must not throw (noexcept:
// an exception would have to end somebody's connection for a tracing failure).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "wireframe/app/connection_id.hpp"

namespace spdlog {
class logger;
}

namespace wireframe {

enum class SpanKind : std::uint8_t { connection, request, push };

struct Span {
  SpanKind kind = SpanKind::connection;
  std::uint64_t id = 0;           // unique in the process, never 0
  std::uint64_t parent = 0;       // the connection's span (0 for a connection)
  ConnectionId connection = 0;
  std::uint32_t message_id = 0;   // a request's route, a push's frame id (0 for a connection)
  std::uint64_t correlation = 0;  // a request's correlation id
  std::chrono::steady_clock::time_point start{};
};

struct SpanEnd {
  std::string_view outcome;  // valid during the call only
  std::chrono::nanoseconds duration{};
};

class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual void start(const Span& span) noexcept = 0;
  virtual void end(const Span& span, const SpanEnd& end) noexcept = 0;
};

// Logs every span's end at trace level ("span.end kind=request id=7 parent=6 conn=3
// message_id=1 correlation=42 outcome=ok duration_us=12.5"); its start too when `starts`. To
// `logger`, or when null the process-wide one as it is now (set_logger).
class LoggingTracer final : public Tracer {
 public:
  explicit LoggingTracer(std::shared_ptr<spdlog::logger> logger = nullptr, bool starts = false);
  void start(const Span& span) noexcept override;
  void end(const Span& span, const SpanEnd& end) noexcept override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
  bool starts_;
};

std::string_view span_kind_name(SpanKind kind) noexcept;

namespace detail {

std::uint64_t next_span_id() noexcept;

// A span being timed: started when made (if there is a tracer), ended once. Without a tracer
// it is one null pointer: every request makes one, so an app that traces nothing must not pay
// for filling in a Span (it cost 15 instructions a request, about 2% of an echo's).
class SpanTimer {
 public:
  using clock = std::chrono::steady_clock;
  SpanTimer() noexcept {}  // NOLINT: leaves the span unset (it is read only once started)
  SpanTimer(Tracer* tracer, SpanKind kind, std::uint64_t parent, ConnectionId connection, std::uint32_t message_id,
            std::uint64_t correlation = 0, clock::time_point start = {}) noexcept
      : tracer_(tracer) {
    if (tracer_ == nullptr) return;
    s_.span = Span{kind, next_span_id(), parent, connection, message_id, correlation,
                   start == clock::time_point{} ? clock::now() : start};
    tracer_->start(s_.span);
  }
  // Rebuilt from what a queued request kept (its id and start), to be ended.
  SpanTimer(Tracer* tracer, const Span& span) noexcept : tracer_(tracer) { s_.span = span; }

  void end(std::string_view outcome) noexcept {
    if (tracer_ == nullptr) return;
    tracer_->end(s_.span, {outcome, std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - s_.span.start)});
    tracer_ = nullptr;
  }
  [[nodiscard]] bool active() const noexcept { return tracer_ != nullptr; }
  // Set once a tracer started it (and kept after its end).
  [[nodiscard]] const Span& span() const noexcept { return s_.span; }

 private:
  union Storage {
    Storage() noexcept {}  // NOLINT: nothing written until a span starts
    Span span;
  };
  Tracer* tracer_ = nullptr;
  Storage s_;
};

}  // namespace detail
}  // namespace wireframe
