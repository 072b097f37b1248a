#pragma once
// PacketPool<P>: spare packets of one worker thread, shared by all the connections it runs.
//
// Every connection of a worker runs on that worker's thread, so one thread_local pool serves
// them all without locks. The reader takes a packet to decode a request into; the writer gives
// back every packet it has encoded (responses are often the request itself, moved). A decoded
// request then reuses a payload buffer instead of allocating one: no allocation per frame in
// steady state, and an idle connection holds no spare packets at all (a pool per connection
// would pin buffers on every idle connection, and run dry under deep pipelining).
//
// Bounded: at most max_spares packets and max_pooled_bytes of payload capacity per thread; a
// packet whose buffer is larger than max_packet_capacity is not kept (it would pin a large
// buffer for small messages).

#include <cstddef>
#include <utility>
#include <vector>

namespace wireframe::detail {

template <class P>
class PacketPool {
 public:
  static constexpr std::size_t max_spares = 1024;
  static constexpr std::size_t max_pooled_bytes = 4 * 1024 * 1024;
  static constexpr std::size_t max_packet_capacity = 64 * 1024;

  // The calling thread's pool.
  static PacketPool& local() {
    thread_local PacketPool pool;
    return pool;
  }

  P take() {
    if (spares_.empty()) return P{};
    P p = std::move(spares_.back());
    spares_.pop_back();
    bytes_ -= capacity_of(p);
    return p;
  }

  void give(P&& p) {
    const std::size_t cap = capacity_of(p);
    if constexpr (requires { p.payload_capacity(); }) {
      if (cap == 0 || cap > max_packet_capacity) return;  // nothing worth keeping, or too big
    }
    if (spares_.size() >= max_spares || cap > max_pooled_bytes - bytes_) return;
    if (spares_.capacity() == 0) spares_.reserve(64);
    spares_.push_back(std::move(p));
    bytes_ += cap;
  }

  [[nodiscard]] std::size_t size() const noexcept { return spares_.size(); }

 private:
  static std::size_t capacity_of(const P& p) noexcept {
    if constexpr (requires { p.payload_capacity(); }) {
      return p.payload_capacity();
    } else {
      return 0;
    }
  }

  std::vector<P> spares_;
  std::size_t bytes_ = 0;
};

}  // namespace wireframe::detail
