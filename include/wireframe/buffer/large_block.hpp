#pragma once
// LargeBlock: a byte block that grows without ever holding two copies of its bytes, for the
// buffers a peer can make large (a message in reassembly, a read buffer growing to a frame).
//
// Why: growing into a fresh allocation + memcpy (std::vector::reserve does that) has the old,
// full buffer and its copy resident at once. A reassembly buffer grown geometrically to 64 MiB
// peaked at 128 MiB resident (its last step copied 64 MiB into a slightly larger buffer), and
// an 8 MiB read buffer at 16.7 MiB: a budget counted in bytes did not bound real memory.
//
// How: on Linux, a block above mmap_threshold is anonymous pages of its own (mmap), grown with
// mremap(MREMAP_MAYMOVE): the kernel moves page tables, not bytes, so growing copies nothing
// and never has two resident copies. Up to mmap_threshold the block is malloc/realloc: an mmap
// per small message would cost system calls and fresh page faults every time, and realloc's
// transient copy of at most mmap_threshold bytes is harmless. Crossing the threshold copies the
// (small) content once. Without mremap (not Linux) every size is malloc/realloc: correct, but
// realloc may copy.
//
// Freed mappings up to PageCache::max_bytes stay with the thread (PageCache, below) for the next
// block: fresh pages cost a page fault each (256 per MiB; a 1 MiB message reassembled into
// fresh pages ran 8-20x slower than into warm ones), and glibc used to give such sizes warm heap
// memory. Larger mappings go straight back to the kernel. A block taking warm pages may take
// more than it asked for, up to a limit its owner sets (the next growth step, a buffer's cap):
// capacity() then counts all of it.
//
// capacity() is the size asked for (or the warm pages taken, see above): budgets count it. A
// mapping is that rounded up to whole pages, less than one page more, as malloc's own chunks of
// that size are. Failures are values (false, block unchanged), never exceptions.
// Single-threaded, like its owner.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#define WIREFRAME_LARGE_BLOCK_MREMAP 1
#else
#define WIREFRAME_LARGE_BLOCK_MREMAP 0
#endif

namespace wireframe::detail {

#if WIREFRAME_LARGE_BLOCK_MREMAP
// A thread's spare mappings, so that a stream of messages of a few hundred KiB to a few MiB
// reuses warm pages. Bounded like BlockPool: at most max_blocks mappings and max_bytes in all
// per thread; a mapping that does not fit is unmapped at once. Per thread: no locks.
class PageCache {
 public:
  static constexpr std::size_t max_blocks = 4;
  static constexpr std::size_t max_bytes = 4 * 1024 * 1024;

  struct Mapping {
    std::byte* data = nullptr;
    std::size_t length = 0;  // whole pages
  };

  // The calling thread's cache; null while the thread is exiting and the cache is gone.
  static PageCache* local() noexcept {
    thread_local PageCache cache;
    return gone() ? nullptr : &cache;
  }

  PageCache() = default;
  PageCache(const PageCache&) = delete;
  PageCache& operator=(const PageCache&) = delete;
  ~PageCache() {
    trim();
    gone() = true;
  }

  // A mapping of `length` to `max_length` bytes (whole pages) made from a cached one, or an
  // empty Mapping when none is cached. The best fit is used whole when it is at most
  // max_length long (no system call; its owner then counts all of it), else cut to max_length
  // (the tail goes back to the kernel, so real memory stays what the owner counts), or grown.
  Mapping take(std::size_t length, std::size_t max_length) noexcept {
    if (count_ == 0) return {};
    const std::size_t i = best_fit(length);
    Mapping m = blocks_[i];
    blocks_[i] = blocks_[--count_];
    bytes_ -= m.length;
    const std::size_t want = m.length < length ? length : (m.length > max_length ? max_length : m.length);
    if (m.length == want) return m;
    void* p = ::mremap(m.data, m.length, want, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) {
      unmap(m);
      return {};
    }
    return {static_cast<std::byte*>(p), want};
  }

