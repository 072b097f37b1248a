#include "mqtt/byte_reader.hpp"

#include "mqtt/utf8.hpp"

namespace mqtt {

namespace {
Error truncated(std::string_view what) {
  return malformed("packet ends inside the " + std::string(what));
}
}  // namespace

Result<std::uint8_t> ByteReader::u8(std::string_view what) {
  if (remaining() < 1) return truncated(what);
  return static_cast<std::uint8_t>(in_[pos_++]);
}

Result<std::uint16_t> ByteReader::u16(std::string_view what) {
  if (remaining() < 2) return truncated(what);
  const auto hi = static_cast<std::uint16_t>(in_[pos_]);
  const auto lo = static_cast<std::uint16_t>(in_[pos_ + 1]);
  pos_ += 2;
  return static_cast<std::uint16_t>((hi << 8) | lo);
}

Result<std::span<const std::byte>> ByteReader::bytes(std::size_t n, std::string_view what) {
  if (remaining() < n) return truncated(what);
  auto out = in_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Result<std::span<const std::byte>> ByteReader::binary(std::string_view what) {
  auto length = u16(what);
  if (!length) return length.error();
  return bytes(*length, what);
}

Result<std::string> ByteReader::string(std::string_view what) {
  auto raw = binary(what);
  if (!raw) return raw.error();
  std::string s(reinterpret_cast<const char*>(raw->data()), raw->size());
  if (!valid_utf8(s)) return malformed("the " + std::string(what) + " is not valid UTF-8 (1.5.3)");
  return s;
}

std::span<const std::byte> ByteReader::rest() noexcept {
  auto out = in_.subspan(pos_);
  pos_ = in_.size();
  return out;
}

}  // namespace mqtt
