#include "mqtt/utf8.hpp"

#include <cstddef>
#include <cstdint>

namespace mqtt {

namespace {

struct Lead {
  std::size_t length = 0;  // 0 = not a valid lead byte
  std::uint32_t bits = 0;  // the code point bits the lead byte carries
  std::uint32_t min = 0;   // the smallest code point this length may encode (else overlong)
};

Lead decode_lead(std::uint8_t c) noexcept {
  if ((c & 0xE0) == 0xC0) return {2, c & 0x1Fu, 0x80};
  if ((c & 0xF0) == 0xE0) return {3, c & 0x0Fu, 0x800};
  if ((c & 0xF8) == 0xF0) return {4, c & 0x07u, 0x10000};
  return {};  // a continuation byte or 0xF8..0xFF
}

bool valid_code_point(std::uint32_t cp, std::uint32_t min) noexcept {
  if (cp < min) return false;  // overlong
  if (cp > 0x10FFFF) return false;
  return cp < 0xD800 || cp > 0xDFFF;  // surrogates are not characters (1.5.3-1)
}

}  // namespace

bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    if (c == 0) return false;  // 1.5.3-2
    if (c < 0x80) {
      ++i;
      continue;
    }
    const Lead lead = decode_lead(c);
    if (lead.length == 0 || s.size() - i < lead.length) return false;
    std::uint32_t cp = lead.bits;
    for (std::size_t k = 1; k < lead.length; ++k) {
      const auto b = static_cast<std::uint8_t>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (!valid_code_point(cp, lead.min)) return false;
    i += lead.length;
  }
  return true;
}

}  // namespace mqtt
