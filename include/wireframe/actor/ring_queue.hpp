#pragma once
// A fixed-capacity FIFO over storage allocated once: the actor's request and outbound queues.
// std::deque would allocate and free blocks as it breathes; this never does after construction.

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace wireframe::detail {

template <class T>
class RingQueue {
 public:
  explicit RingQueue(std::size_t capacity) : slots_(capacity) {}

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] bool full() const noexcept { return size_ == slots_.size(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }

  void push(T value) {
    assert(!full());
    slots_[(head_ + size_) % slots_.size()] = std::move(value);
    ++size_;
  }

  [[nodiscard]] T& front() noexcept {
    assert(!empty());
    return slots_[head_];
  }

  T pop() {
    assert(!empty());
    T value = std::move(slots_[head_]);
    head_ = (head_ + 1) % slots_.size();
    --size_;
    return value;
  }

  void clear() {
    while (!empty()) (void)pop();
  }

 private:
  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace wireframe::detail
