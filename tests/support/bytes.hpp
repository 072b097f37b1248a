#pragma once
// Byte helpers shared by the unit tests.

#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace wireframe::test {

using Bytes = std::vector<std::byte>;

// "de ad be ef": how the tests compare wire layouts with the docs.
inline std::string hex(std::span<const std::byte> bytes) {
  std::string out;
  for (std::byte b : bytes) {
    char cell[4];
    std::snprintf(cell, sizeof cell, "%02x", std::to_integer<unsigned>(b));
    if (!out.empty()) out += ' ';
    out += cell;
  }
  return out;
}

}  // namespace wireframe::test
