#pragma once
// What a connection's reassembly holds right now: for metrics, and for checking that a hostile
// peer cannot make it hold more than ReassemblyLimits allow. ConnectionContext::reassembly_stats().

#include <cstddef>

namespace wireframe {

struct ReassemblyStats {
  std::size_t partials = 0;        // messages in reassembly (<= max_partials)
  std::size_t buffered_bytes = 0;  // bytes allocated for them (<= max_buffered_bytes)
  std::size_t retained_bytes = 0;  // a completed message's buffer kept for reuse
                                   // (<= retained_buffer_bytes)
};

namespace detail {
// Implemented by the connection's fragment layer; lets the (non-template) ConnectionContext
// report it without knowing the strategy or the packet type.
class ReassemblyStatsSource {
 public:
  [[nodiscard]] virtual ReassemblyStats reassembly_stats() const noexcept = 0;

 protected:
  ~ReassemblyStatsSource() = default;
};
}  // namespace detail

}  // namespace wireframe
