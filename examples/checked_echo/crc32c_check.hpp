#pragma once
// Crc32cCheck: a frame processor (wireframe/processor/frame_processor.hpp) that guards every wire
// frame with a CRC-32C (Castagnoli) of its body, as iSCSI, SCTP and ext4 do. Outbound it appends
// the checksum, big-endian, after the body; inbound it checks and strips it, and a frame whose
// checksum is wrong ends the connection with errc::corrupt_frame. Both ends add it: the server
// with `.with_processor(Crc32cCheck{})`, the client as WireframeClient<C, P, Crc32cCheck>.
//
// The checksum is Boost.CRC's (header-only, from Debian's libboost-dev): a table-driven CRC of any
// polynomial, well tested, rather than one more hand-written table here.

#include <boost/crc.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

#include <wireframe/error/errc.hpp>
#include <wireframe/processor/frame_processor.hpp>

namespace example {

// CRC-32C: polynomial 0x1EDC6F41, reflected, initial value and final XOR all ones.
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

[[nodiscard]] inline std::uint32_t crc32c(std::span<const std::byte> bytes) noexcept {
  Crc32c crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

struct Crc32cCheck {
  static constexpr std::size_t checksum_size = 4;

  wireframe::InboundFrame inbound(std::span<const std::byte> frame,
                                  const wireframe::FrameContext&) const {
    if (frame.size() < checksum_size)
      return wireframe::InboundFrame::fail(make_error_code(wireframe::errc::corrupt_frame));
    const auto body = frame.first(frame.size() - checksum_size);
    if (crc32c(body) != load_be32(frame.last(checksum_size))) {
      return wireframe::InboundFrame::fail(make_error_code(wireframe::errc::corrupt_frame));
    }
    return wireframe::InboundFrame::pass(body);
  }

  [[nodiscard]] wireframe::FrameOverhead overhead() const noexcept { return {0, checksum_size}; }

  void outbound(std::span<std::byte> frame) const noexcept {
    const auto body = frame.first(frame.size() - checksum_size);
    store_be32(crc32c(body), frame.last(checksum_size));
  }

 private:
  static std::uint32_t load_be32(std::span<const std::byte> b) noexcept {
    return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 |
           std::uint32_t(b[3]);
  }
  static void store_be32(std::uint32_t v, std::span<std::byte> b) noexcept {
    for (std::size_t i = 0; i < 4; ++i) b[i] = std::byte(v >> (24 - 8 * i));
  }
};

}  // namespace example
