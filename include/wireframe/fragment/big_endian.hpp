#pragma once
// Big-endian integer access for fragment headers. Fragment headers are big-endian regardless of
// the codec's prefix order (docs/fragmentation.md), like the Envelope header.

#include <cstddef>
#include <cstdint>

namespace wireframe::detail {

// Writes the low `width` bytes of `v`, most significant first.
inline void fragment_store_be(std::byte* dst, std::uint64_t v, std::size_t width) noexcept {
  for (std::size_t i = 0; i < width; ++i) {
    dst[i] = static_cast<std::byte>(v >> (8 * (width - 1 - i)));
  }
}

// Reads `width` (<= 8) bytes, most significant first.
[[nodiscard]] inline std::uint64_t fragment_load_be(const std::byte* src, std::size_t width) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(src[i]);
  return v;
}

}  // namespace wireframe::detail
