#pragma once
// The figures wireframe keeps for an app given a Metrics (WireframeApp::metrics), resolved once
// when the app is built: each connection then updates handles, never looks a name up. Each
// family is described in docs/observability.md. Internal: the actor and the server use it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "wireframe/observe/metrics.hpp"

namespace wireframe::detail {

enum class RequestOutcome : std::uint8_t { ok, error };
enum class PushOutcome : std::uint8_t { queued, sent, refused };
enum class Direction : std::uint8_t { inbound, outbound };

class ConnectionMetrics {
 public:
  // `route_ids`: the app's routes in the order BuiltApp keeps them (sorted by id).
  ConnectionMetrics(std::shared_ptr<Metrics> metrics, std::span<const std::uint32_t> route_ids);

  [[nodiscard]] Metrics& metrics() const noexcept { return *metrics_; }
  // This thread's cells of those metrics (one lookup for several updates: Counter::add(block, n)).
  [[nodiscard]] std::atomic<std::uint64_t>* local() const noexcept { return metrics_->cells().local(); }

  // wireframe_connections_total{outcome}, wireframe_connections_open.
  Counter accepted;
  Counter refused;  // at max_connections
  Gauge open;
  // wireframe_frames_total{direction}, wireframe_bytes_total{direction}: frames (fragments, with
  // fragmentation) and bytes as they cross the socket.
  Counter frames_in, frames_out, bytes_in, bytes_out;
  // wireframe_backpressure_total{direction}, wireframe_backpressure_seconds_total{direction}.
  Counter backpressure[2];
  Counter backpressure_ns[2];
  // wireframe_queued_bytes{direction}: requests decoded and not yet done with; response and
  // pushed bytes not yet written. Updated at each read and write batch.
  Gauge queued_bytes[2];
  Counter dead_lettered;
  Counter reassembled_messages, reassembled_bytes;

  [[nodiscard]] const Counter& push(bool high, PushOutcome outcome) const noexcept {
    return pushes_[high ? 0 : 1][static_cast<int>(outcome)];
  }
  // wireframe_request_duration_seconds{route, outcome}; its _count is the requests served.
  [[nodiscard]] const Histogram& request(std::size_t route_position, RequestOutcome outcome) const noexcept {
    return requests_[route_position * 2 + static_cast<std::size_t>(outcome)];
  }
  [[nodiscard]] const Histogram& unknown_id() const noexcept { return unknown_; }

  // Series labelled by a reason, made on first use (under the registry's lock: these are rare).
  void closed(const std::error_code& reason) const;          // wireframe_connections_closed_total
  void timed_out(const std::error_code& which) const;        // wireframe_timeouts_total
  void reassembly_error(const std::error_code& error) const;  // wireframe_reassembly_errors_total

  // A stable, short name for a close reason, timeout or error: the enumerator's name for
  // wireframe's own codes, "clean" for none, "disconnect" for a peer gone, else "io_error".
  static const char* reason_name(const std::error_code& ec) noexcept;

 private:
  std::shared_ptr<Metrics> metrics_;
  Counter pushes_[2][3];
  std::vector<Histogram> requests_;
  Histogram unknown_;
};

// The requests a connection answered inline during one read: timed together once their batch
// was written, with one clock read for all of them (a clock read per request would cost more
// than the rest of the metrics), and counted per route, not per request: consecutive requests
// of one route share an entry. Per thread: a read runs on one thread from start to end.
class InlineRequestTimes {
 public:
  // `n` more requests timed by `h`; false when the entries are full (then flush first).
  static bool note(const Histogram* h, std::uint64_t n) noexcept {
    State& s = state_;
    if (s.size != 0 && s.entries[s.size - 1].histogram == h) {
      s.entries[s.size - 1].requests += n;
      return true;
    }
    if (s.size == s.entries.size()) return false;
    s.entries[s.size++] = {h, n};
    return true;
  }
  [[nodiscard]] static bool empty() noexcept { return state_.size == 0; }
  // Forgets what is pending: what a read left behind when user code threw in the middle of it
  // (guarded()) must not be counted into the next read's Metrics, which may be another app's.
  static void clear() noexcept { state_.size = 0; }
  // Records every pending request as taking `elapsed`, into `block` (this thread's cells of
  // their Metrics), and forgets them.
  static void flush(std::uint64_t elapsed_ns, std::atomic<std::uint64_t>* block) noexcept;

 private:
  struct Entry {
    const Histogram* histogram;
    std::uint64_t requests;
  };
  struct State {
    std::array<Entry, 32> entries;
    std::size_t size;
  };
  // Trivially constructed and destroyed: no per-access initialisation check.
  static inline thread_local State state_{};
};

}  // namespace wireframe::detail
