// wireframe::Envelope, the default Packet, decoded from arbitrary frame bytes and encoded from
// envelopes built from the input. Layout (envelope.hpp, docs/wire-format.md): u32 message id
// big-endian at offset 0, u64 correlation id big-endian at offset 4, payload from offset 12.
//
// Properties (a violation aborts with a message, so libFuzzer keeps the input):
//   - decode_from() accepts every frame of at least 12 bytes, reading id and correlation id
//     big-endian and the payload as the rest, and refuses a shorter one with exactly
//     errc::malformed_frame (the only error it documents);
//   - on success encoded_size() is the input's size and encode_to() reproduces the input
//     byte for byte (encode_header_to() its first 12 bytes);
//   - decoding into a used envelope (whose payload storage is reused) gives the same envelope
//     as decoding into a fresh one;
//   - an envelope built from the input (any id, correlation id and payload, including empty)
//     encodes to the documented layout and decode_from(encode_to(e)) == e.
// ASan (exact-size output buffers) catches any write beyond encoded_size().

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <span>
#include <system_error>
#include <vector>

#include <wireframe/error/errc.hpp>
#include <wireframe/packet/envelope.hpp>

#include "fuzz/fuzz_check.hpp"

using fuzz::check;

using wireframe::Envelope;
using wireframe::errc;
using Bytes = std::span<const std::byte>;

// Big-endian, one byte at a time: the model of the header.
static std::uint64_t read_be(Bytes in, std::size_t offset, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = v << 8 | std::to_integer<std::uint64_t>(in[offset + i]);
  return v;
}

static void write_be(std::vector<std::byte>& out, std::uint64_t v, std::size_t width) {
  for (std::size_t i = width; i-- > 0;) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

static bool same_bytes(Bytes a, Bytes b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

static std::vector<std::byte> encoded(const Envelope& e) {
  std::vector<std::byte> out(e.encoded_size());  // exact size: ASan sees any overrun
  e.encode_to(out);
  return out;
}

static void check_decode(Bytes in) {
  Envelope used(7, 9, "a payload whose storage decode_from reuses");
  const std::error_code ec = used.decode_from(in);
  if (in.size() < Envelope::header_size) {
    check(ec == errc::malformed_frame, "a frame shorter than the header is errc::malformed_frame");
    return;
  }
  check(!ec, "decode_from accepts any frame of at least a header");
  check(used.id() == read_be(in, 0, 4), "the id is the big-endian u32 at offset 0");
  check(used.correlation_id() == read_be(in, 4, 8), "the correlation id is the big-endian u64 at offset 4");
  check(same_bytes(used.payload(), in.subspan(Envelope::header_size)), "the payload is the rest");
  check(used.encoded_size() == in.size(), "encoded_size() is the decoded frame's size");
  check(same_bytes(encoded(used), in), "encode_to reproduces the input exactly");

  std::vector<std::byte> header(Envelope::encoded_header_size());
  used.encode_header_to(header);
  check(same_bytes(header, in.first(Envelope::header_size)), "encode_header_to writes the first 12 bytes");

  Envelope fresh;
  check(!fresh.decode_from(in) && fresh == used, "a used envelope decodes as a fresh one");
}

// An envelope from the input: id and correlation id from its first 12 bytes (zero where the
// input is shorter, in the input's own byte order), the payload from what follows.
static Envelope envelope_from(Bytes in) {
  std::uint64_t fields[2] = {0, 0};
  for (std::size_t i = 0; i < std::min<std::size_t>(in.size(), 12); ++i) {
    fields[i / 4 == 0 ? 0 : 1] |= std::to_integer<std::uint64_t>(in[i]) << (8 * (i < 4 ? i : i - 4));
  }
  const Bytes payload = in.size() > 12 ? in.subspan(12) : Bytes{};
  return Envelope(static_cast<std::uint32_t>(fields[0]), fields[1], payload);
}

static void check_round_trip(const Envelope& e) {
  const std::vector<std::byte> bytes = encoded(e);
  std::vector<std::byte> layout;
  write_be(layout, e.id(), 4);
  write_be(layout, e.correlation_id(), 8);
  layout.insert(layout.end(), e.payload().begin(), e.payload().end());
  check(same_bytes(bytes, layout), "encode_to writes the documented layout");

  Envelope back(1, 2, "stale");
  check(!back.decode_from(bytes), "an encoded envelope decodes");
  check(back == e, "decode_from(encode_to(e)) == e");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes in = std::as_bytes(std::span(data, size));
  check_decode(in);
  check_round_trip(envelope_from(in));
  return 0;
}
