#pragma once
// The checksum of the blob protocol (docs/blob-server-protocol.md): 64-bit FNV-1a over the blob
// bytes, shared by examples/blob_server and examples/blob_client.
//
//   hash = 0xcbf29ce484222325                 (offset basis)
//   for each byte b:  hash = (hash XOR b) * 0x100000001b3   (prime), modulo 2^64
//
// Test vectors: "" -> 0xcbf29ce484222325, "a" -> 0xaf63dc4c8601ec8c,
// "foobar" -> 0x85944171f73967e8.

#include <cstddef>
#include <cstdint>
#include <span>

namespace blob {

inline constexpr std::uint64_t fnv1a64_offset_basis = 0xcbf29ce484222325ULL;
inline constexpr std::uint64_t fnv1a64_prime = 0x100000001b3ULL;

// Pass a previous result as `hash` to continue over more bytes (the checksum of a blob sent in
// pieces is the same as of the whole).
[[nodiscard]] inline std::uint64_t fnv1a64(std::span<const std::byte> bytes,
                                           std::uint64_t hash = fnv1a64_offset_basis) noexcept {
  for (const std::byte b : bytes) {
    hash ^= std::to_integer<std::uint64_t>(b);
    hash *= fnv1a64_prime;  // unsigned arithmetic wraps modulo 2^64
  }
  return hash;
}

}  // namespace blob
