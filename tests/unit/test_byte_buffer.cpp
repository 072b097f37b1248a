// ByteBuffer: the reusable, capped byte area behind every connection's read and write buffers.

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wireframe/buffer/byte_buffer.hpp"

namespace test_byte_buffer_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::ByteBuffer;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string counting(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

void write(ByteBuffer& buf, std::string_view s) {
  auto dst = buf.prepare(s.size());
  REQUIRE(dst.size() == s.size());
  if (!s.empty()) std::memcpy(dst.data(), s.data(), s.size());
  buf.commit(s.size());
}

}  // namespace

TEST_CASE("a new buffer is empty and owns nothing") {
  const ByteBuffer buf;
  CHECK(buf.empty());
  CHECK(buf.size() == 0);
  CHECK(buf.capacity() == 0);
  CHECK(buf.readable().empty());
  CHECK(buf.max_capacity() == static_cast<std::size_t>(-1));
  CHECK(ByteBuffer(123).max_capacity() == 123);
}

TEST_CASE("prepare gives writable space that commit turns into readable bytes") {
  ByteBuffer buf;
  auto dst = buf.prepare(10);
  REQUIRE(dst.size() == 10);
  CHECK(buf.capacity() >= 10);
  CHECK(buf.empty());  // prepared but not committed: not readable

  std::memcpy(dst.data(), "0123456789", 10);
  buf.commit(4);  // only part of the prepared space
  CHECK(buf.size() == 4);
  CHECK(text(buf.readable()) == "0123");

  // The next prepare starts right after the committed bytes.
  auto more = buf.prepare(2);
  REQUIRE(more.size() == 2);
  CHECK(more.data() == buf.readable().data() + 4);
  std::memcpy(more.data(), "xy", 2);
  buf.commit(2);
  CHECK(text(buf.readable()) == "0123xy");
}

TEST_CASE("consume drops bytes from the front") {
  ByteBuffer buf;
  write(buf, "hello world");
  buf.consume(6);
  CHECK(buf.size() == 5);
  CHECK(text(buf.readable()) == "world");
  write(buf, "!");
  CHECK(text(buf.readable()) == "world!");
  buf.consume(6);
  CHECK(buf.empty());
  CHECK(buf.readable().empty());
}

TEST_CASE("a fully consumed buffer is reused from the front, so steady traffic never grows it") {
  ByteBuffer buf;
  write(buf, counting(100));
  const std::size_t capacity = buf.capacity();
  const std::byte* front = buf.readable().data();
  for (int i = 0; i < 1000; ++i) {
    write(buf, counting(100));
    buf.consume(buf.size());
  }
  write(buf, counting(100));
  CHECK(buf.capacity() == capacity);
  CHECK(buf.readable().data() == front);
}

TEST_CASE("growth preserves the readable bytes") {
  ByteBuffer buf;
  write(buf, "abcdefghij");
  buf.consume(3);
  auto big = buf.prepare(100000);
  REQUIRE(big.size() == 100000);
  CHECK(buf.capacity() >= 100007);
  CHECK(text(buf.readable()) == "defghij");
  std::memset(big.data(), 'z', big.size());
  buf.commit(big.size());
  CHECK(buf.size() == 100007);
  CHECK(text(buf.readable().first(8)) == "defghijz");
}

TEST_CASE("space freed at the front is reclaimed by compaction instead of growth") {
  ByteBuffer buf;
  const std::string data = counting(200);
  write(buf, data);
  const std::size_t capacity = buf.capacity();
  REQUIRE(capacity >= 200);
  buf.consume(150);  // 50 live bytes at offset 150

  const std::size_t fits_only_after_compaction = capacity - 50;  // > capacity - 200 at the end
  auto dst = buf.prepare(fits_only_after_compaction);
  REQUIRE(dst.size() == fits_only_after_compaction);
  CHECK(buf.capacity() == capacity);  // no new allocation
  CHECK(text(buf.readable()) == data.substr(150));
  CHECK(dst.data() == buf.readable().data() + 50);
}