  // Keeps `m` for a later take(); false when it does not fit (the caller unmaps it).
  bool give(Mapping m) noexcept {
    if (count_ == max_blocks || m.length > max_bytes - bytes_) return false;
    blocks_[count_++] = m;
    bytes_ += m.length;
    return true;
  }

  // Gives every cached mapping back to the kernel.
  void trim() noexcept {
    while (count_ != 0) unmap(blocks_[--count_]);
    bytes_ = 0;
  }

  [[nodiscard]] std::size_t cached_bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::size_t cached_blocks() const noexcept { return count_; }

  static void unmap(Mapping m) noexcept { ::munmap(m.data, m.length); }

 private:
  static bool& gone() noexcept {
    thread_local bool flag = false;  // trivially destructible: readable until the thread ends
    return flag;
  }

  // The smallest cached mapping that holds `length`, else the largest (the most warm pages).
  [[nodiscard]] std::size_t best_fit(std::size_t length) const noexcept {
    std::size_t best = 0;
    for (std::size_t i = 1; i < count_; ++i) {
      const std::size_t have = blocks_[i].length;
      const std::size_t best_have = blocks_[best].length;
      const bool fits = have >= length;
      const bool best_fits = best_have >= length;
      if (fits ? (!best_fits || have < best_have) : (!best_fits && have > best_have)) best = i;
    }
    return best;
  }

  std::array<Mapping, max_blocks> blocks_{};
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};
#endif

class LargeBlock {
 public:
  // Above this a block is pages of its own (Linux). Equal to BlockPool::max_block, so that a
  // ByteBuffer's pooled sizes and its large ones meet without a gap (byte_buffer.hpp checks).
  static constexpr std::size_t mmap_threshold = 256 * 1024;
  static constexpr bool grows_in_place = WIREFRAME_LARGE_BLOCK_MREMAP != 0;

  LargeBlock() noexcept = default;
  LargeBlock(LargeBlock&& other) noexcept { swap(other); }
  LargeBlock& operator=(LargeBlock&& other) noexcept {
    LargeBlock(std::move(other)).swap(*this);  // the old block dies with the temporary
    return *this;
  }
  ~LargeBlock() { release(); }

  void swap(LargeBlock& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(capacity_, other.capacity_);
    std::swap(mapped_, other.mapped_);
  }

  // Replaces the block by one of `n` bytes (content indeterminate): exactly `n`, unless the
  // thread has warm pages cached for it, which are then used whole up to `up_to` bytes (the
  // capacity the caller accepts; all of it is real memory and capacity() says so). False, and
  // nothing held, when the memory cannot be had.
  [[nodiscard]] bool allocate(std::size_t n, std::size_t up_to = 0) noexcept {
    release();
    if (n == 0) return true;
    return use_pages(n) ? map(n, up_to) : from_heap(n);
  }

  // Grows to `n` bytes (nothing to do if n <= capacity()), keeping the first
  // min(keep, capacity()) bytes; the data may move. A block that becomes pages may get up to
  // `up_to` bytes, as allocate(). False, and the block unchanged, on failure.
  [[nodiscard]] bool grow(std::size_t n, std::size_t keep = static_cast<std::size_t>(-1),
                          std::size_t up_to = 0) noexcept {
    if (n <= capacity_) return true;
    if (data_ == nullptr) return allocate(n, up_to);
    if (mapped_ != 0) return remap(n);
    if (use_pages(n)) return move_to_pages(n, keep < capacity_ ? keep : capacity_, up_to);
    return reallocate(n);
  }

  // Frees the block: a mapping goes to the thread's PageCache, or back to the kernel at once.
  void release() noexcept {
    if (data_ == nullptr) return;
    if (mapped_ != 0) {
      unmap();
    } else {
      std::free(data_);
    }
    data_ = nullptr;
    capacity_ = mapped_ = 0;
  }

