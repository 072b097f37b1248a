#include "wireframe/observe/connection_metrics.hpp"

#include <string>

#include "wireframe/detail/asio.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/fragment/fragment_error.hpp"

namespace wireframe::detail {

bool is_disconnect(const std::error_code& ec) noexcept;

namespace {

const char* errc_name(int v) noexcept {
  static constexpr const char* names[] = {
      "none", "frame_too_large", "truncated_frame", "malformed_frame", "malformed_message",
      "unknown_message_id", "handler_failed", "connection_closed", "timed_out", "shutting_down",
      "invalid_configuration", "duplicate_route", "queue_full", "rate_limited", "read_timed_out",
      "write_timed_out", "idle_timed_out", "handshake_timed_out", "output_limit_exceeded",
      "too_many_connections", "corrupt_frame", "preamble_invalid", "preamble_too_large",
      "preamble_timed_out", "read_idle_timed_out", "closed_by_request"};
  static_assert(std::size(names) == static_cast<std::size_t>(errc::closed_by_request) + 1);
  return v > 0 && v < static_cast<int>(std::size(names)) ? names[v] : "io_error";
}

const char* fragment_errc_name(int v) noexcept {
  static constexpr const char* names[] = {
      "none", "bad_header", "message_too_large", "too_many_partials", "buffer_limit", "reassembly_timeout",
      "out_of_order", "duplicate_fragment", "missing_first", "sequence_gap", "length_mismatch"};
  static_assert(std::size(names) == static_cast<std::size_t>(fragment_errc::length_mismatch) + 1);
  return v > 0 && v < static_cast<int>(std::size(names)) ? names[v] : "io_error";
}

constexpr const char* directions[] = {"in", "out"};

}  // namespace

const char* ConnectionMetrics::reason_name(const std::error_code& ec) noexcept {
  if (!ec) return "clean";
  if (ec.category() == wireframe_category()) return errc_name(ec.value());
  if (ec.category() == fragment_category()) return fragment_errc_name(ec.value());
  if (is_disconnect(ec)) return "disconnect";
  return "io_error";
}

ConnectionMetrics::ConnectionMetrics(std::shared_ptr<Metrics> metrics, std::span<const std::uint32_t> route_ids)
    : metrics_(std::move(metrics)) {
  Metrics& m = *metrics_;
  const std::string conns = "Connections accepted, by outcome (served, or refused at max_connections).";
  accepted = m.counter("wireframe_connections_total", conns, {{"outcome", "accepted"}});
  refused = m.counter("wireframe_connections_total", conns, {{"outcome", "refused"}});
  open = m.gauge("wireframe_connections_open", "Connections being served now.");
  for (int d = 0; d < 2; ++d) {
    const MetricLabels dir{{"direction", directions[d]}};
    (d == 0 ? frames_in : frames_out) =
        m.counter("wireframe_frames_total", "Frames decoded from and encoded to the socket (fragments, with fragmentation).", dir);
    (d == 0 ? bytes_in : bytes_out) = m.counter("wireframe_bytes_total", "Bytes read from and written to the socket.", dir);
    backpressure[d] = m.counter("wireframe_backpressure_total",
                                "Times reading paused for room (in: request budget or ring; out: above the outbound high watermark).", dir);
    backpressure_ns[d] = m.counter("wireframe_backpressure_seconds_total", "Time spent with back-pressure applied.", dir, 1e-9);
    queued_bytes[d] = m.gauge("wireframe_queued_bytes",
                              "Bytes held: requests decoded and not yet answered (in); responses and pushes not yet written (out).", dir);
  }
  static constexpr const char* outcomes[] = {"queued", "sent", "refused"};
  for (int p = 0; p < 2; ++p) {
    for (int o = 0; o < 3; ++o) {
      pushes_[p][o] = m.counter("wireframe_pushes_total", "Pushed frames by priority and outcome (queued, sent to the socket, refused to the producer).",
                                {{"priority", p == 0 ? "high" : "low"}, {"outcome", outcomes[o]}});
    }
  }
  dead_lettered = m.counter("wireframe_pushes_dead_lettered_total", "Pushed frames given to the dead letter queue (or dropped without one).");
  reassembled_messages = m.counter("wireframe_reassembled_messages_total", "Messages completed by the reassembler.");
  reassembled_bytes = m.counter("wireframe_reassembled_bytes_total", "Bytes of the messages completed by the reassembler.");
  const std::string latency = "Requests served, by route and outcome, and the time from the read that completed each to its answer's write.";
  for (std::uint32_t id : route_ids) {
    for (const char* outcome : {"ok", "error"}) {
      requests_.push_back(m.histogram("wireframe_request_duration_seconds", latency, Metrics::latency_bounds(), 1e-9,
                                      {{"route", std::to_string(id)}, {"outcome", outcome}}));
    }
  }
  unknown_ = m.histogram("wireframe_request_duration_seconds", latency, Metrics::latency_bounds(), 1e-9,
                         {{"route", "unknown"}, {"outcome", "unknown_id"}});
}

void ConnectionMetrics::closed(const std::error_code& reason) const {
  metrics_->counter("wireframe_connections_closed_total", "Connections ended, by reason.", {{"reason", reason_name(reason)}}).add();
}

void ConnectionMetrics::timed_out(const std::error_code& which) const {
  metrics_->counter("wireframe_timeouts_total", "Timeouts that fired, by kind.", {{"kind", reason_name(which)}}).add();
}

void ConnectionMetrics::reassembly_error(const std::error_code& error) const {
  metrics_->counter("wireframe_reassembly_errors_total", "Reassembly errors, by kind.", {{"reason", reason_name(error)}}).add();
}

void InlineRequestTimes::flush(std::uint64_t elapsed_ns, std::atomic<std::uint64_t>* block) noexcept {
  State& s = state_;
  if (s.size == 0) return;
  // One connection's requests: the same Metrics and bounds, so the same bucket for all.
  const std::size_t bucket = s.entries[0].histogram->bucket_of(elapsed_ns);
  for (std::size_t i = 0; i < s.size; ++i) {
    s.entries[i].histogram->record_in_bucket(block, bucket, elapsed_ns, s.entries[i].requests);
  }
  s.size = 0;
}

}  // namespace wireframe::detail
