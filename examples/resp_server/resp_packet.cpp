#include "resp_packet.hpp"

#include <wireframe/packet/packet.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <string>

namespace resp {

static_assert(wireframe::Packet<RespPacket>);

// --- errors ------------------------------------------------------------------------------------

namespace {

class Category final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "resp"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::incomplete: return "Protocol error: incomplete request";
      case Errc::invalid_multibulk_length: return "Protocol error: invalid multibulk length";
      case Errc::too_many_elements: return "Protocol error: too many elements in multibulk request";
      case Errc::expected_dollar: return "Protocol error: expected '$'";
      case Errc::invalid_bulk_length: return "Protocol error: invalid bulk length";
      case Errc::bulk_too_large: return "Protocol error: bulk string above the maximum length";
      case Errc::missing_crlf: return "Protocol error: bulk string not followed by CRLF";
      case Errc::inline_too_long: return "Protocol error: too big inline request";
      case Errc::request_too_large: return "Protocol error: request above the maximum length";
      case Errc::unbalanced_quotes: return "Protocol error: unbalanced quotes in request";
      case Errc::trailing_bytes: return "Protocol error: bytes after the request";
    }
    return "resp: unknown error";
  }
};

// decode_from() trusts no codec: structure is checked in full, sizes only against SIZE_MAX.
constexpr Limits unlimited{std::numeric_limits<std::size_t>::max() / 4,
                           std::numeric_limits<std::size_t>::max() / 4,
                           std::numeric_limits<std::size_t>::max() / 4,
                           std::numeric_limits<std::size_t>::max() / 4};

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char to_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }
constexpr char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

std::size_t decimal_digits(std::size_t v) noexcept {
  std::size_t d = 1;
  while (v >= 10) {
    v /= 10;
    ++d;
  }
  return d;
}

// Up to 4 characters, uppercased, packed into an integer: known command names compare in one step.
constexpr std::uint32_t pack_name(std::string_view name) noexcept {
  std::uint32_t key = 0;
  for (char c : name) key = key << 8 | static_cast<unsigned char>(to_upper(c));
  return key;
}

// The id of a command name (any case).
std::uint32_t command_id(std::string_view name) noexcept {
  if (name.size() == 3) {
    switch (pack_name(name)) {
      case pack_name("GET"): return cmd_get;
      case pack_name("SET"): return cmd_set;
      case pack_name("DEL"): return cmd_del;
      default: break;
    }
  } else if (name.size() == 4) {
    switch (pack_name(name)) {
      case pack_name("PING"): return cmd_ping;
      case pack_name("ECHO"): return cmd_echo;
      case pack_name("QUIT"): return cmd_quit;
      default: break;
    }
  }
  return unknown_command;
}

}  // namespace

const std::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

// --- decoding ----------------------------------------------------------------------------------

// The scanner's sink for a packet: arguments are appended to `bytes` (reserved up front).
struct ArgCollector {
  RespPacket::Body& b;
  std::size_t input_size;

  void begin(std::size_t count) {
    // A bulk string takes at least 4 bytes ("$0\r\n" ... "\r\n"): never trust `count` further.
    b.args.reserve(std::min(count, input_size / 4 + 1));
  }
  void arg(const char* data, std::size_t len) {
    const std::size_t offset = b.bytes.size();
    b.bytes.insert(b.bytes.end(), data, data + len);
    b.args.push_back({offset, len});
  }
};

void RespPacket::reset_request() {
  id_ = unknown_command;
  correlation_id_ = 0;
  kind_ = Kind::request;
  Body& b = body();
  b.bytes.clear();
  b.args.clear();
  b.reply.clear();
  b.sent_name_offset = b.sent_name_length = 0;
}

std::error_code RespPacket::decode_from(std::span<const std::byte> in) {
  reset_request();
  const auto* p = reinterpret_cast<const char*>(in.data());
  const std::size_t n = in.size();
  if (n == 0) return Errc::incomplete;
  Body& b = *body_;
  // Arguments never take more than the request, plus the name as sent: one reservation, which
  // a recycled packet already has.
  b.bytes.reserve(n + max_quoted_name);
  if (p[0] == '*') {
    ArgCollector sink{b, n};
    const ScanResult r = scan_multibulk(p, n, unlimited, sink);
    if (r.status == ScanStatus::error) return r.error;
    if (r.status == ScanStatus::need_more) return Errc::incomplete;
    if (r.size != n) return Errc::trailing_bytes;
  } else {
    if (p[n - 1] != '\n') return Errc::incomplete;
    if (std::memchr(p, '\n', n - 1) != nullptr) return Errc::trailing_bytes;
    std::size_t len = n - 1;
    if (len > 0 && p[len - 1] == '\r') --len;
    if (auto ec = split_inline(p, len)) return ec;
  }
  finish_request();
  return {};
}

