#pragma once
// Multiplexed: a fragment header with a message id and a sequence number, so fragments of
// several messages may interleave on one connection (e.g. a small push between two fragments of
// a large response). All integers big-endian.
//
//   offset size field
//   0      1    flags: bit 0 = final fragment, bit 1 = total length present, bits 2..7 = 0
//   1      4    message id (u32)
//   5      4    sequence number (u32, 0-based within the message)
//   9      4    payload length (u32); must equal the rest of the frame exactly
//   13     8    total message length (u64), only when flag bit 1 is set; only on sequence 0
//   13/21  ...  payload
//
// The header is 13 bytes, 21 on the first fragment of a message split in several fragments
// (the total lets the receiver reserve exactly once and refuse an oversized message on its first
// fragment). A message sent as a single fragment carries no total: its length is the payload's.
// Decoding rejects (fragment_errc::bad_header) reserved flag bits, a total length on a sequence
// number other than 0, and a payload length that is not exactly the rest of the frame.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>

#include "wireframe/fragment/big_endian.hpp"
#include "wireframe/fragment/fragment_error.hpp"
#include "wireframe/fragment/fragment_meta.hpp"
#include "wireframe/fragment/fragment_strategy.hpp"

namespace wireframe {

class Multiplexed {
 public:
  static constexpr std::size_t base_header_length = 13;
  static constexpr std::size_t total_field_length = 8;
  static constexpr std::uint8_t flag_final = 0x01;
  static constexpr std::uint8_t flag_total = 0x02;
  static constexpr std::uint8_t reserved_flags = static_cast<std::uint8_t>(~(flag_final | flag_total));
  // Default payload cap: a fragment (21-byte header included) fits a 32 KiB frame body.
  static constexpr std::size_t default_max_fragment_payload = 32 * 1024 - 21;

  // Fragments of different messages may interleave (fragment_interleaving_v).
  static constexpr bool interleaves = true;

  Multiplexed() noexcept = default;

  // Throws std::invalid_argument for 0 or for more than 2^32 - 1 (the payload length field).
  explicit Multiplexed(std::size_t max_fragment_payload) : max_payload_(checked(max_fragment_payload)) {}

  [[nodiscard]] FragmentHeaderDecode decode_header(std::span<const std::byte> frame) const noexcept {
    if (frame.size() < base_header_length) return FragmentHeaderDecode::need_more();
    const auto flags = std::to_integer<std::uint8_t>(frame[0]);
    if ((flags & reserved_flags) != 0) return FragmentHeaderDecode::failed(fragment_errc::bad_header);
    FragmentMeta meta;
    meta.is_final = (flags & flag_final) != 0;
    meta.message_id = detail::fragment_load_be(frame.data() + 1, 4);
    meta.sequence = static_cast<std::uint32_t>(detail::fragment_load_be(frame.data() + 5, 4));
    const auto payload_length = detail::fragment_load_be(frame.data() + 9, 4);
    std::size_t header = base_header_length;
    if ((flags & flag_total) != 0) {
      if (*meta.sequence != 0) return FragmentHeaderDecode::failed(fragment_errc::bad_header);
      if (frame.size() < base_header_length + total_field_length) return FragmentHeaderDecode::need_more();
      meta.total_length = detail::fragment_load_be(frame.data() + base_header_length, 8);
      header += total_field_length;
    }
    if (payload_length != frame.size() - header) {
      return FragmentHeaderDecode::failed(fragment_errc::bad_header);
    }
    meta.payload_length = static_cast<std::size_t>(payload_length);
    return FragmentHeaderDecode::ok(meta, header);
  }

  [[nodiscard]] static constexpr std::size_t max_header_size() noexcept {
    return base_header_length + total_field_length;
  }

  // The total is written only on sequence 0 of a message that is not a single fragment.
  [[nodiscard]] static bool carries_total(const FragmentMeta& meta) noexcept {
    return meta.total_length.has_value() && meta.sequence.value_or(0) == 0 && !meta.is_final;
  }

  template <class Frame>
  [[nodiscard]] std::size_t header_size(const FragmentMeta& meta, const Frame&) const noexcept {
    return carries_total(meta) ? base_header_length + total_field_length : base_header_length;
  }

  // The message id is carried as a u32: the low 32 bits of meta.message_id (the connection
  // allocates ids from a 32-bit counter). Precondition: payload_length <= 2^32 - 1.
  template <class Frame>
  std::size_t encode_header(const FragmentMeta& meta, const Frame&, std::span<std::byte> out) const noexcept {
    const bool total = carries_total(meta);
    const auto flags = static_cast<std::uint8_t>((meta.is_final ? flag_final : 0) | (total ? flag_total : 0));
    out[0] = static_cast<std::byte>(flags);
    detail::fragment_store_be(out.data() + 1, meta.message_id.value_or(0) & 0xffffffffU, 4);
    detail::fragment_store_be(out.data() + 5, meta.sequence.value_or(0), 4);
    detail::fragment_store_be(out.data() + 9, static_cast<std::uint64_t>(meta.payload_length) & 0xffffffffU, 4);
    if (!total) return base_header_length;
    detail::fragment_store_be(out.data() + base_header_length, *meta.total_length, 8);
    return base_header_length + total_field_length;
  }

  template <class Frame>
  [[nodiscard]] std::size_t max_fragment_payload(const Frame&) const noexcept { return max_payload_; }
  [[nodiscard]] std::size_t max_fragment_payload() const noexcept { return max_payload_; }

 private:
  static std::size_t checked(std::size_t n) {
    if (n == 0 || n > std::numeric_limits<std::uint32_t>::max()) {
      throw std::invalid_argument("Multiplexed: max_fragment_payload must be 1..2^32-1");
    }
    return n;
  }

  std::size_t max_payload_ = default_max_fragment_payload;
};

}  // namespace wireframe
