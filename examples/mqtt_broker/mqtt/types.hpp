#pragma once
// The small vocabulary every other file uses: packet types, QoS, and the standard's size limits.

#include <cstddef>
#include <cstdint>

namespace mqtt {

// 2.2.1, Table 2.1. 0 and 15 are reserved and never valid.
enum class PacketType : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
};

// 4.3. The value 3 is never valid on the wire.
enum class QoS : std::uint8_t {
  at_most_once = 0,
  at_least_once = 1,
  exactly_once = 2,
};

inline constexpr std::size_t max_remaining_length = 268'435'455;  // 2.2.3: four varint bytes
inline constexpr std::size_t max_string_length = 65'535;          // 1.5.3: 16-bit length prefix

}  // namespace mqtt
