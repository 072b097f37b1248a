#include "wireframe/app/connection_id.hpp"

#include <atomic>

namespace wireframe::detail {

ConnectionId next_connection_id() noexcept {
  // Process-wide, not per server: ids key the SessionRegistry, which several servers may share.
  // Relaxed: only uniqueness matters, not ordering with other memory.
  static std::atomic<ConnectionId> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace wireframe::detail