  [[nodiscard]] std::byte* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // True when the block is pages of its own (it then grows without copying).
  [[nodiscard]] bool mapped() const noexcept { return mapped_ != 0; }

 private:
  static bool use_pages(std::size_t n) noexcept { return grows_in_place && n > mmap_threshold; }
  // No object may exceed PTRDIFF_MAX bytes; refused before asking (and compilers then know).
  static bool too_large(std::size_t n) noexcept { return n > static_cast<std::size_t>(PTRDIFF_MAX); }

  bool from_heap(std::size_t n) noexcept {
    if (too_large(n)) return false;
    data_ = static_cast<std::byte*>(std::malloc(n));
    if (data_ == nullptr) return false;
    capacity_ = n;
    return true;
  }

  bool reallocate(std::size_t n) noexcept {
    if (too_large(n)) return false;
    void* p = std::realloc(data_, n);  // on failure the old block is still ours
    if (p == nullptr) return false;
    data_ = static_cast<std::byte*>(p);
    capacity_ = n;
    return true;
  }

#if WIREFRAME_LARGE_BLOCK_MREMAP
  static std::size_t page_size() noexcept {
    static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
  }
  // `n` rounded up to whole pages; 0 when that overflows.
  static std::size_t page_rounded(std::size_t n) noexcept {
    const std::size_t p = page_size();
    return n > static_cast<std::size_t>(-1) - (p - 1) ? 0 : (n + p - 1) & ~(p - 1);
  }

  bool map(std::size_t n, std::size_t up_to) noexcept {
    const std::size_t len = page_rounded(n);
    if (len == 0) return false;
    const std::size_t most = up_to - up_to % page_size();  // whole pages within up_to
    PageCache::Mapping m;
    if (auto* cache = PageCache::local()) m = cache->take(len, most > len ? most : len);
    if (m.data != nullptr) {  // warm pages: all of them count when the owner accepts them
      capacity_ = m.length <= up_to ? m.length : n;
    } else {
      void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return false;
      m = {static_cast<std::byte*>(p), len};
      capacity_ = n;  // fresh pages: the size asked for, as from malloc
    }
    data_ = m.data;
    mapped_ = m.length;
    return true;
  }

  bool remap(std::size_t n) noexcept {
    const std::size_t len = page_rounded(n);
    if (len == 0) return false;
    if (len != mapped_) {
      void* p = ::mremap(data_, mapped_, len, MREMAP_MAYMOVE);  // moves page tables, not bytes
      if (p == MAP_FAILED) return false;
      data_ = static_cast<std::byte*>(p);
      mapped_ = len;
    }
    capacity_ = n;
    return true;
  }

  // From malloc to pages: the only copy, of at most mmap_threshold bytes.
  bool move_to_pages(std::size_t n, std::size_t keep, std::size_t up_to) noexcept {
    LargeBlock pages;
    if (!pages.map(n, up_to)) return false;
    if (keep != 0) std::memcpy(pages.data_, data_, keep);
    swap(pages);  // the malloc'd block is freed with `pages`
    return true;
  }

  void unmap() noexcept {
    const PageCache::Mapping m{data_, mapped_};
    auto* cache = PageCache::local();
    if (cache == nullptr || !cache->give(m)) PageCache::unmap(m);
  }
#else
  bool map(std::size_t n, std::size_t) noexcept { return from_heap(n); }
  bool remap(std::size_t n) noexcept { return reallocate(n); }
  bool move_to_pages(std::size_t n, std::size_t, std::size_t) noexcept { return reallocate(n); }
  void unmap() noexcept {}  // never mapped here
#endif

  std::byte* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t mapped_ = 0;  // bytes mapped (whole pages) when the block is pages; 0 for malloc
};

// Gives the calling thread's cached pages back to the kernel (a no-op without PageCache).
inline void trim_page_cache() noexcept {
#if WIREFRAME_LARGE_BLOCK_MREMAP
  if (auto* cache = PageCache::local()) cache->trim();
#endif
}

}  // namespace wireframe::detail
