// Property tests of LengthDelimitedCodec: whatever the frames and however TCP cuts the stream,
// a reader gets back exactly the frames that were written; and no input, however hostile,
// makes decode() read outside its input or report anything but the three documented outcomes.

#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/codec/length_delimited.hpp"
#include "wireframe/error/errc.hpp"

namespace test_codec_properties_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::ByteBuffer;
using wireframe::DecodeStatus;
using wireframe::Endian;
using wireframe::errc;
using wireframe::LengthDelimitedCodec;

namespace {

using Body = std::vector<std::uint8_t>;

constexpr std::size_t max_body = 4096;

rc::Gen<std::size_t> gen_width() {
  return rc::gen::element(std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{8});
}
rc::Gen<Endian> gen_endian() { return rc::gen::element(Endian::big, Endian::little); }

// Independent model of the prefix: what the wire format says, written the naive way.
std::uint64_t model_prefix(std::span<const std::byte> p, Endian endian) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const auto b = std::to_integer<std::uint64_t>(p[i]);
    v |= b << (8 * (endian == Endian::big ? p.size() - 1 - i : i));
  }
  return v;
}

std::span<const std::byte> as_bytes(const Body& b) { return std::as_bytes(std::span(b)); }

// A reader as the connection actor runs it: append what arrived, decode every complete frame,
// consume it, keep the rest for the next chunk.
std::vector<Body> read_in_chunks(const LengthDelimitedCodec& codec,
                                 std::span<const std::byte> stream,
                                 const std::vector<std::size_t>& chunk_sizes) {
  std::vector<Body> out;
  ByteBuffer reader;
  std::size_t pos = 0;
  std::size_t next_chunk = 0;
  while (pos < stream.size()) {
    std::size_t n =
        chunk_sizes.empty() ? stream.size() : chunk_sizes[next_chunk++ % chunk_sizes.size()];
    n = std::min(n, stream.size() - pos);
    RC_ASSERT(reader.append(stream.subspan(pos, n)));
    pos += n;
    for (;;) {
      const auto r = codec.decode(reader.readable());
      if (r.status == DecodeStatus::need_more) break;
      RC_ASSERT(r.status == DecodeStatus::frame);
      const auto* first = reinterpret_cast<const std::uint8_t*>(r.frame.data());
      out.emplace_back(first, first + r.frame.size());
      reader.consume(r.consumed);
    }
  }
  RC_ASSERT(reader.empty());  // nothing left over: every frame was complete
  return out;
}

}  // namespace

TEST_CASE("encoded frames survive arbitrary chunking") {
  rc::prop("decode(chunks(encode(frames))) == frames", [] {
    const std::size_t width = *gen_width();
    const Endian endian = *gen_endian();
    const LengthDelimitedCodec codec(
        {width, endian, LengthDelimitedCodec::default_max_frame_length});
    const std::size_t limit = std::min(max_body, codec.max_frame_length());

    const auto count = *rc::gen::inRange<std::size_t>(0, 12);
    std::vector<Body> frames;
    for (std::size_t i = 0; i < count; ++i) {
      const auto len = *rc::gen::inRange<std::size_t>(0, limit + 1);
      frames.push_back(*rc::gen::container<Body>(len, rc::gen::arbitrary<std::uint8_t>()));
    }
    // Chunk sizes cycle; tiny ones split prefixes, large ones carry several frames at once.
    const auto chunk_sizes = *rc::gen::container<std::vector<std::size_t>>(
        rc::gen::inRange<std::size_t>(1, 3 * max_body));

    ByteBuffer writer;  // one write buffer for every frame, as the writer does
    std::size_t expected_size = 0;
    for (const auto& f : frames) {
      const auto ec = codec.encode(f.size(), writer, [&](std::span<std::byte> dst) {
        RC_ASSERT(dst.size() == f.size());
        if (!f.empty()) std::memcpy(dst.data(), f.data(), f.size());
      });
      RC_ASSERT(!ec);
      expected_size += width + f.size();
    }
    RC_ASSERT(writer.size() == expected_size);

    RC_ASSERT(read_in_chunks(codec, writer.readable(), chunk_sizes) == frames);
  });
}

TEST_CASE("encode obeys the maximum for any limit") {
  rc::prop("bodies up to the maximum encode to prefix + body, larger ones append nothing", [] {
    const std::size_t width = *gen_width();
    const Endian endian = *gen_endian();
    const auto max = *rc::gen::inRange<std::size_t>(0, 600);
    const LengthDelimitedCodec codec({width, endian, max});
    RC_ASSERT(codec.max_frame_length() == std::min<std::size_t>(max, width == 1 ? 255 : max));

    const Body body = *rc::gen::container<Body>(*rc::gen::inRange<std::size_t>(0, 700),
                                                rc::gen::arbitrary<std::uint8_t>());
    ByteBuffer out;
    const auto ec = codec.encode(body.size(), out, [&](std::span<std::byte> dst) {
      if (!body.empty()) std::memcpy(dst.data(), body.data(), body.size());
    });
    if (body.size() > codec.max_frame_length()) {
      RC_ASSERT(ec == errc::frame_too_large);
      RC_ASSERT(out.empty());
      return;
    }
    RC_ASSERT(!ec);
    const auto bytes = out.readable();
    RC_ASSERT(bytes.size() == width + body.size());
    RC_ASSERT(model_prefix(bytes.first(width), endian) == body.size());
    RC_ASSERT(std::ranges::equal(bytes.subspan(width), as_bytes(body)));
  });
}

TEST_CASE("decode of arbitrary bytes matches the wire-format model and stays in bounds") {
  rc::prop("decode(garbage) is frame, need_more or frame_too_large, exactly as the model says", [] {
    const std::size_t width = *gen_width();
    const Endian endian = *gen_endian();
    // Small maxima make every outcome common; the default exercises the realistic case.
    const auto max = *rc::gen::oneOf(rc::gen::inRange<std::size_t>(0, 64),
                                     rc::gen::just(LengthDelimitedCodec::default_max_frame_length));
    const LengthDelimitedCodec codec({width, endian, max});
    const Body garbage = *rc::gen::container<Body>(*rc::gen::inRange<std::size_t>(0, 80),
                                                   rc::gen::arbitrary<std::uint8_t>());

    // An exactly-sized heap copy, so that AddressSanitizer flags any read past the end.
    const auto exact = std::make_unique<std::byte[]>(garbage.size());
    if (!garbage.empty()) std::memcpy(exact.get(), garbage.data(), garbage.size());
    const std::span<const std::byte> input(exact.get(), garbage.size());

    const auto r = codec.decode(input);

    if (input.size() < width) {
      RC_ASSERT(r.status == DecodeStatus::need_more);
      return;
    }
    const std::uint64_t announced = model_prefix(input.first(width), endian);
    if (announced > codec.max_frame_length()) {
      RC_ASSERT(r.status == DecodeStatus::error);
      RC_ASSERT(r.error == errc::frame_too_large);
    } else if (input.size() - width < announced) {
      RC_ASSERT(r.status == DecodeStatus::need_more);
      RC_ASSERT(!r.error);
    } else {
      RC_ASSERT(r.status == DecodeStatus::frame);
      RC_ASSERT(r.consumed == width + announced);
      RC_ASSERT(r.frame.data() == input.data() + width);
      RC_ASSERT(r.frame.size() == announced);
      // Touch every byte of the view: out-of-bounds views fail under ASan.
      RC_ASSERT(std::ranges::equal(r.frame, input.subspan(width, r.frame.size())));
    }
  });
}

}  // namespace test_codec_properties_cpp
