#pragma once
// LenFlag32K: the smallest fragment header, for protocols with small frames and one message in
// flight per direction at a time.
//
//   byte 0          byte 1
//   +-+-------------+---------------+
//   |F| payload length (15 bits, BE)|   then `payload length` payload bytes
//   +-+-------------+---------------+
//
//   F (bit 7 of byte 0) = 1 on the last fragment of a message.
//   payload length = 0 .. 32767 (2^15 - 1, i.e. 32 KiB - 1 exactly), and it must equal the rest
//   of the frame: 2 + payload length == frame body length.
//
// No message id and no sequence number: fragments of one message follow each other, and a
// message must be finished before the next one starts (per direction). The Reassembler therefore
// keeps at most one message in reassembly for this strategy.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>

#include "wireframe/fragment/big_endian.hpp"
#include "wireframe/fragment/fragment_error.hpp"
#include "wireframe/fragment/fragment_meta.hpp"
#include "wireframe/fragment/fragment_strategy.hpp"

namespace wireframe {

class LenFlag32K {
 public:
  static constexpr std::size_t header_length = 2;
  // The largest length 15 bits hold: 32767 = 32 KiB - 1.
  static constexpr std::size_t max_payload_limit = 0x7fff;
  static constexpr std::uint8_t final_bit = 0x80;

  // Payload cap of 32767 bytes per fragment (a fragment frame body is then at most 32769 bytes).
  LenFlag32K() noexcept = default;

  // A lower payload cap, e.g. so that header + payload fits a codec limit of 32 KiB (32766).
  // Throws std::invalid_argument for 0 or for more than 32767: a configuration mistake.
  explicit LenFlag32K(std::size_t max_fragment_payload) : max_payload_(checked(max_fragment_payload)) {}

  [[nodiscard]] FragmentHeaderDecode decode_header(std::span<const std::byte> frame) const noexcept {
    if (frame.size() < header_length) return FragmentHeaderDecode::need_more();
    const auto word = detail::fragment_load_be(frame.data(), 2);
    FragmentMeta meta;
    meta.is_final = (word & 0x8000U) != 0;
    meta.payload_length = static_cast<std::size_t>(word & 0x7fffU);
    if (meta.payload_length != frame.size() - header_length) {
      return FragmentHeaderDecode::failed(fragment_errc::bad_header);
    }
    return FragmentHeaderDecode::ok(meta, header_length);
  }

  [[nodiscard]] static constexpr std::size_t max_header_size() noexcept { return header_length; }

  template <class Frame>
  [[nodiscard]] std::size_t header_size(const FragmentMeta&, const Frame&) const noexcept {
    return header_length;
  }

  // Precondition: meta.payload_length <= 32767 (the Fragmenter never exceeds
  // max_fragment_payload()). Message id, sequence number and total length are not carried.
  template <class Frame>
  std::size_t encode_header(const FragmentMeta& meta, const Frame&, std::span<std::byte> out) const noexcept {
    const auto len = static_cast<std::uint64_t>(std::min(meta.payload_length, max_payload_limit));
    detail::fragment_store_be(out.data(), len | (meta.is_final ? 0x8000U : 0U), 2);
    return header_length;
  }

  template <class Frame>
  [[nodiscard]] std::size_t max_fragment_payload(const Frame&) const noexcept { return max_payload_; }
  [[nodiscard]] std::size_t max_fragment_payload() const noexcept { return max_payload_; }

 private:
  static std::size_t checked(std::size_t n) {
    if (n == 0 || n > max_payload_limit) {
      throw std::invalid_argument("LenFlag32K: max_fragment_payload must be 1..32767");
    }
    return n;
  }

  std::size_t max_payload_ = max_payload_limit;
};

}  // namespace wireframe