TEST_CASE("max_capacity is a hard cap") {
  ByteBuffer buf(100);

  SECTION("the buffer never allocates beyond its cap") {
    REQUIRE(buf.prepare(10).size() == 10);
    CHECK(buf.capacity() <= 100);
    REQUIRE(buf.prepare(100).size() == 100);
    CHECK(buf.capacity() == 100);
  }

  SECTION("prepare beyond the cap returns an empty span and keeps the content") {
    write(buf, counting(60));
    CHECK(buf.prepare(41).empty());
    CHECK(text(buf.readable()) == counting(60));
    CHECK(buf.capacity() <= 100);
    CHECK(buf.prepare(40).size() == 40);
  }

  SECTION("append beyond the cap fails and appends nothing") {
    REQUIRE(buf.append(bytes_of(counting(90))));
    CHECK_FALSE(buf.append(bytes_of("0123456789a")));
    CHECK(text(buf.readable()) == counting(90));
    CHECK(buf.append(bytes_of("0123456789")));
    CHECK(buf.size() == 100);
    CHECK_FALSE(buf.append(bytes_of("x")));
  }

  SECTION("the cap counts live bytes: consumed bytes make room again") {
    write(buf, counting(100));
    CHECK(buf.prepare(1).empty());
    buf.consume(30);
    auto dst = buf.prepare(30);
    REQUIRE(dst.size() == 30);
    CHECK(text(buf.readable()) == counting(100).substr(30));
  }

  SECTION("a request larger than the cap on an empty buffer fails without allocating") {
    CHECK(buf.prepare(101).empty());
    CHECK(buf.capacity() == 0);
  }
}

TEST_CASE("a cap just above a power-of-two growth step is honoured exactly") {
  ByteBuffer buf(300);
  write(buf, counting(250));
  REQUIRE(buf.prepare(50).size() == 50);
  CHECK(buf.capacity() <= 300);
  CHECK(text(buf.readable()) == counting(250));
}

TEST_CASE("append copies bytes after the readable ones") {
  ByteBuffer buf;
  REQUIRE(buf.append(bytes_of("ab")));
  REQUIRE(buf.append(bytes_of("")));
  REQUIRE(buf.append(bytes_of("cd")));
  CHECK(text(buf.readable()) == "abcd");
}

TEST_CASE("clear empties but keeps storage and release frees it") {
  ByteBuffer buf;
  write(buf, counting(500));
  const std::size_t capacity = buf.capacity();

  buf.clear();
  CHECK(buf.empty());
  CHECK(buf.capacity() == capacity);

  write(buf, "abc");
  buf.release();
  CHECK(buf.empty());
  CHECK(buf.capacity() == 0);
  CHECK(buf.readable().empty());

  write(buf, "again");  // still usable
  CHECK(text(buf.readable()) == "again");
}

