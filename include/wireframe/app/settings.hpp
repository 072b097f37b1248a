#pragma once
// Per-connection limits and error policies, set through WireframeApp's builder methods.

#include <chrono>
#include <cstddef>

namespace wireframe {

// What the connection does with a frame whose message id has no route.
enum class UnknownIdPolicy {
  drop,         // log at debug and carry on (default)
  error_frame,  // reply with the app's error frame (see WireframeApp::error_frame)
};

// What the connection does when a handler throws or its response fails.
enum class HandlerErrorPolicy {
  log,          // log it and carry on with the next request (default)
  error_frame,  // log it, reply with the app's error frame, carry on
  close,        // log it and close the connection (after what was already queued)
};

struct ConnectionSettings {
  // Decoded requests waiting for the dispatcher (read-ahead depth). When full, reading stops.
  std::size_t max_pipelined_requests = 16;
  // Response frames waiting for the writer. When full, the dispatcher waits.
  std::size_t max_queued_frames = 64;
  // Bytes asked of each read_some; the read buffer grows past it only for a larger frame.
  std::size_t read_chunk_size = 64 * 1024;
  // Bytes gathered into one socket write at most.
  std::size_t max_write_batch = 64 * 1024;
  // Capacity of each push queue (frames). A full queue makes push() wait and try_push() fail.
  std::size_t high_push_capacity = 64;
  std::size_t low_push_capacity = 256;
  // Fairness: after this many consecutive high-priority frames one low-priority frame goes out,
  // and after this many consecutive pushed frames the response source gets a turn. 0 disables
  // (strict priority, which can starve the lower sources).
  std::size_t max_high_before_low = 8;
  // Push rate limit per connection (token bucket): `push_rate` frames per second on average,
  // bursts of up to `push_burst`. 0 = unlimited (default).
  double push_rate = 0;
  std::size_t push_burst = 1;

  // --- memory budgets, in bytes (docs/hardening.md has the worst-case formula) -------------
  // Decoded requests waiting for or held by their handler. Past it the connection stops
  // reading until the handlers catch up; a single request larger than this is still served,
  // alone (a budget never blocks a legal frame).
  std::size_t max_inbound_bytes = 1024 * 1024;
  // Responses and pushes waiting to be written, plus the write in flight (Netty's write buffer
  // watermarks). Above the high watermark the connection stops reading new requests, queues no
  // more responses, push() waits and try_push() fails with queue_full; below the low watermark
  // everything resumes.
  std::size_t outbound_low_watermark = 256 * 1024;
  std::size_t outbound_high_watermark = 1024 * 1024;
  // Absolute cap on those bytes (Redis's client-output-buffer-limit): a response that would
  // take them past it closes the connection (errc::output_limit_exceeded), a push is refused.
  // Producers that respect the watermarks stay below high watermark + one frame.
  std::size_t max_outbound_bytes = 16 * 1024 * 1024;

  // --- timeouts (zero = off) -------------------------------------------------------------------
  // A frame must be complete within this time of its first byte; bytes trickling in do not
  // extend it (slowloris). Not counted while the connection itself stops reading.
  std::chrono::milliseconds read_timeout{30'000};
  // A write that makes no progress for this long: the peer does not read.
  std::chrono::milliseconds write_timeout{30'000};
  // No byte read or written for this long.
  std::chrono::milliseconds idle_timeout{0};
  // No byte read for this long, whatever was written (Netty's readerIdleTime): a peer that only
  // receives pushes must still send something (a heartbeat) within it.
  std::chrono::milliseconds read_idle_timeout{0};
  // The first frame must be complete within this time of the connection's start. Also bounds
  // a TLS handshake (zero: read_timeout does).
  std::chrono::milliseconds handshake_timeout{0};
  // The preamble (WireframeApp::with_preamble), every message of it, must be read within this
  // time of its first read. Zero: the TLS handshake's limit (handshake_timeout, else read_timeout).
  std::chrono::milliseconds preamble_timeout{0};
  // Lingering close: after its last frame the connection shuts down its sending side and reads
  // and discards input for at most this long (until the peer closes), so that the kernel does
  // not answer unread input with a reset that destroys replies already sent. Zero: close at once.
  std::chrono::milliseconds linger_timeout{2'000};
};

namespace detail {
// How long a TLS handshake may take under these settings (zero: unbounded).
inline std::chrono::milliseconds handshake_limit(const ConnectionSettings& s) noexcept {
  return s.handshake_timeout.count() > 0 ? s.handshake_timeout : s.read_timeout;
}
// How long the preamble may take (zero: unbounded).
inline std::chrono::milliseconds preamble_limit(const ConnectionSettings& s) noexcept {
  return s.preamble_timeout.count() > 0 ? s.preamble_timeout : handshake_limit(s);
}
}  // namespace detail

}  // namespace wireframe
