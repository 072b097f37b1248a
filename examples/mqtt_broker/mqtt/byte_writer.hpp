#pragma once
// Appending MQTT's field encodings (1.5) to a byte vector, for the encoders. Internal to the
// protocol layer.

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "mqtt/types.hpp"

namespace mqtt::detail {

inline void put_u8(std::vector<std::byte>& out, std::uint8_t v) {
  out.push_back(static_cast<std::byte>(v));
}

inline void put_u16(std::vector<std::byte>& out, std::uint16_t v) {  // big-endian (1.5.2)
  put_u8(out, static_cast<std::uint8_t>(v >> 8));
  put_u8(out, static_cast<std::uint8_t>(v & 0xFF));
}

// A 16-bit length then the bytes (1.5.3). Throws std::length_error above 65535 bytes: the
// field cannot express it, and the parsers never produce such a value.
inline void put_binary(std::vector<std::byte>& out, std::span<const std::byte> data) {
  if (data.size() > max_string_length) {
    throw std::length_error("mqtt: string or binary field above 65535 bytes (1.5.3)");
  }
  put_u16(out, static_cast<std::uint16_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
}

inline void put_string(std::vector<std::byte>& out, std::string_view s) {
  put_binary(out, std::as_bytes(std::span(s.data(), s.size())));
}

inline std::size_t string_size(std::string_view s) { return 2 + s.size(); }

}  // namespace mqtt::detail
