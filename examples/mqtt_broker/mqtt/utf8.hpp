#pragma once
// UTF-8 validation for MQTT's strings (1.5.3).

#include <string_view>

namespace mqtt {

// True when s is well-formed UTF-8 (no overlong forms, no surrogates U+D800..U+DFFF, nothing
// above U+10FFFF: 1.5.3-1) and contains no U+0000 (1.5.3-2). Control characters and
// non-characters are accepted: the standard only says SHOULD NOT (1.5.3).
bool valid_utf8(std::string_view s) noexcept;

}  // namespace mqtt
