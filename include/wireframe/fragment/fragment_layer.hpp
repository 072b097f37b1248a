#pragma once
// detail::FragmentLayer<P>: fragmentation state, whatever the strategy. FragmentAdapter
// (fragment_adapter.hpp) is the implementation. The client holds one through this interface, so
// that with_fragmentation() can be called on it at run time; the connection actor holds its
// adapter by the concrete (final) type, in the app's processor stack, so its calls are direct.
//
// Outbound, the writer has three lanes, one per source of its biased select (high pushes, low
// pushes, responses). A lane splits at most one message at a time; with a strategy that
// interleaves (Multiplexed) the writer may pick another lane's frame between two fragments, so
// an urgent push overtakes a large response. Without interleaving (LenFlag32K) the lane with a
// message in progress is the only one served until that message is complete.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <system_error>

#include "wireframe/buffer/gather_buffer.hpp"
#include "wireframe/fragment/reassembler.hpp"
#include "wireframe/fragment/reassembly_stats.hpp"

namespace wireframe::detail {

enum class Lane : std::uint8_t { high = 0, low = 1, response = 2 };
inline constexpr std::size_t lane_count = 3;

template <class P>
class FragmentLayer : public ReassemblyStatsSource {
 public:
  using clock = std::chrono::steady_clock;
  using Report = std::function<void(const ReassemblyResult&)>;

  FragmentLayer() = default;
  FragmentLayer(const FragmentLayer&) = delete;
  FragmentLayer& operator=(const FragmentLayer&) = delete;
  virtual ~FragmentLayer() = default;

  // --- inbound: Reassembler (reassembler.hpp) ---------------------------------------------
  virtual ReassemblyResult feed(std::span<const std::byte> frame_body, clock::time_point now) noexcept = 0;
  [[nodiscard]] virtual std::optional<clock::time_point> next_deadline() const noexcept = 0;
  virtual std::size_t expire(clock::time_point now, const Report& report) = 0;
  // Frees the last completed message (after it was decoded).
  virtual void release() noexcept = 0;
  [[nodiscard]] virtual std::size_t buffered_bytes() const noexcept = 0;
  [[nodiscard]] virtual std::size_t partials() const noexcept = 0;
  [[nodiscard]] virtual std::size_t retained_bytes() const noexcept = 0;
  [[nodiscard]] ReassemblyStats reassembly_stats() const noexcept final {
    return {partials(), buffered_bytes(), retained_bytes()};
  }

  // --- outbound ------------------------------------------------------------------------------
  // Appends `frame` to `out`: whole, as one final fragment, when it fits; otherwise its first
  // fragment, and the lane keeps the frame until its last fragment is written (write_next).
  // Returns the frame when the layer is done with it (for recycling), nullopt when kept.
  // `ec` is set when the frame could not be encoded (it is then returned, not sent).
  virtual std::optional<P> write(Lane lane, P&& frame, GatherBuffer& out, std::error_code& ec) = 0;
  // Appends the next fragment of the lane's message; returns the frame after its last one.
  virtual std::optional<P> write_next(Lane lane, GatherBuffer& out, std::error_code& ec) = 0;
  // Appends every fragment of `frame` at once (a client that does not interleave). The
  // borrowed slices in `out` stay valid until the next call.
  virtual std::error_code write_all(const P& frame, GatherBuffer& out) = 0;
  // The lane has a message part-way.
  [[nodiscard]] virtual bool active(Lane lane) const noexcept = 0;
  // The lane may start a new message now (its buffer is not referenced by the pending batch).
  [[nodiscard]] virtual bool ready(Lane lane) const noexcept = 0;
  // The only lane that may write now (a strategy that does not interleave, mid-message).
  [[nodiscard]] virtual std::optional<Lane> exclusive() const noexcept = 0;
  [[nodiscard]] bool any_active() const noexcept {
    return active(Lane::high) || active(Lane::low) || active(Lane::response);
  }
  // Bytes of the lane's message being split (encoded, not yet all written); 0 when none.
  [[nodiscard]] virtual std::size_t held_bytes(Lane lane) const noexcept = 0;
  // After written(): a lane's finished frame whose payload the batch borrowed (write_next()
  // then returned nullopt for it), handed back for recycling.
  [[nodiscard]] virtual std::optional<P> reclaim(Lane lane) noexcept = 0;
  // The batch built with write()/write_next() was written (or dropped): its slices are free.
  virtual void written() noexcept = 0;
  // Takes the lane's unfinished frame (the connection is closing).
  virtual std::optional<P> abandon(Lane lane) noexcept = 0;
};

}  // namespace wireframe::detail
