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
