#pragma once
// Fixed-width integers to and from bytes in a given order, as one load or store and at most one
// byte swap: the codec's length prefix and the envelope's header are read and written for every
// frame, and a byte-at-a-time loop over a run-time width costs several times more.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace wireframe::detail {

template <class U>
[[nodiscard]] constexpr U byte_swap(U v) noexcept {
  if constexpr (sizeof(U) == 1) return v;
  else if constexpr (sizeof(U) == 2) return static_cast<U>(__builtin_bswap16(v));
  else if constexpr (sizeof(U) == 4) return static_cast<U>(__builtin_bswap32(v));
  else return static_cast<U>(__builtin_bswap64(v));
}

template <class U, std::endian Order>
[[nodiscard]] inline U load(const std::byte* src) noexcept {
  U v;
  std::memcpy(&v, src, sizeof v);
  return Order == std::endian::native ? v : byte_swap(v);
}

template <class U, std::endian Order>
inline void store(std::byte* dst, U v) noexcept {
  if (Order != std::endian::native) v = byte_swap(v);
  std::memcpy(dst, &v, sizeof v);
}

template <class U>
[[nodiscard]] inline U load_be(const std::byte* src) noexcept {
  return load<U, std::endian::big>(src);
}
template <class U>
inline void store_be(std::byte* dst, U v) noexcept {
  store<U, std::endian::big>(dst, v);
}

}  // namespace wireframe::detail
