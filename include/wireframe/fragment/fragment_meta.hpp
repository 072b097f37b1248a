#pragma once
// FragmentMeta: what one fragment header says, independent of how a strategy lays it out.
//
// A fragment is one codec frame body = a fragment header followed by `payload_length` payload
// bytes (a slice of one logical message's encoded bytes). Fields a strategy does not carry are
// left empty: LenFlag32K has neither message id nor sequence number (one message at a time,
// order implicit), Multiplexed has both.

#include <cstddef>
#include <cstdint>
#include <optional>

namespace wireframe {

struct FragmentMeta {
  // Payload bytes that follow the header in this fragment's frame.
  std::size_t payload_length = 0;
  // Length of the whole logical message, when the sender declares it (first fragment only).
  // Lets the receiver reserve exactly once and reject an oversized message before buffering.
  std::optional<std::uint64_t> total_length{};
  // Last fragment of its message. An unsplit message is a single fragment with is_final set.
  bool is_final = false;
  // Which message the fragment belongs to, for strategies that interleave messages.
  std::optional<std::uint64_t> message_id{};
  // 0-based position of the fragment within its message, for strategies that number fragments.
  std::optional<std::uint32_t> sequence{};

  friend bool operator==(const FragmentMeta&, const FragmentMeta&) = default;
};

}  // namespace wireframe
