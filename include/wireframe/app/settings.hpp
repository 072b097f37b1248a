#pragma once
// Per-connection limits and error policies, set through WireframeApp's builder methods.

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
  std::size_t read_chunk_size = 16 * 1024;
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
};

}  // namespace wireframe