// Splits an inline command into words the way Redis does (sdssplitargs): words are separated by
// whitespace; "double quotes" allow \n \r \t \b \a \" \\ and \xHH escapes, 'single quotes' allow
// \'; a closing quote must be followed by whitespace or the end of the line.
std::error_code RespPacket::split_inline(const char* line, std::size_t n) {
  std::vector<char>& out = body_->bytes;
  std::size_t i = 0;
  for (;;) {
    while (i < n && is_space(line[i])) ++i;
    if (i == n) return {};
    const std::size_t start = out.size();
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      const bool at_end = i == n;
      const char c = at_end ? '\0' : line[i];
      const char next = i + 1 < n ? line[i + 1] : '\0';
      const bool has_next = i + 1 < n;
      if (in_double) {
        if (at_end) return Errc::unbalanced_quotes;
        if (c == '\\' && next == 'x' && i + 3 < n && hex_value(line[i + 2]) >= 0 &&
            hex_value(line[i + 3]) >= 0) {
          out.push_back(static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3])));
          i += 3;
        } else if (c == '\\' && has_next) {
          ++i;
          switch (next) {
            case 'n': out.push_back('\n'); break;
            case 'r': out.push_back('\r'); break;
            case 't': out.push_back('\t'); break;
            case 'b': out.push_back('\b'); break;
            case 'a': out.push_back('\a'); break;
            default: out.push_back(next); break;
          }
        } else if (c == '"') {
          if (has_next && !is_space(next)) return Errc::unbalanced_quotes;
          done = true;
        } else {
          out.push_back(c);
        }
      } else if (in_single) {
        if (at_end) return Errc::unbalanced_quotes;
        if (c == '\\' && next == '\'') {
          ++i;
          out.push_back('\'');
        } else if (c == '\'') {
          if (has_next && !is_space(next)) return Errc::unbalanced_quotes;
          done = true;
        } else {
          out.push_back(c);
        }
      } else if (at_end || is_space(c)) {
        done = true;
      } else if (c == '"') {
        in_double = true;
      } else if (c == '\'') {
        in_single = true;
      } else {
        out.push_back(c);
      }
      if (!at_end) ++i;
    }
    body_->args.push_back({start, out.size() - start});
  }
}

void RespPacket::finish_request() {
  Body& b = *body_;
  b.sent_name_offset = b.bytes.size();
  b.sent_name_length = 0;
  if (b.args.empty()) {
    id_ = empty_request;
    return;
  }
  const ArgRef name = b.args[0];
  char* chars = b.bytes.data() + name.offset;
  id_ = command_id({chars, name.length});
  if (id_ == unknown_command) {  // keep the name as sent, for the error reply
    b.sent_name_length = std::min(name.length, max_quoted_name);
    b.bytes.resize(b.sent_name_offset + b.sent_name_length);  // within the reservation
    chars = b.bytes.data() + name.offset;
    std::memcpy(b.bytes.data() + b.sent_name_offset, chars, b.sent_name_length);
  }
  std::transform(chars, chars + name.length, chars, to_upper);
}

RespPacket RespPacket::request(std::initializer_list<std::string_view> args) {
  RespPacket p;
  Body& b = p.body();
  for (std::string_view a : args) {
    const std::size_t offset = b.bytes.size();
    b.bytes.insert(b.bytes.end(), a.begin(), a.end());
    b.args.push_back({offset, a.size()});
  }
  b.bytes.reserve(b.bytes.size() + max_quoted_name);
  p.finish_request();
  return p;
}

// --- replies -----------------------------------------------------------------------------------

void RespPacket::begin_reply(Kind kind, char type, std::size_t body_hint) {
  kind_ = kind;
  std::vector<char>& reply = body().reply;
  reply.clear();
  reply.reserve(body_hint + 24);  // type, length digits, CRLFs
  reply.push_back(type);
}

