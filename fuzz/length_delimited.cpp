// LengthDelimitedCodec fed arbitrary bytes, in every configuration it has: prefix width 1, 2, 4
// or 8 bytes, big- or little-endian, and a range of maximum frame lengths (the codec has no
// length adjustment or offset options).
//
// Input: byte 0 picks the configuration (bits 0-1 width, bit 2 byte order, bits 3-5 maximum
// frame length, bits 6-7 the cap of the buffer encode() writes into); the rest is the stream.
//
// Properties (a violation aborts with a message, so libFuzzer keeps the input):
//   - decode() agrees with a byte-at-a-time reference reading of the prefix: a frame is exactly
//     the announced body, viewed in place, never above max_frame_length(), consuming prefix +
//     body and never more than the input; need_more only while no whole frame is present;
//     the only error is errc::frame_too_large, and only for a prefix above the maximum;
//   - decode() is deterministic, and a frame split anywhere is need_more, never an error;
//   - round trip: encode() of bodies taken from the input (within max_frame_length()) decodes
//     back to exactly those bodies, consuming exactly the encoded bytes; encode_prefix() writes
//     the same prefix; a body above the maximum, or a buffer cap too small, is frame_too_large
//     with nothing appended and the body writer never called.
// ASan and UBSan (the fuzz preset) check the rest.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <limits>
#include <span>
#include <system_error>

#include <wireframe/buffer/byte_buffer.hpp>
#include <wireframe/codec/length_delimited.hpp>
#include <wireframe/error/errc.hpp>

#include "fuzz/fuzz_check.hpp"

using fuzz::check;

using wireframe::ByteBuffer;
using wireframe::DecodeResult;
using wireframe::DecodeStatus;
using wireframe::Endian;
using wireframe::LengthDelimitedCodec;
using wireframe::errc;
using Bytes = std::span<const std::byte>;

static constexpr std::size_t widths[] = {1, 2, 4, 8};
static constexpr std::size_t max_lengths[] = {
    LengthDelimitedCodec::default_max_frame_length, 0, 1, 7, 255, 256, 65536,
    std::numeric_limits<std::size_t>::max()};
static constexpr std::size_t buffer_caps[] = {std::numeric_limits<std::size_t>::max(), 3, 64, 300};

static LengthDelimitedCodec make_codec(std::uint8_t config) {
  LengthDelimitedCodec::Options o;
  o.prefix_width = widths[config & 3];
  o.endian = (config & 4) != 0 ? Endian::little : Endian::big;
  o.max_frame_length = max_lengths[(config >> 3) & 7];
  return LengthDelimitedCodec(o);
}

// The prefix read one byte at a time: the model decode() is checked against.
static std::uint64_t reference_prefix(const LengthDelimitedCodec& codec, Bytes in) {
  const std::size_t w = codec.prefix_width();
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < w; ++i) {
    const std::size_t k = codec.endian() == Endian::big ? i : w - 1 - i;
    v = v << 8 | std::to_integer<std::uint64_t>(in[k]);
  }
  return v;
}

static bool same_result(const DecodeResult& a, const DecodeResult& b) {
  return a.status == b.status && a.consumed == b.consumed && a.frame.data() == b.frame.data() &&
         a.frame.size() == b.frame.size() && a.error == b.error;
}

static void check_frame(const LengthDelimitedCodec& codec, Bytes in, const DecodeResult& r) {
  const std::size_t w = codec.prefix_width();
  check(in.size() >= w, "a frame needs a whole prefix");
  check(reference_prefix(codec, in) == r.frame.size(), "the frame is the announced length");
  check(r.frame.size() <= codec.max_frame_length(), "a frame never exceeds max_frame_length()");
  check(r.consumed == w + r.frame.size(), "consumed is the prefix plus the body");
  check(r.consumed <= in.size(), "consumed never exceeds the input");
  check(r.frame.data() == in.data() + w, "the frame views the body in place");
  check(!r.error, "a frame carries no error");
  // Split anywhere before its end, the same frame is need_more; cut at its end, the same frame.
  check(codec.decode(in.first(r.consumed - 1)).status == DecodeStatus::need_more,
        "a frame cut short is need_more, never an error");
  check(same_result(codec.decode(in.first(r.consumed)), r), "a frame alone decodes the same");
}

static void check_need_more(const LengthDelimitedCodec& codec, Bytes in, const DecodeResult& r) {
  const std::size_t w = codec.prefix_width();
  check(r.consumed == 0 && r.frame.empty() && !r.error, "need_more carries nothing");
  if (in.size() < w) return;
  const std::uint64_t announced = reference_prefix(codec, in);
  check(announced <= codec.max_frame_length(), "need_more never for a prefix above the maximum");
  check(in.size() - w < announced, "need_more never when a whole frame is present");
}

