#pragma once
// A bounded FIFO: the actor's request and outbound queues and the push queues.
//
// Storage grows on demand, by doubling, up to the capacity, and is then reused forever: a
// connection that never pipelines keeps a ring of one or two slots instead of the full
// capacity (an idle connection should cost little memory; bench/run_idle_memory.sh), and a
// busy one stops allocating once its ring has reached the depth it needs. std::deque would
// allocate and free blocks as it breathes; this never does once grown.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace wireframe::detail {

template <class T>
class RingQueue {
 public:
  explicit RingQueue(std::size_t capacity) : capacity_(capacity) {}

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] bool full() const noexcept { return size_ == capacity_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // Slots allocated so far (<= capacity()).
  [[nodiscard]] std::size_t allocated() const noexcept { return slots_.size(); }

  void push(T value) {
    assert(!full());
    if (size_ == slots_.size()) grow();
    slots_[wrap(head_ + size_)] = std::move(value);
    ++size_;
  }

  [[nodiscard]] T& front() noexcept {
    assert(!empty());
    return slots_[head_];
  }

  T pop() {
    assert(!empty());
    T value = std::move(slots_[head_]);
    head_ = wrap(head_ + 1);
    --size_;
    return value;
  }

  void clear() {
    while (!empty()) (void)pop();
  }

 private:
  // Doubles the storage (at most to capacity_), moving the live items to the front in order.
  void grow() {
    const std::size_t bigger = std::min(capacity_, std::max<std::size_t>(1, 2 * slots_.size()));
    std::vector<T> fresh(bigger);
    for (std::size_t i = 0; i < size_; ++i) fresh[i] = std::move(slots_[wrap(head_ + i)]);
    slots_ = std::move(fresh);
    head_ = 0;
  }

  // An index past the end, back into the storage (i < 2 * size: a compare, not a division).
  [[nodiscard]] std::size_t wrap(std::size_t i) const noexcept { return i < slots_.size() ? i : i - slots_.size(); }

  std::vector<T> slots_;
  std::size_t capacity_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace wireframe::detail
