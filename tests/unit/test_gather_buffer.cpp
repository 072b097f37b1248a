// GatherBuffer: owned bytes and borrowed slices come out in the order they were added, and a
// batch without borrowed slices is one contiguous buffer.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <span>
#include <string_view>

#include <wireframe/buffer/gather_buffer.hpp>

namespace test_gather_buffer_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::GatherBuffer;

namespace {

void append(GatherBuffer& g, std::string_view text) {
  REQUIRE(g.bytes().append(std::as_bytes(std::span<const char>(text.data(), text.size()))));
}

std::string flatten(std::span<const asio::const_buffer> seq) {
  std::string out;
  for (const auto& b : seq) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

}  // namespace

TEST_CASE("GatherBuffer keeps owned and borrowed bytes in order, without copying the slices") {
  const std::string big(100'000, 'x');  // borrowed: must not be copied into the owned bytes
  GatherBuffer g;
  append(g, "h1");
  g.add_borrowed(std::as_bytes(std::span<const char>(big.data(), 10)));
  append(g, "h2");
  append(g, "h3");
  g.add_borrowed(std::as_bytes(std::span<const char>(big.data() + 10, big.size() - 10)));
  g.add_borrowed({});  // nothing
  append(g, "tail");
  CHECK(g.size() == 2 + 10 + 4 + (big.size() - 10) + 4);
  CHECK(g.bytes().size() == 10);  // only the owned bytes live in the buffer
  const auto seq = g.buffers();
  REQUIRE(seq.size() == 5);
  CHECK(seq[1].data() == big.data());  // the slice itself, not a copy
  CHECK(flatten(seq) == "h1" + big.substr(0, 10) + "h2h3" + big.substr(10) + "tail");
  g.clear();
  CHECK(g.empty());
  append(g, "only");
  REQUIRE(g.buffers().size() == 1);
  CHECK(flatten(g.buffers()) == "only");
}

TEST_CASE("GatherBuffer's owned ranges survive the byte buffer growing") {
  GatherBuffer g;
  append(g, "a");
  const std::string slice = "SLICE";
  g.add_borrowed(std::as_bytes(std::span<const char>(slice.data(), slice.size())));
  append(g, std::string(1 << 20, 'b'));  // forces a reallocation of the owned bytes
  CHECK(flatten(g.buffers()) == "a" + slice + std::string(1 << 20, 'b'));
}

}  // namespace test_gather_buffer_cpp
