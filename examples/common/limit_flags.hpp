#pragma once
// The hardening flags every example server takes (docs/hardening.md), their parsing, and the
// debug log line that shows the limits in force at start:
//
//   --max-connections N   live connections at most (0 = unlimited)
//   --idle-timeout MS     close a connection silent for that long (0 = off)
//   --read-timeout MS     a frame must be complete within this time of its first byte (0 = off)
//   --write-timeout MS    close a peer whose writes make no progress for this long (0 = off)

#include <chrono>
#include <cstddef>
#include <string_view>

#include <fmt/format.h>
#include <wireframe/wireframe.hpp>

#include "example_flags.hpp"

namespace example {

struct LimitFlags {
  static constexpr std::string_view usage =
      "  --max-connections N  live connections at most, 0 = unlimited (default 10000)\n"
      "  --idle-timeout MS    close connections silent for MS milliseconds, 0 = off (default 0)\n"
      "  --read-timeout MS    a frame must arrive within MS of its first byte, 0 = off (default 30000)\n"
      "  --write-timeout MS   close peers not reading for MS, 0 = off (default 30000)\n";

  unsigned long max_connections = 10000;
  unsigned long idle_ms = 0;
  unsigned long read_ms = 30000;
  unsigned long write_ms = 30000;

  // True when `flag` is one of these (then `ok` says whether `value` was good).
  bool parse(std::string_view flag, std::string_view value, bool& ok) {
    constexpr unsigned long day_ms = 24ul * 3600 * 1000;
    if (flag == "--max-connections") ok = ok && example::parse(value, 10'000'000ul, max_connections);
    else if (flag == "--idle-timeout") ok = ok && example::parse(value, day_ms, idle_ms);
    else if (flag == "--read-timeout") ok = ok && example::parse(value, day_ms, read_ms);
    else if (flag == "--write-timeout") ok = ok && example::parse(value, day_ms, write_ms);
    else return false;
    return true;
  }

  template <class App>
  App& apply(App& app) const {
    using ms = std::chrono::milliseconds;
    return app.idle_timeout(ms(idle_ms)).read_timeout(ms(read_ms)).write_timeout(ms(write_ms));
  }

  void apply(wireframe::WireframeServer& server) const { server.max_connections(max_connections); }
};

// One debug line with every limit in force (run with the log level at debug to see it).
template <class Logger>
void log_limits(Logger& log, const wireframe::ConnectionSettings& s, std::size_t max_frame,
                const LimitFlags& flags) {
  log.debug(
      "limits: max_connections={} max_frame={} B max_inbound={} B outbound watermarks={}/{} B "
      "max_outbound={} B pipelined={} queued_frames={} push queues={}/{} frames, timeouts (ms): "
      "read={} write={} idle={} handshake={} linger={}",
      flags.max_connections, max_frame, s.max_inbound_bytes, s.outbound_low_watermark,
      s.outbound_high_watermark, s.max_outbound_bytes, s.max_pipelined_requests, s.max_queued_frames,
      s.high_push_capacity, s.low_push_capacity, s.read_timeout.count(), s.write_timeout.count(),
      s.idle_timeout.count(), s.handshake_timeout.count(), s.linger_timeout.count());
}

}  // namespace example
