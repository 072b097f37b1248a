#include "mqtt/framing.hpp"

#include <stdexcept>
#include <string>

namespace mqtt {

namespace {

constexpr std::size_t max_varint_bytes = 4;  // 2.2.3

bool valid_type(std::uint8_t type) noexcept { return type >= 1 && type <= 14; }

struct Varint {
  bool complete = false;  // false: the input ends before the varint does
  bool malformed = false;
  std::size_t value = 0;
  std::size_t bytes = 0;
};

// Reads the remaining length that starts at in[1]. A fourth byte with the continuation bit
// set would announce a fifth byte, which 2.2.3 does not allow: malformed at once.
Varint read_varint(std::span<const std::byte> in) noexcept {
  Varint v;
  std::size_t multiplier = 1;
  for (std::size_t i = 0; i < max_varint_bytes; ++i) {
    if (1 + i >= in.size()) return v;
    const auto b = static_cast<std::uint8_t>(in[1 + i]);
    v.value += (b & 0x7Fu) * multiplier;
    if ((b & 0x80) == 0) {
      v.complete = true;
      v.bytes = i + 1;
      return v;
    }
    multiplier *= 128;
  }
  v.malformed = true;
  return v;
}

}  // namespace

bool valid_fixed_header_flags(PacketType type, std::uint8_t flags) noexcept {
  switch (type) {
    case PacketType::publish:
      return true;
    case PacketType::pubrel:
    case PacketType::subscribe:
    case PacketType::unsubscribe:
      return flags == 0x02;
    default:
      return flags == 0;
  }
}

FrameResult decode_frame(std::span<const std::byte> in, std::size_t max_packet) noexcept {
  if (in.empty()) return NeedMore{};
  const auto first = static_cast<std::uint8_t>(in[0]);
  const auto type_bits = static_cast<std::uint8_t>(first >> 4);
  const auto flags = static_cast<std::uint8_t>(first & 0x0F);
  if (!valid_type(type_bits)) {
    return malformed("reserved packet type " + std::to_string(type_bits) + " (2.2.1)");
  }
  const auto type = static_cast<PacketType>(type_bits);
  if (!valid_fixed_header_flags(type, flags)) {
    return malformed("invalid fixed header flags for packet type " + std::to_string(type_bits) +
                     " (2.2.2)");
  }
  const Varint length = read_varint(in);
  if (length.malformed) return malformed("remaining length longer than 4 bytes (2.2.3)");
  if (!length.complete) return NeedMore{};
  const std::size_t total = 1 + length.bytes + length.value;
  if (total > max_packet) {
    return Error{ErrorCode::too_large, "packet of " + std::to_string(total) +
                                           " bytes exceeds the limit of " +
                                           std::to_string(max_packet)};
  }
  if (in.size() < total) return NeedMore{total};
  return Frame{type, flags, in.subspan(1 + length.bytes, length.value), total};
}

std::size_t remaining_length_size(std::size_t n) noexcept {
  if (n < 128) return 1;
  if (n < 16'384) return 2;
  if (n < 2'097'152) return 3;
  return 4;
}

void encode_remaining_length(std::size_t n, std::vector<std::byte>& out) {
  if (n > max_remaining_length) {
    throw std::length_error("mqtt: remaining length above 268435455 (2.2.3)");
  }
  do {
    auto b = static_cast<std::uint8_t>(n % 128);
    n /= 128;
    if (n > 0) b |= 0x80;
    out.push_back(static_cast<std::byte>(b));
  } while (n > 0);
}

void encode_fixed_header(PacketType type, std::uint8_t flags, std::size_t remaining_length,
                         std::vector<std::byte>& out) {
  if (remaining_length > max_remaining_length) {
    throw std::length_error("mqtt: remaining length above 268435455 (2.2.3)");
  }
  out.push_back(static_cast<std::byte>((static_cast<std::uint8_t>(type) << 4) | (flags & 0x0F)));
  encode_remaining_length(remaining_length, out);
}

}  // namespace mqtt
