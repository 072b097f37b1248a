#pragma once
// BlockPool: a thread's spare byte blocks, by power-of-two size from 256 B to 256 KiB, for
// ByteBuffer. A connection gives its read and write buffers back whenever they are empty (an
// idle connection then holds none) and takes one again for the next read or write: with the
// pool that costs no allocation, so busy connections still allocate nothing in steady state.
//
// Per thread (all connections of a worker run on its thread): no locks. Bounded: at most
// max_blocks_per_class blocks per size and max_pooled_bytes in all; what does not fit is freed.

#include <array>
#include <bit>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace wireframe::detail {

class BlockPool {
 public:
  static constexpr std::size_t min_block = 256;
  static constexpr std::size_t max_block = 256 * 1024;  // a full write batch and then some
  static constexpr std::size_t max_blocks_per_class = 64;
  static constexpr std::size_t max_pooled_bytes = 4 * 1024 * 1024;

  // The calling thread's pool; null while the thread is exiting and the pool is gone (a
  // buffer destroyed after it, e.g. in a static object, then frees its block directly).
  static BlockPool* local() noexcept {
    thread_local BlockPool pool;
    return gone() ? nullptr : &pool;
  }

  BlockPool() = default;
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  ~BlockPool() { gone() = true; }

  // A block of exactly `size` bytes from the pool, or null (not pooled size, or none spare).
  std::unique_ptr<std::byte[]> take(std::size_t size) noexcept {
    const int c = size_class(size);
    if (c < 0 || spares_[static_cast<std::size_t>(c)].empty()) return nullptr;
    auto& list = spares_[static_cast<std::size_t>(c)];
    std::unique_ptr<std::byte[]> block = std::move(list.back());
    list.pop_back();
    bytes_ -= size;
    return block;
  }

  // Keeps `block` (of `size` bytes) for a later take(), or frees it.
  void give(std::unique_ptr<std::byte[]> block, std::size_t size) noexcept {
    const int c = size_class(size);
    if (c < 0 || !block) return;
    auto& list = spares_[static_cast<std::size_t>(c)];
    if (list.size() >= max_blocks_per_class || size > max_pooled_bytes - bytes_) return;
    try {
      if (list.capacity() == 0) list.reserve(max_blocks_per_class);
      list.push_back(std::move(block));
      bytes_ += size;
    } catch (...) {  // no memory for the list: the block is simply freed
    }
  }

  [[nodiscard]] std::size_t pooled_bytes() const noexcept { return bytes_; }

 private:
  static bool& gone() noexcept {
    thread_local bool flag = false;  // trivially destructible: readable until the thread ends
    return flag;
  }

  static constexpr int classes = std::countr_zero(max_block) - std::countr_zero(min_block) + 1;

  // Index of `size`'s class, or -1 when it is not a pooled size.
  static int size_class(std::size_t size) noexcept {
    // Not std::has_single_bit: libstdc++ implements it with popcount, a libgcc call unless the
    // target has the instruction (x86-64 baseline has not). size >= min_block > 0 here.
    if (size < min_block || size > max_block || (size & (size - 1)) != 0) return -1;
    return std::countr_zero(size) - std::countr_zero(min_block);
  }

  std::array<std::vector<std::unique_ptr<std::byte[]>>, classes> spares_;
  std::size_t bytes_ = 0;
};

}  // namespace wireframe::detail
