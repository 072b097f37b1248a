#pragma once
// Hand-built fragment frames, byte by byte as docs/fragmentation.md specifies them, for tests
// that must send what a well-behaved peer never would (gaps, duplicates, huge declared totals).
// Codec: the default LengthDelimitedCodec (4-byte big-endian prefix).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <wireframe/packet/envelope.hpp>

namespace wireframe::test {

using Wire = std::vector<std::uint8_t>;

// Appends `v` as `width` big-endian bytes. (Sized writes rather than vector::insert: g++ 12 at
// -O3 raises a false -Wstringop-overread on insert into a vector that was just grown.)
inline void put_be(Wire& out, std::uint64_t v, int width) {
  const std::size_t at = out.size();
  out.resize(at + static_cast<std::size_t>(width));
  for (int i = 0; i < width; ++i) out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * (width - 1 - i)));
}

inline void put_bytes(Wire& out, std::span<const std::uint8_t> bytes) {
  const std::size_t at = out.size();
  out.resize(at + bytes.size());
  if (!bytes.empty()) std::memcpy(out.data() + at, bytes.data(), bytes.size());
}

// The encoded bytes of an Envelope (the logical message that fragments carry).
inline Wire envelope_bytes(const Envelope& e) {
  std::vector<std::byte> tmp(e.encoded_size());
  e.encode_to(tmp);
  Wire out(tmp.size());
  for (std::size_t i = 0; i < tmp.size(); ++i) out[i] = std::to_integer<std::uint8_t>(tmp[i]);
  return out;
}

// One codec frame: 4-byte big-endian length prefix, then `body`.
inline Wire framed(const Wire& body) {
  Wire out;
  put_be(out, body.size(), 4);
  put_bytes(out, body);
  return out;
}

// A Multiplexed fragment frame. `payload_length` defaults to the payload's real size.
inline Wire mux_fragment(bool final, std::uint32_t id, std::uint32_t seq, std::span<const std::uint8_t> payload,
                         std::optional<std::uint64_t> total = std::nullopt) {
  Wire body;
  body.push_back(static_cast<std::uint8_t>((final ? 1 : 0) | (total ? 2 : 0)));
  put_be(body, id, 4);
  put_be(body, seq, 4);
  put_be(body, payload.size(), 4);
  if (total) put_be(body, *total, 8);
  put_bytes(body, payload);
  return framed(body);
}

// A LenFlag32K fragment frame (payload <= 32767 bytes).
inline Wire lenflag_fragment(bool final, std::span<const std::uint8_t> payload) {
  Wire body;
  put_be(body, payload.size() | (final ? 0x8000U : 0U), 2);
  put_bytes(body, payload);
  return framed(body);
}

inline Wire operator+(Wire a, const Wire& b) {
  put_bytes(a, b);
  return a;
}

}  // namespace wireframe::test