static void check_error(const LengthDelimitedCodec& codec, Bytes in, const DecodeResult& r) {
  check(r.error == errc::frame_too_large, "the only decode error is errc::frame_too_large");
  check(r.consumed == 0 && r.frame.empty(), "an error consumes nothing");
  check(in.size() >= codec.prefix_width(), "an error needs a whole prefix");
  check(reference_prefix(codec, in) > codec.max_frame_length(),
        "frame_too_large only for a prefix above the maximum");
}

static DecodeResult checked_decode(const LengthDelimitedCodec& codec, Bytes in) {
  const DecodeResult r = codec.decode(in);
  check(same_result(codec.decode(in), r), "decode is deterministic");
  switch (r.status) {
    case DecodeStatus::frame: check_frame(codec, in, r); break;
    case DecodeStatus::need_more: check_need_more(codec, in, r); break;
    case DecodeStatus::error: check_error(codec, in, r); break;
  }
  return r;
}

// Decodes frames one after another, as a connection does, until need_more or an error.
static void decode_stream(const LengthDelimitedCodec& codec, Bytes in) {
  for (;;) {
    const DecodeResult r = checked_decode(codec, in);
    if (r.status != DecodeStatus::frame) return;
    in = in.subspan(r.consumed);
  }
}

static std::error_code encode_body(const LengthDelimitedCodec& codec, Bytes body, ByteBuffer& out) {
  return codec.encode(body.size(), out, [body](std::span<std::byte> dst) {
    check(dst.size() == body.size(), "the body writer gets exactly body_len bytes");
    std::copy(body.begin(), body.end(), dst.begin());
  });
}

static bool same_bytes(Bytes a, Bytes b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// Two bodies encoded back to back decode back to exactly those bodies.
static void check_round_trip(const LengthDelimitedCodec& codec, Bytes first, Bytes second) {
  const std::size_t w = codec.prefix_width();
  ByteBuffer out;
  check(!encode_body(codec, first, out), "encode accepts a body within max_frame_length()");
  check(out.size() == w + first.size(), "encode appends the prefix and the body");
  check(!encode_body(codec, second, out), "encode accepts a second body");
  check(out.size() == 2 * w + first.size() + second.size(), "encode appends to the buffer");

  Bytes in = out.readable();
  const DecodeResult a = checked_decode(codec, in);
  check(a.status == DecodeStatus::frame && same_bytes(a.frame, first), "round trip: first body");
  check(a.consumed == w + first.size(), "round trip consumes exactly the encoded size");
  in = in.subspan(a.consumed);
  const DecodeResult b = checked_decode(codec, in);
  check(b.status == DecodeStatus::frame && same_bytes(b.frame, second), "round trip: second body");
  check(b.consumed == in.size(), "round trip consumes exactly the encoded size (second)");

  ByteBuffer prefixed;
  check(!codec.encode_prefix(first.size(), prefixed), "encode_prefix accepts what encode does");
  check(prefixed.append(first), "append to an uncapped buffer");
  check(same_bytes(prefixed.readable(), out.readable().first(w + first.size())),
        "encode_prefix writes the same prefix as encode");
}

static void check_refusals(const LengthDelimitedCodec& codec, Bytes body, std::size_t cap) {
  const auto never = [](std::span<std::byte>) { check(false, "the body writer is not called on error"); };
  ByteBuffer out;
  const std::size_t max = codec.max_frame_length();
  // Above the maximum, or (an 8-byte prefix, no maximum) a total that size_t cannot hold.
  const std::size_t too_long =
      max < std::numeric_limits<std::size_t>::max() ? max + 1 : max - codec.prefix_width() + 1;
  check(codec.encode(too_long, out, never) == errc::frame_too_large, "encode refuses a body above the maximum");
  check(out.empty(), "a refused encode appends nothing");
  if (max < std::numeric_limits<std::size_t>::max()) {
    check(codec.encode_prefix(max + 1, out) == errc::frame_too_large, "encode_prefix refuses above the maximum");
    check(out.empty(), "a refused encode_prefix appends nothing");
  }

  ByteBuffer capped(cap);
  const std::error_code ec = encode_body(codec, body, capped);
  const bool fits = codec.prefix_width() + body.size() <= cap;
  check(fits ? !ec : ec == errc::frame_too_large, "encode fails exactly when the buffer's cap is too small");
  check(capped.size() == (fits ? codec.prefix_width() + body.size() : 0), "a capped encode appends all or nothing");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const LengthDelimitedCodec codec = make_codec(data[0]);
  const Bytes stream = std::as_bytes(std::span(data + 1, size - 1));
  decode_stream(codec, stream);

  const std::size_t half = std::min(stream.size() / 2, codec.max_frame_length());
  const Bytes rest = stream.subspan(half);
  const Bytes first = stream.first(half);
  const Bytes second = rest.first(std::min(rest.size(), codec.max_frame_length()));
  check_round_trip(codec, first, second);
  check_refusals(codec, first, buffer_caps[(data[0] >> 6) & 3]);
  return 0;
}
