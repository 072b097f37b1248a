#pragma once
// The hardening flags every example server takes (docs/hardening.md), listed under "Limits" in
// --help, and the debug log line that shows the limits in force at start:
//
//   --max-connections N   live connections at most (0 = unlimited)
//   --idle-timeout MS     close a connection silent for that long (0 = off)
//   --read-timeout MS     a frame must be complete within this time of its first byte (0 = off)
//   --write-timeout MS    close a peer whose writes make no progress for this long (0 = off)

#include <chrono>
#include <cstddef>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <wireframe/wireframe.hpp>

#include "cli.hpp"

namespace example {

struct LimitFlags {
  unsigned long max_connections = 10000;
  unsigned long idle_ms = 0;
  unsigned long read_ms = 30000;
  unsigned long write_ms = 30000;

  // Binds the flags to the fields above: this object must outlive the parse.
  void add_to(CLI::App& app) {
    app.add_option("--max-connections", max_connections, "live connections at most, 0 = unlimited")
        ->type_name("N")
        ->transform(decimal(0, 10'000'000))
        ->group("Limits");
    add_timeout(app, "--idle-timeout", idle_ms, "close connections silent for MS milliseconds");
    add_timeout(app, "--read-timeout", read_ms, "a frame must arrive within MS of its first byte");
    add_timeout(app, "--write-timeout", write_ms, "close peers not reading for MS");
  }

  template <class App>
  App& apply(App& app) const {
    using ms = std::chrono::milliseconds;
    return app.idle_timeout(ms(idle_ms)).read_timeout(ms(read_ms)).write_timeout(ms(write_ms));
  }

  void apply(wireframe::WireframeServer& server) const { server.max_connections(max_connections); }

 private:
  // Milliseconds, 0 = off, at most a day.
  static void add_timeout(CLI::App& app, const char* flag, unsigned long& ms, const char* what) {
    app.add_option(flag, ms, std::string(what) + ", 0 = off")
        ->type_name("MS")
        ->transform(decimal(0, 24ul * 3600 * 1000))
        ->group("Limits");
  }
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
