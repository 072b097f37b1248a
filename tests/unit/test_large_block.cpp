// LargeBlock: the growable block behind reassembly buffers and large read/write buffers. Growth
// keeps the content, capacities are exact, failures leave the block as it was.

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "wireframe/buffer/large_block.hpp"

namespace test_large_block_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::detail::LargeBlock;

namespace {

constexpr std::size_t kib = 1024;
constexpr std::size_t mib = 1024 * kib;
// More than any address space (2^57 with 5-level paging): mmap and mremap must refuse it, so
// the failure paths are reached without exhausting memory (and without ASan's malloc limits).
constexpr std::size_t impossible = std::size_t{1} << 60;

std::byte at(std::size_t i) { return static_cast<std::byte>((i * 7 + i / 4096) % 251); }

void fill(LargeBlock& b, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) b.data()[i] = at(i);
}

// True when the first `n` bytes hold the pattern; checks every byte of each 1 KiB at the start
// of every page and the last bytes, enough to see a lost or shifted page.
bool holds_pattern(const LargeBlock& b, std::size_t n) {
  for (std::size_t page = 0; page < n; page += 4 * kib) {
    for (std::size_t i = page; i < page + kib && i < n; ++i) {
      if (b.data()[i] != at(i)) return false;
    }
  }
  for (std::size_t i = n > 64 ? n - 64 : 0; i < n; ++i) {
    if (b.data()[i] != at(i)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("LargeBlock: a new block holds nothing") {
  LargeBlock b;
  CHECK(b.data() == nullptr);
  CHECK(b.capacity() == 0);
  CHECK_FALSE(b.mapped());
  CHECK(b.allocate(0));
  CHECK(b.data() == nullptr);
  CHECK(b.grow(0));
  CHECK(b.capacity() == 0);
  b.release();  // harmless when empty
}

TEST_CASE("LargeBlock: capacities are exact, small blocks stay off mmap") {
  LargeBlock b;
  REQUIRE(b.allocate(1000));
  CHECK(b.capacity() == 1000);
  CHECK_FALSE(b.mapped());
  REQUIRE(b.allocate(LargeBlock::mmap_threshold));  // the threshold itself is still small
  CHECK(b.capacity() == LargeBlock::mmap_threshold);
  CHECK_FALSE(b.mapped());
  REQUIRE(b.allocate(LargeBlock::mmap_threshold + 1));
  CHECK(b.capacity() == LargeBlock::mmap_threshold + 1);  // not rounded up to pages
  CHECK(b.mapped() == LargeBlock::grows_in_place);
  fill(b, 0, b.capacity());  // every byte of the capacity is usable
  CHECK(holds_pattern(b, b.capacity()));
  b.release();
  CHECK(b.capacity() == 0);
  CHECK(b.data() == nullptr);
}

TEST_CASE("LargeBlock: growth keeps the content, from small to large and on to 16 MiB") {
  LargeBlock b;
  REQUIRE(b.grow(3000));  // an empty block just allocates
  fill(b, 0, 3000);
  std::size_t filled = 3000;
  std::size_t cap = 3000;
  while (cap < 16 * mib) {
    cap = cap * 2 + 1;  // odd sizes: never page multiples
    REQUIRE(b.grow(cap));
    REQUIRE(b.capacity() == cap);
    REQUIRE(holds_pattern(b, filled));
    CHECK(b.mapped() == (LargeBlock::grows_in_place && cap > LargeBlock::mmap_threshold));
    fill(b, filled, cap);
    filled = cap;
  }
  CHECK(holds_pattern(b, filled));
}

TEST_CASE("LargeBlock: growing within the same capacity or page changes nothing") {
  LargeBlock b;
  REQUIRE(b.allocate(mib + 10));
  fill(b, 0, mib + 10);
  const std::byte* data = b.data();
  CHECK(b.grow(mib));  // smaller: a no-op
  CHECK(b.capacity() == mib + 10);
  CHECK(b.grow(mib + 100));  // same page: only the capacity moves
  CHECK(b.capacity() == mib + 100);
  if (LargeBlock::grows_in_place) CHECK(b.data() == data);  // realloc (elsewhere) may move
  CHECK(holds_pattern(b, mib + 10));
}

TEST_CASE("LargeBlock: crossing the threshold copies only the bytes to keep") {
  LargeBlock b;
  REQUIRE(b.allocate(100 * kib));
  fill(b, 0, 10 * kib);
  REQUIRE(b.grow(2 * mib, 10 * kib));
  CHECK(b.capacity() == 2 * mib);
  CHECK(holds_pattern(b, 10 * kib));
}

TEST_CASE("LargeBlock: a failed allocation or growth leaves the block as it was") {
  LargeBlock b;
  SECTION("allocate") {
    CHECK_FALSE(b.allocate(impossible));
    CHECK(b.data() == nullptr);
    CHECK(b.capacity() == 0);
    CHECK_FALSE(b.allocate(static_cast<std::size_t>(-1)));  // page rounding would overflow
    CHECK(b.capacity() == 0);
  }
  SECTION("grow a small block") {
    REQUIRE(b.allocate(5000));
    fill(b, 0, 5000);
    const std::byte* data = b.data();
    CHECK_FALSE(b.grow(impossible));
    CHECK(b.data() == data);
    CHECK(b.capacity() == 5000);
    CHECK(holds_pattern(b, 5000));
  }
  SECTION("grow a mapped block") {
    REQUIRE(b.allocate(mib));
    fill(b, 0, mib);
    const std::byte* data = b.data();
    CHECK_FALSE(b.grow(impossible));
    CHECK_FALSE(b.grow(static_cast<std::size_t>(-1)));
    CHECK(b.data() == data);
    CHECK(b.capacity() == mib);
    CHECK(holds_pattern(b, mib));
    REQUIRE(b.grow(4 * mib));  // still usable
    CHECK(holds_pattern(b, mib));
  }
}

TEST_CASE("LargeBlock: moving transfers the storage, swap exchanges it") {
  LargeBlock a;
  REQUIRE(a.allocate(2 * mib));
  fill(a, 0, 2 * mib);
  const std::byte* data = a.data();

  LargeBlock b(std::move(a));
  CHECK(b.data() == data);
  CHECK(b.capacity() == 2 * mib);
  CHECK(a.capacity() == 0);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(a.data() == nullptr);

  LargeBlock c;
  REQUIRE(c.allocate(100));
  c = std::move(b);  // c's old block is freed
  CHECK(c.data() == data);
  CHECK(holds_pattern(c, 2 * mib));
  CHECK(b.capacity() == 0);  // NOLINT(bugprone-use-after-move)

  LargeBlock d;
  REQUIRE(d.allocate(10));
  d.swap(c);
  CHECK(d.data() == data);
  CHECK(c.capacity() == 10);
}

#if WIREFRAME_LARGE_BLOCK_MREMAP
using wireframe::detail::PageCache;

TEST_CASE("PageCache: a freed mapping serves the next block with warm pages") {
  PageCache& cache = *PageCache::local();
  cache.trim();
  LargeBlock a;
  REQUIRE(a.allocate(mib));
  fill(a, 0, mib);
  const std::byte* data = a.data();
  a.release();
  CHECK(cache.cached_bytes() == mib);
  LargeBlock b;
  REQUIRE(b.allocate(mib - 100));  // same pages
  CHECK(b.data() == data);
  CHECK(b.capacity() == mib - 100);
  CHECK(holds_pattern(b, mib - 100));  // (indeterminate for the owner; here: proof of reuse)
  CHECK(cache.cached_bytes() == 0);
}

TEST_CASE("PageCache: a larger cached mapping is cut to size, a smaller one grown") {
  PageCache& cache = *PageCache::local();
  cache.trim();
  LargeBlock a;
  REQUIRE(a.allocate(2 * mib));
  a.release();
  REQUIRE(a.allocate(mib));  // from the 2 MiB mapping: its tail goes back to the kernel
  CHECK(a.capacity() == mib);
  CHECK(cache.cached_bytes() == 0);
  a.release();
  REQUIRE(a.allocate(3 * mib));  // from the 1 MiB mapping, grown
  CHECK(cache.cached_bytes() == 0);
  fill(a, 0, 3 * mib);
  CHECK(holds_pattern(a, 3 * mib));
  a.release();
  CHECK(cache.cached_bytes() == 3 * mib);
  cache.trim();
  CHECK(cache.cached_bytes() == 0);
}

TEST_CASE("PageCache: bounded, and larger mappings go straight back to the kernel") {
  PageCache& cache = *PageCache::local();
  cache.trim();
  {
    LargeBlock big;
    REQUIRE(big.allocate(PageCache::max_bytes + 1));
  }
  CHECK(cache.cached_bytes() == 0);
  {
    std::array<LargeBlock, PageCache::max_blocks + 2> blocks;
    for (auto& b : blocks) REQUIRE(b.allocate(300 * kib));
  }
  CHECK(cache.cached_blocks() == PageCache::max_blocks);
  {
    std::array<LargeBlock, 3> blocks;
    for (auto& b : blocks) REQUIRE(b.allocate(PageCache::max_bytes / 2));
  }
  CHECK(cache.cached_bytes() <= PageCache::max_bytes);
  CHECK(cache.cached_blocks() <= PageCache::max_blocks);
  cache.trim();
}

TEST_CASE("LargeBlock: warm cached pages are taken whole up to the owner's limit") {
  wireframe::detail::trim_page_cache();
  LargeBlock a;
  REQUIRE(a.allocate(2 * mib));
  a.release();
  SECTION("within the limit: all of it, and capacity() says so") {
    REQUIRE(a.allocate(300 * kib, 3 * mib));
    CHECK(a.capacity() == 2 * mib);
  }
  SECTION("beyond the limit: cut to the limit's whole pages") {
    REQUIRE(a.allocate(300 * kib, mib + 100));
    CHECK(a.capacity() == mib);
  }
  SECTION("no limit: exactly the size asked for") {
    REQUIRE(a.allocate(300 * kib + 1));
    CHECK(a.capacity() == 300 * kib + 1);
  }
  SECTION("a small block becoming pages") {
    LargeBlock b;
    REQUIRE(b.allocate(100 * kib));
    fill(b, 0, 100 * kib);
    REQUIRE(b.grow(400 * kib, 100 * kib, 2 * mib));
    CHECK(b.capacity() == 2 * mib);
    CHECK(holds_pattern(b, 100 * kib));
  }
  wireframe::detail::trim_page_cache();
}
#endif

}  // namespace test_large_block_cpp
