#include "wireframe/log/events.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "wireframe/log/event_log.hpp"

namespace wireframe {

std::string_view event_name(Event event) noexcept {
  switch (event) {
    case Event::connection_opened: return "connection.opened";
    case Event::connection_refused: return "connection.refused";
    case Event::connection_closed: return "connection.closed";
    case Event::connection_fault: return "connection.fault";
    case Event::start_failed: return "connection.start_failed";
    case Event::opening_failed: return "opening.failed";
    case Event::hook_failed: return "hook.failed";
    case Event::request_failed: return "request.failed";
    case Event::request_unknown_id: return "request.unknown_id";
    case Event::backpressure_on: return "backpressure.on";
    case Event::backpressure_off: return "backpressure.off";
    case Event::push_refused: return "push.refused";
    case Event::push_rate_limited: return "push.rate_limited";
    case Event::push_dead_lettered: return "push.dead_lettered";
    case Event::frame_dropped: return "frame.dropped";
    case Event::reassembly_error: return "reassembly.error";
    case Event::reassembly_timeout: return "reassembly.timeout";
    case Event::timeout_fired: return "timeout.fired";
    case Event::accept_failed: return "accept.failed";
    case Event::shutdown_started: return "shutdown.started";
    case Event::shutdown_deadline: return "shutdown.deadline_expired";
    case Event::shutdown_interrupted: return "shutdown.interrupted";
    case Event::shutdown_completed: return "shutdown.completed";
  }
  return "unknown";
}

namespace detail {

void EventLog::open(std::shared_ptr<spdlog::logger> logger, ConnectionId id, std::string_view peer) noexcept {
  logger_ = std::move(logger);
  opened_at_ = clock::now();
  // format_to_n writes no more than the room there is, and never allocates for these types.
  const auto r = fmt::format_to_n(fields_.data(), fields_.size(), "conn={} peer={}", id, peer);
  fields_size_ = std::min(r.size, fields_.size());
}

// One buffer on the stack (fmt's inline 500 bytes cover almost every event), one logger call.
void EventLog::write(LogLevel level, Event event, fmt::string_view format, fmt::format_args args) const {
  fmt::memory_buffer line;
  const std::string_view name = event_name(event);
  line.append(name.data(), name.data() + name.size());
  if (fields_size_ != 0) {
    line.push_back(' ');
    line.append(fields_.data(), fields_.data() + fields_size_);
  }
  if (format.size() != 0) line.push_back(' ');
  fmt::vformat_to(std::back_inserter(line), format, args);
  log_write(*logger_, level, std::string_view(line.data(), line.size()));
}

}  // namespace detail
}  // namespace wireframe