void RespPacket::append_reply(std::string_view text) {
  body_->reply.insert(body_->reply.end(), text.begin(), text.end());
}

void RespPacket::append_sanitized(std::string_view text) {
  std::vector<char>& reply = body_->reply;
  const std::size_t from = reply.size();
  append_reply(text);
  std::replace_if(reply.begin() + static_cast<std::ptrdiff_t>(from), reply.end(),
                  [](char c) { return c == '\r' || c == '\n'; }, ' ');
}

void RespPacket::append_number(std::int64_t value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec;  // 24 characters always suffice
  body_->reply.insert(body_->reply.end(), digits, end);
}

void RespPacket::set_encoded(Kind kind, std::string_view resp_bytes) {
  kind_ = kind;
  body().reply.assign(resp_bytes.begin(), resp_bytes.end());
}

void RespPacket::set_simple(std::string_view text) {
  begin_reply(Kind::simple_string, '+', text.size());
  append_sanitized(text);
  append_reply("\r\n");
}

void RespPacket::set_error(std::string_view text) {
  begin_reply(Kind::error, '-', text.size());
  append_sanitized(text);
  append_reply("\r\n");
}

void RespPacket::set_integer(std::int64_t value) {
  begin_reply(Kind::integer, ':', 0);
  append_number(value);
  append_reply("\r\n");
}

void RespPacket::set_bulk(std::string_view bytes) {
  begin_reply(Kind::bulk_string, '$', bytes.size());
  append_number(static_cast<std::int64_t>(bytes.size()));
  append_reply("\r\n");
  append_reply(bytes);
  append_reply("\r\n");
}

void RespPacket::set_null() {
  begin_reply(Kind::null_bulk, '$', 0);
  append_reply("-1\r\n");
}

void RespPacket::set_wrong_arity() {
  char name[32];
  const std::string_view cmd = command();
  const std::size_t len = std::min(cmd.size(), sizeof name);
  std::transform(cmd.begin(), cmd.begin() + static_cast<std::ptrdiff_t>(len), name, to_lower);
  begin_reply(Kind::error, '-', 64);
  append_reply("ERR wrong number of arguments for '");
  append_sanitized({name, len});
  append_reply("' command\r\n");
}

RespPacket RespPacket::simple_string(std::string_view text) {
  RespPacket p;
  p.set_simple(text);
  return p;
}
RespPacket RespPacket::error(std::string_view text) {
  RespPacket p;
  p.set_error(text);
  return p;
}
RespPacket RespPacket::integer(std::int64_t value) {
  RespPacket p;
  p.set_integer(value);
  return p;
}
RespPacket RespPacket::bulk_string(std::string_view bytes) {
  RespPacket p;
  p.set_bulk(bytes);
  return p;
}
RespPacket RespPacket::null_bulk() {
  RespPacket p;
  p.set_null();
  return p;
}

// --- the Packet concept ------------------------------------------------------------------------

std::span<const std::byte> RespPacket::payload() const noexcept {
  if (!body_) return {};
  if (kind_ == Kind::request) return std::as_bytes(std::span(body_->bytes.data(), body_->sent_name_offset));
  return std::as_bytes(std::span(body_->reply.data(), body_->reply.size()));
}

std::size_t RespPacket::request_encoded_size() const noexcept {
  const std::size_t count = arg_count();
  std::size_t n = 1 + decimal_digits(count) + 2;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t len = body_->args[i].length;
    n += 1 + decimal_digits(len) + 2 + len + 2;
  }
  return n;
}

void RespPacket::encode_request(std::span<std::byte> out) const noexcept {
  char* dst = reinterpret_cast<char*>(out.data());
  auto put_header = [&dst](char type, std::size_t value) {
    *dst++ = type;
    dst = std::to_chars(dst, dst + 24, value).ptr;
    *dst++ = '\r';
    *dst++ = '\n';
  };
  put_header('*', arg_count());
  for (std::size_t i = 0; i < arg_count(); ++i) {
    const std::string_view a = arg(i);
    put_header('$', a.size());
    if (!a.empty()) std::memcpy(dst, a.data(), a.size());
    dst += a.size();
    *dst++ = '\r';
    *dst++ = '\n';
  }
}

}  // namespace resp
