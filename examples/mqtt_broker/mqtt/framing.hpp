#pragma once
// Framing: cutting MQTT control packets out of a byte stream (2.2). Every packet starts with a
// fixed header: one byte of type and flags, then the remaining length as a varint of 1..4
// bytes. decode_frame() looks at the front of the input and says whether a whole packet is
// there; it never copies or allocates, and it refuses a packet that is too large as soon as
// the length is known, before its body has arrived.

#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "mqtt/error.hpp"
#include "mqtt/types.hpp"

namespace mqtt {

struct Frame {
  PacketType type = PacketType::connect;
  std::uint8_t flags = 0;            // the fixed header's low four bits
  std::span<const std::byte> body;   // variable header + payload: a view into the input
  std::size_t size = 0;              // fixed header + body: how much input this packet takes
};

// Not enough input yet. frame_size is the whole packet's size once the fixed header is
// complete (so the caller can size its buffer), else 0.
struct NeedMore {
  std::size_t frame_size = 0;
  bool operator==(const NeedMore&) const = default;
};

// The error's code is ErrorCode::too_large for a packet above max_packet, else malformed.
using FrameResult = std::variant<NeedMore, Frame, Error>;

// max_packet bounds the whole packet (fixed header included), in bytes.
FrameResult decode_frame(std::span<const std::byte> in, std::size_t max_packet) noexcept;

// True when flags are what 2.2.2 (Table 2.2) requires for type: 0b0010 for PUBREL, SUBSCRIBE
// and UNSUBSCRIBE, 0 for the others; PUBLISH's flags are its own (checked by its parser).
bool valid_fixed_header_flags(PacketType type, std::uint8_t flags) noexcept;

// How many bytes the varint for n takes (1..4). Precondition: n <= max_remaining_length.
std::size_t remaining_length_size(std::size_t n) noexcept;

// Appends the varint for n (2.2.3). Throws std::length_error above max_remaining_length: an
// encoder asked to build a packet the protocol cannot express is a bug in the caller.
void encode_remaining_length(std::size_t n, std::vector<std::byte>& out);

// Appends the fixed header: type and flags, then the remaining length.
void encode_fixed_header(PacketType type, std::uint8_t flags, std::size_t remaining_length,
                         std::vector<std::byte>& out);

}  // namespace mqtt
