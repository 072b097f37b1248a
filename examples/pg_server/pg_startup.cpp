#include "pg_startup.hpp"

namespace pg {

namespace {

using Result = wireframe::PreambleResult<StartupPacket>;

std::uint32_t read_u32(std::span<const std::byte> b, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(b[at + i]);
  return v;
}

// key\0value\0 ... \0: the parameters of a StartupMessage. False if malformed.
bool read_parameters(std::string_view body, StartupPacket& out) {
  while (!body.empty() && body.front() != '\0') {
    const std::size_t key_end = body.find('\0');
    if (key_end == std::string_view::npos) return false;
    const std::size_t value_end = body.find('\0', key_end + 1);
    if (value_end == std::string_view::npos) return false;
    out.parameters.emplace_back(body.substr(0, key_end), body.substr(key_end + 1, value_end - key_end - 1));
    body.remove_prefix(value_end + 1);
  }
  return body.size() == 1;  // the final NUL, and nothing after it
}

}  // namespace

std::string_view StartupPacket::parameter(std::string_view name) const {
  for (const auto& [key, value] : parameters) {
    if (key == name) return value;
  }
  return {};
}

Result StartupDecoder::decode(std::span<const std::byte> bytes) const {
  if (bytes.size() < 8) return Result::need_more();
  const std::uint32_t len = read_u32(bytes, 0);
  if (len < 8 || len > max_startup_packet) return Result::invalid("invalid length of startup packet");
  if (bytes.size() < len) return Result::need_more();
  StartupPacket p;
  const std::uint32_t code = read_u32(bytes, 4);
  if (code == ssl_request_code || code == gssenc_request_code) {
    if (len != 8) return Result::invalid("invalid length of startup packet");
    p.kind = code == ssl_request_code ? StartupPacket::Kind::ssl_request : StartupPacket::Kind::gssenc_request;
  } else if (code == cancel_request_code) {
    if (len != 16) return Result::invalid("invalid length of cancel request packet");
    p.kind = StartupPacket::Kind::cancel_request;
    p.cancel_pid = static_cast<std::int32_t>(read_u32(bytes, 8));
    p.cancel_secret = static_cast<std::int32_t>(read_u32(bytes, 12));
  } else {
    // Any other code is a protocol version; the hook refuses versions other than 3.x with
    // PostgreSQL's message, so the parameters are read only for those.
    p.version = code;
    const std::string_view body(reinterpret_cast<const char*>(bytes.data()) + 8, len - 8);
    if ((code >> 16) == 3 && !read_parameters(body, p)) return Result::invalid("invalid startup packet layout");
  }
  return Result::done(std::move(p), len);
}

}  // namespace pg