TEST_CASE("moving transfers content and leaves the source empty and usable") {
  ByteBuffer src(1000);
  write(src, "payload");
  src.consume(3);
  const std::byte* data = src.readable().data();

  SECTION("move construction") {
    ByteBuffer dst(std::move(src));
    CHECK(text(dst.readable()) == "load");
    CHECK(dst.readable().data() == data);  // the storage moved, nothing was copied
    CHECK(dst.max_capacity() == 1000);

    CHECK(src.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    CHECK(src.capacity() == 0);
    write(src, "reuse");
    CHECK(text(src.readable()) == "reuse");
  }

  SECTION("move assignment") {
    ByteBuffer dst(5);
    write(dst, "old");
    dst = std::move(src);
    CHECK(text(dst.readable()) == "load");
    CHECK(dst.max_capacity() == 1000);
    CHECK(dst.prepare(900).size() == 900);

    CHECK(src.empty());  // NOLINT(bugprone-use-after-move)
    CHECK(src.capacity() == 0);
    write(src, "reuse");
    CHECK(text(src.readable()) == "reuse");
  }
}

// --- above the pool's sizes: LargeBlock storage, grown in place ------------------------------

TEST_CASE("a buffer growing to megabytes keeps its bytes across every growth step") {
  // The read buffer's default cap: max frame length + prefix + read chunk.
  ByteBuffer buf(8 * 1024 * 1024 + 4 + 16 * 1024);
  const std::string chunk = counting(16 * 1024 + 7);  // odd size: never aligned with a step
  std::size_t written = 0;
  std::size_t consumed = 0;
  while (buf.size() + chunk.size() <= 8 * 1024 * 1024) {
    write(buf, chunk);
    written += chunk.size();
    if (written % (10 * chunk.size()) == 0) {  // bytes consumed at the front: growth compacts
      buf.consume(chunk.size());
      consumed += chunk.size();
    }
  }
  CHECK(buf.capacity() > wireframe::detail::BlockPool::max_block);
  CHECK(buf.capacity() <= buf.max_capacity());
  CHECK(buf.size() == written - consumed);
  const auto bytes = buf.readable();
  bool intact = true;
  for (std::size_t i = 0; i < bytes.size(); i += 4093) {
    intact = intact && static_cast<char>(bytes[i]) == chunk[(consumed + i) % chunk.size()];
  }
  CHECK(intact);
  CHECK(text(bytes.last(chunk.size())) == chunk);
}

TEST_CASE("a buffer reaches its cap exactly above the pool's sizes too") {
  const std::size_t cap = 3 * 1024 * 1024 + 123;
  const std::size_t first = 300 * 1024;  // already above the pool's sizes
  wireframe::detail::trim_page_cache();  // no warm pages: capacities as computed
  ByteBuffer buf(cap);
  write(buf, counting(first));
  REQUIRE(buf.capacity() < cap);
  REQUIRE(buf.prepare(cap - first).size() == cap - first);
  CHECK(buf.capacity() == cap);
  CHECK(text(buf.readable()) == counting(first));
  CHECK(buf.prepare(cap - first + 1).empty());
}

TEST_CASE("a large buffer released goes back to pooled sizes") {
  ByteBuffer buf;
  write(buf, counting(1024 * 1024));
  CHECK(buf.capacity() >= 1024 * 1024);
  buf.release();
  CHECK(buf.capacity() == 0);
  write(buf, "small");
  CHECK(buf.capacity() == 256);
  CHECK(text(buf.readable()) == "small");
}

TEST_CASE("memory that cannot be had is an empty span, and the content is kept") {
  const std::size_t impossible = std::size_t{1} << 60;  // beyond any address space
  ByteBuffer buf;
  SECTION("from a pooled block") {
    write(buf, "abc");
    const std::size_t capacity = buf.capacity();
    CHECK(buf.prepare(impossible).empty());
    CHECK(buf.capacity() == capacity);
    CHECK(text(buf.readable()) == "abc");
  }
  SECTION("from a large block") {
    write(buf, counting(600 * 1024));
    buf.consume(100);
    const std::size_t capacity = buf.capacity();
    CHECK(buf.prepare(impossible).empty());
    CHECK(buf.capacity() == capacity);
    CHECK(text(buf.readable()) == counting(600 * 1024).substr(100));
    write(buf, "more");  // still usable
    CHECK(buf.size() == 600 * 1024 - 100 + 4);
  }
}

TEST_CASE("moving a large buffer moves its storage") {
  ByteBuffer src;
  write(src, counting(512 * 1024 + 1));
  const std::byte* data = src.readable().data();
  ByteBuffer dst(std::move(src));
  CHECK(dst.readable().data() == data);
  CHECK(text(dst.readable()) == counting(512 * 1024 + 1));
  CHECK(src.capacity() == 0);  // NOLINT(bugprone-use-after-move)
  ByteBuffer again;
  write(again, "x");
  again = std::move(dst);
  CHECK(again.readable().data() == data);
  write(src, "reuse");  // NOLINT(bugprone-use-after-move)
  CHECK(text(src.readable()) == "reuse");
}

TEST_CASE("above the pool's sizes a jump gets what it needs, steady growth still doubles") {
  wireframe::detail::trim_page_cache();  // no warm pages: capacities as computed
  ByteBuffer buf;
  REQUIRE(buf.prepare(1024 * 1024 + 12).size() == 1024 * 1024 + 12);
  CHECK(buf.capacity() == 1024 * 1024 + 12);  // not 2 MiB
  buf.commit(1024 * 1024 + 12);
  REQUIRE(buf.prepare(100).size() == 100);
  CHECK(buf.capacity() == 2 * (1024 * 1024 + 12));  // amortised from there on

  ByteBuffer small;
  write(small, counting(200 * 1024));
  CHECK(small.capacity() == 256 * 1024);  // pooled sizes: powers of two, as before
  write(small, counting(100 * 1024));
  CHECK(small.capacity() == 512 * 1024);
}

}  // namespace test_byte_buffer_cpp
