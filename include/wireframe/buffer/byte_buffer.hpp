#pragma once
// A growable byte area reused for a connection's whole life: the read buffer and the write
// buffer of every actor are one of these. Unlike std::vector<std::byte> it grows without
// zero-filling (a read or an encode overwrites the bytes anyway) and it has a hard cap, so no
// peer can make it grow beyond the configured limit.
//
// Storage: up to BlockPool::max_block (256 KiB) a pooled block, as busy connections reuse them
// without allocating; above it a LargeBlock, which grows in place (mremap on Linux) instead of
// into a fresh allocation, so a buffer growing towards its cap (the read buffer: max frame
// length + overhead + read chunk, 8 MiB by default) never holds its old and new storage at
// once. Leaving the pool for a LargeBlock copies the content once: at most 256 KiB.

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

#include "wireframe/buffer/block_pool.hpp"
#include "wireframe/buffer/large_block.hpp"

namespace wireframe {

// a + b, or SIZE_MAX if that overflows: buffer caps are sums of user-set limits.
constexpr std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
  return a > static_cast<std::size_t>(-1) - b ? static_cast<std::size_t>(-1) : a + b;
}

// Pooled sizes end where LargeBlock's pages begin: no size class falls between the two.
static_assert(detail::LargeBlock::mmap_threshold == detail::BlockPool::max_block);

class ByteBuffer {
 public:
  explicit ByteBuffer(std::size_t max_capacity = static_cast<std::size_t>(-1)) noexcept
      : max_capacity_(max_capacity) {}

  ByteBuffer(ByteBuffer&& other) noexcept { *this = std::move(other); }
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    release();
    data_ = std::exchange(other.data_, nullptr);
    block_ = std::move(other.block_);
    large_ = std::move(other.large_);
    capacity_ = std::exchange(other.capacity_, 0);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    max_capacity_ = other.max_capacity_;
    regrow_from_ = other.regrow_from_;
    return *this;
  }

  // Readable bytes: committed and not yet consumed.
  [[nodiscard]] std::span<const std::byte> readable() const noexcept {
    return {data_ + begin_, end_ - begin_};
  }
  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t max_capacity() const noexcept { return max_capacity_; }

  // Writable space of at least `n` bytes after the readable ones. Returns an empty span when
  // that would exceed max_capacity(), or when memory for a capacity above 256 KiB cannot be had:
  // the caller reports an error instead of growing. (A pooled size that cannot be allocated
  // throws std::bad_alloc.)
  [[nodiscard]] std::span<std::byte> prepare(std::size_t n) {
    if (capacity_ - end_ < n) {
      if (!make_room(n)) return {};
    }
    return {data_ + end_, n};
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
  // BlockPool when it is a pooled size, so that taking one again costs no allocation; a large
  // one to the thread's PageCache (up to 4 MiB of warm pages, large_block.hpp) or the kernel.
  //
  // A pooled capacity is remembered: the next growth from empty asks for it at once, so a
  // buffer released between bursts (a connection's write buffer, each time its reader waits)
  // takes one block of the size it needed last, instead of growing into it by doubling copies.
  void release() noexcept {
    if (capacity_ <= detail::BlockPool::max_block && capacity_ > regrow_from_) regrow_from_ = capacity_;
    give_block();
    large_.release();
    data_ = nullptr;
    capacity_ = begin_ = end_ = 0;
  }

 private:
  bool make_room(std::size_t n) {
    const std::size_t live = end_ - begin_;
    if (live > max_capacity_ || n > max_capacity_ - live) return false;
    if (capacity_ - live >= n && begin_ > 0) {  // enough room once the live bytes move to the front
      to_front();
      return true;
    }
    // Here live + n > capacity_: the buffer grows (never shrinks, until release()).
    const std::size_t cap = grown_capacity(live + n);
    return cap > detail::BlockPool::max_block ? grow_large(cap) : grow_pooled(cap);
  }

  // Doubling from the current capacity (from regrow_from_ when empty) until `needed` fits, capped: pooled
  // sizes stay powers of two. Above them, twice the current capacity (amortised growth) or
  // exactly what a larger jump needs, not the power of two above it: 1 MiB gets 1 MiB, not 2.
  [[nodiscard]] std::size_t grown_capacity(std::size_t needed) const noexcept {
    std::size_t cap = capacity_ == 0 ? regrow_from_ : capacity_;
    while (cap < needed) cap = cap > max_capacity_ / 2 ? max_capacity_ : cap * 2;
    if (cap > max_capacity_) cap = max_capacity_;
    if (cap <= detail::BlockPool::max_block) return cap;
    const std::size_t twice = capacity_ > max_capacity_ / 2 ? max_capacity_ : 2 * capacity_;
    return needed > twice ? needed : twice;
  }

  // A pooled size (<= 256 KiB): a block from the pool or the heap, the live bytes copied over.
  bool grow_pooled(std::size_t cap) {
    auto* pool = detail::BlockPool::local();
    std::unique_ptr<std::byte[]> fresh = pool ? pool->take(cap) : nullptr;
    if (!fresh) fresh = std::make_unique_for_overwrite<std::byte[]>(cap);
    const std::size_t live = end_ - begin_;
    if (live != 0) std::memcpy(fresh.get(), data_ + begin_, live);
    give_block();
    block_ = std::move(fresh);
    data_ = block_.get();
    capacity_ = cap;
    begin_ = 0;
    end_ = live;
    return true;
  }

  // Above the pool's sizes. Already large: grown in place (no copy, one resident copy), then
  // the live bytes move to the front. Still pooled: the only copy, of at most 256 KiB, into a
  // new LargeBlock (which may be warm pages the thread had cached, and then larger than `cap`).
  bool grow_large(std::size_t cap) noexcept {
    if (large_.capacity() != 0) {
      if (!large_.grow(cap, end_)) return false;
      data_ = large_.data();
      capacity_ = cap;
      to_front();
      return true;
    }
    detail::LargeBlock fresh;
    if (!fresh.allocate(cap, max_capacity_)) return false;  // warm cached pages: up to the cap
    const std::size_t live = end_ - begin_;
    if (live != 0) std::memcpy(fresh.data(), data_ + begin_, live);
    give_block();
    large_ = std::move(fresh);
    data_ = large_.data();
    capacity_ = large_.capacity();
    begin_ = 0;
    end_ = live;
    return true;
  }

  // Moves the live bytes to the start of the storage.
  void to_front() noexcept {
    const std::size_t live = end_ - begin_;
    if (begin_ != 0 && live != 0) std::memmove(data_, data_ + begin_, live);
    begin_ = 0;
    end_ = live;
  }

  // The pooled block back to the thread's pool (or freed); no-op when there is none.
  void give_block() noexcept {
    if (!block_) return;
    if (auto* pool = detail::BlockPool::local()) pool->give(std::move(block_), capacity_);
    block_.reset();
  }

  std::byte* data_ = nullptr;          // block_'s or large_'s bytes
  std::unique_ptr<std::byte[]> block_;  // a pooled size (<= BlockPool::max_block)
  detail::LargeBlock large_;            // a larger one, grown in place
  std::size_t capacity_ = 0;
  std::size_t regrow_from_ = 256;  // the first capacity after empty: 256, or the last pooled one
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t max_capacity_;
};

}  // namespace wireframe
