#pragma once
// A growable byte area reused for a connection's whole life: the read buffer and the write
// buffer of every actor are one of these. Unlike std::vector<std::byte> it grows without
// zero-filling (a read or an encode overwrites the bytes anyway) and it has a hard cap, so no
// peer can make it grow beyond the configured limit.

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

#include "wireframe/buffer/block_pool.hpp"

namespace wireframe {

// a + b, or SIZE_MAX if that overflows: buffer caps are sums of user-set limits.
constexpr std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
  return a > static_cast<std::size_t>(-1) - b ? static_cast<std::size_t>(-1) : a + b;
}

class ByteBuffer {
 public:
  explicit ByteBuffer(std::size_t max_capacity = static_cast<std::size_t>(-1)) noexcept
      : max_capacity_(max_capacity) {}

  ByteBuffer(ByteBuffer&& other) noexcept { *this = std::move(other); }
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    release();
    data_ = std::move(other.data_);
    capacity_ = std::exchange(other.capacity_, 0);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    max_capacity_ = other.max_capacity_;
    return *this;
  }

  // Readable bytes: committed and not yet consumed.
  [[nodiscard]] std::span<const std::byte> readable() const noexcept {
    return {data_.get() + begin_, end_ - begin_};
  }
  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t max_capacity() const noexcept { return max_capacity_; }

  // Writable space of at least `n` bytes after the readable ones. Returns an empty span when
  // that would exceed max_capacity(): the caller reports an error instead of growing.
  [[nodiscard]] std::span<std::byte> prepare(std::size_t n) {
    if (capacity_ - end_ < n) {
      if (!make_room(n)) return {};
    }
    return {data_.get() + end_, n};
  }

  // Marks `n` bytes of the last prepare() as readable.
  void commit(std::size_t n) noexcept { end_ += n; }

  // Appends bytes; false (and nothing appended) if it would exceed max_capacity().
  [[nodiscard]] bool append(std::span<const std::byte> bytes) {
    auto dst = prepare(bytes.size());
    if (dst.size() != bytes.size()) return false;
    if (!bytes.empty()) std::memcpy(dst.data(), bytes.data(), bytes.size());
    commit(bytes.size());
    return true;
  }

  // Drops `n` readable bytes from the front.
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;  // cheap reset keeps the next prepare() at the front
  }

  void clear() noexcept { begin_ = end_ = 0; }

  ~ByteBuffer() { release(); }

  // Lets go of the storage (an idle connection should not pin a buffer): back to the thread's
  // BlockPool when it is a pooled size, so that taking one again costs no allocation.
  void release() noexcept {
    if (auto* pool = detail::BlockPool::local()) pool->give(std::move(data_), capacity_);
    data_.reset();
    capacity_ = begin_ = end_ = 0;
  }

 private:
  bool make_room(std::size_t n) {
    const std::size_t live = end_ - begin_;
    if (live > max_capacity_ || n > max_capacity_ - live) return false;
    if (capacity_ - live >= n && begin_ > 0) {  // enough room once the live bytes move to the front
      std::memmove(data_.get(), data_.get() + begin_, live);
      begin_ = 0;
      end_ = live;
      return true;
    }
    std::size_t cap = capacity_ == 0 ? 256 : capacity_;
    while (cap < live + n) cap = cap > max_capacity_ / 2 ? max_capacity_ : cap * 2;
    if (cap > max_capacity_) cap = max_capacity_;
    auto* pool = detail::BlockPool::local();
    std::unique_ptr<std::byte[]> fresh = pool ? pool->take(cap) : nullptr;
    if (!fresh) fresh = std::make_unique_for_overwrite<std::byte[]>(cap);
    if (live != 0) std::memcpy(fresh.get(), data_.get() + begin_, live);
    if (pool) pool->give(std::move(data_), capacity_);
    data_ = std::move(fresh);
    capacity_ = cap;
    begin_ = 0;
    end_ = live;
    return true;
  }

  std::unique_ptr<std::byte[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t max_capacity_;
};

}  // namespace wireframe
