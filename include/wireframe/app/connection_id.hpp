#pragma once

#include <cstdint>

namespace wireframe {

// Unique within the process for its lifetime, across every server it runs: one SessionRegistry
// (keyed by ConnectionId) can then serve several servers. Never 0 (0 means "no connection").
// A 64-bit counter never wraps in practice.
using ConnectionId = std::uint64_t;

namespace detail {
// The next id, from one process-wide atomic counter (thread-safe).
ConnectionId next_connection_id() noexcept;
}  // namespace detail

}  // namespace wireframe
