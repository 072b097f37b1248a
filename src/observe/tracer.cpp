#include "wireframe/observe/tracer.hpp"

#include <atomic>

#include "wireframe/log/log.hpp"

namespace wireframe {

std::string_view span_kind_name(SpanKind kind) noexcept {
  switch (kind) {
    case SpanKind::connection: return "connection";
    case SpanKind::request: return "request";
    case SpanKind::push: return "push";
  }
  return "unknown";
}

namespace {

// The fields of a span, as the events write theirs (key=value).
std::string describe(const Span& s) {
  return fmt::format("kind={} id={} parent={} conn={} message_id={} correlation={}", span_kind_name(s.kind), s.id,
                     s.parent, s.connection, s.message_id, s.correlation);
}

}  // namespace

// Looked up once: the process-wide logger's lookup takes a lock, and spans come per request.
LoggingTracer::LoggingTracer(std::shared_ptr<spdlog::logger> logger, bool starts)
    : logger_(logger ? std::move(logger) : detail::current_logger()), starts_(starts) {}

void LoggingTracer::start(const Span& span) noexcept {
  if (!starts_) return;
  try {
    if (!detail::should_log(*logger_, LogLevel::trace)) return;
    detail::log_write(*logger_, LogLevel::trace, "span.start " + describe(span));
  } catch (...) {  // a logger that throws loses the line, nothing else
  }
}

void LoggingTracer::end(const Span& span, const SpanEnd& end) noexcept {
  try {
    if (!detail::should_log(*logger_, LogLevel::trace)) return;
    const double us = static_cast<double>(end.duration.count()) / 1e3;
    detail::log_write(*logger_, LogLevel::trace,
                      fmt::format("span.end {} outcome={} duration_us={:.1f}", describe(span), end.outcome, us));
  } catch (...) {
  }
}

namespace detail {

std::uint64_t next_span_id() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace wireframe
