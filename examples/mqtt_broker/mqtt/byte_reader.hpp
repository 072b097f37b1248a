#pragma once
// ByteReader: a bounds-checked cursor over a packet's body, for the parsers. Every read checks
// what is left first, so a short or lying packet gives an Error, never a read past the end.
// Internal to the protocol layer.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "mqtt/error.hpp"

namespace mqtt {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> in) noexcept : in_(in) {}

  bool empty() const noexcept { return pos_ == in_.size(); }
  std::size_t remaining() const noexcept { return in_.size() - pos_; }

  Result<std::uint8_t> u8(std::string_view what);
  Result<std::uint16_t> u16(std::string_view what);  // big-endian (1.5.2)
  Result<std::span<const std::byte>> bytes(std::size_t n, std::string_view what);

  // A 16-bit length then that many bytes (1.5.3; binary fields such as the password, 3.1.3.5).
  Result<std::span<const std::byte>> binary(std::string_view what);
  // The same, checked as UTF-8 without U+0000 (1.5.3).
  Result<std::string> string(std::string_view what);

  std::span<const std::byte> rest() noexcept;  // everything left; the reader is then empty

 private:
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
};

}  // namespace mqtt
