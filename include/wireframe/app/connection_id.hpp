#pragma once

#include <cstdint>

namespace wireframe {

// Unique per server for the server's lifetime (a 64-bit counter never wraps in practice).
using ConnectionId = std::uint64_t;

}  // namespace wireframe
