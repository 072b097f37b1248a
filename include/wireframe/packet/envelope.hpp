#pragma once
// Envelope: the default Packet. Layout inside a frame (docs/wire-format.md):
//   offset 0  u32 message id, big-endian
//   offset 4  u64 correlation id, big-endian (0 = none)
//   offset 12 payload bytes (the rest of the frame)

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "wireframe/error/errc.hpp"
#include "wireframe/detail/byte_order.hpp"
#include "wireframe/packet/message.hpp"

namespace wireframe {

class Envelope {
 public:
  static constexpr std::size_t header_size = 12;

  Envelope() = default;
  Envelope(std::uint32_t id, std::uint64_t correlation_id, std::vector<std::byte> payload = {})
      : id_(id), correlation_id_(correlation_id), payload_(std::move(payload)) {}
  Envelope(std::uint32_t id, std::uint64_t correlation_id, std::span<const std::byte> payload)
      : id_(id), correlation_id_(correlation_id), payload_(payload.begin(), payload.end()) {}
  Envelope(std::uint32_t id, std::uint64_t correlation_id, std::string_view payload)
      : Envelope(id, correlation_id, std::as_bytes(std::span(payload.data(), payload.size()))) {}

  // An envelope carrying a typed message (message.hpp).
  template <Message T>
  static Envelope of(std::uint32_t id, const T& message, std::uint64_t correlation_id = 0) {
    Envelope e(id, correlation_id);
    encode_message(message, e.payload_);
    return e;
  }

  [[nodiscard]] std::uint32_t id() const noexcept { return id_; }
  void set_id(std::uint32_t id) noexcept { id_ = id; }
  [[nodiscard]] std::uint64_t correlation_id() const noexcept { return correlation_id_; }
  void set_correlation_id(std::uint64_t c) noexcept { correlation_id_ = c; }

  [[nodiscard]] std::span<const std::byte> payload() const noexcept { return payload_; }
  [[nodiscard]] std::vector<std::byte>& payload_mut() noexcept { return payload_; }
  // Lets the connection keep finished envelopes whose storage is worth reusing.
  [[nodiscard]] std::size_t payload_capacity() const noexcept { return payload_.capacity(); }
  [[nodiscard]] std::string_view payload_text() const noexcept {
    return {reinterpret_cast<const char*>(payload_.data()), payload_.size()};
  }

  // Decodes the payload as a typed message.
  template <Message T>
  [[nodiscard]] std::error_code decode_as(T& out) const {
    return decode_message(std::span<const std::byte>(payload_), out);
  }

  [[nodiscard]] std::size_t encoded_size() const noexcept { return header_size + payload_.size(); }

  void encode_to(std::span<std::byte> out) const noexcept {
    encode_header_to(out);
    if (!payload_.empty()) std::memcpy(out.data() + header_size, payload_.data(), payload_.size());
  }

  // The header alone (SplitEncodablePacket): the payload follows it unchanged on the wire.
  [[nodiscard]] static constexpr std::size_t encoded_header_size() noexcept { return header_size; }
  void encode_header_to(std::span<std::byte> out) const noexcept {
    detail::store_be<std::uint32_t>(out.data(), id_);
    detail::store_be<std::uint64_t>(out.data() + 4, correlation_id_);
  }

  // Reuses the payload's capacity: no allocation once the buffer has grown to the traffic's size.
  std::error_code decode_from(std::span<const std::byte> in) {
    if (in.size() < header_size) return errc::malformed_frame;
    id_ = detail::load_be<std::uint32_t>(in.data());
    correlation_id_ = detail::load_be<std::uint64_t>(in.data() + 4);
    payload_.assign(in.begin() + header_size, in.end());
    return {};
  }

  friend bool operator==(const Envelope&, const Envelope&) = default;

 private:
  std::uint32_t id_ = 0;
  std::uint64_t correlation_id_ = 0;
  std::vector<std::byte> payload_;
};

}  // namespace wireframe
