#pragma once
// RespPacket: a wireframe Packet for RESP2. One type plays both roles:
//   - a request, as decoded from one RespCodec frame: the command and its arguments, kept in
//     one contiguous byte buffer with (offset, length) pairs. The command name (argument 0) is
//     stored uppercased; id() is the RespCommand it names (0 for unknown), which is what
//     wireframe's router dispatches on.
//   - a reply: simple string, error, integer, bulk string or null bulk, kept as its encoded
//     RESP bytes.
// A handler turns the request into its reply in place (set_simple(), set_bulk(), ...) and
// returns it: the arguments stay readable while the reply is written into the second buffer,
// and wireframe recycles the packet for a later request, so steady-state traffic allocates
// nothing here.
//
// RESP has no correlation ids (replies come back in request order); the field exists because
// wireframe stamps every response with its request's id, and is never put on the wire.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "resp_protocol.hpp"

namespace resp {

// Message ids of the commands the server routes.
enum RespCommand : std::uint32_t {
  unknown_command = 0,
  cmd_ping = 1,
  cmd_echo = 2,
  cmd_set = 3,
  cmd_get = 4,
  cmd_del = 5,
  cmd_quit = 6,
  empty_request = 100,  // "*0\r\n" or a blank inline line: Redis ignores it, so do we
};

class RespPacket {
 public:
  enum class Kind : std::uint8_t { request, simple_string, error, integer, bulk_string, null_bulk };

  // Longest command name quoted back in "unknown command" errors (as Redis does).
  static constexpr std::size_t max_quoted_name = 128;

  RespPacket() = default;

  // --- replies (each also exists as an in-place setter) ------------------------------------
  static RespPacket simple_string(std::string_view text);
  static RespPacket error(std::string_view text);
  static RespPacket integer(std::int64_t value);
  static RespPacket bulk_string(std::string_view bytes);
  static RespPacket null_bulk();

  // "+<text>\r\n". The text must not contain CR or LF (they are replaced by spaces).
  void set_simple(std::string_view text);
  // The two commonest replies, "+OK\r\n" and "+PONG\r\n", copied as they are.
  void set_ok() { set_encoded(Kind::simple_string, "+OK\r\n"); }
  void set_pong() { set_encoded(Kind::simple_string, "+PONG\r\n"); }
  // "-<text>\r\n", e.g. set_error("ERR syntax error"). CR/LF are replaced by spaces.
  void set_error(std::string_view text);
  void set_integer(std::int64_t value);
  // "$<len>\r\n<bytes>\r\n". `bytes` may view this packet's own arguments.
  void set_bulk(std::string_view bytes);
  void set_null();
  // "-ERR wrong number of arguments for '<command>' command", command name in lowercase.
  void set_wrong_arity();

  // --- request side --------------------------------------------------------------------------
  // Builds a request (client side, tests): the command name is uppercased.
  static RespPacket request(std::initializer_list<std::string_view> args);

  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  [[nodiscard]] bool is_request() const noexcept { return kind_ == Kind::request; }
  [[nodiscard]] std::size_t arg_count() const noexcept { return body_ ? body_->args.size() : 0; }
  // Argument i (0 is the command name, uppercased). Precondition: i < arg_count().
  [[nodiscard]] std::string_view arg(std::size_t i) const noexcept {
    return {body_->bytes.data() + body_->args[i].offset, body_->args[i].length};
  }
  // The command name uppercased ("" for an empty request).
  [[nodiscard]] std::string_view command() const noexcept { return arg_count() == 0 ? std::string_view() : arg(0); }
  // The command name as the client sent it, cut at max_quoted_name bytes (for the "unknown
  // command" error; kept for unknown commands only).
  [[nodiscard]] std::string_view command_as_sent() const noexcept {
    if (!body_) return {};
    return {body_->bytes.data() + body_->sent_name_offset, body_->sent_name_length};
  }

  // The encoded reply (a reply), e.g. "+OK\r\n".
  [[nodiscard]] std::string_view reply_text() const noexcept {
    return body_ ? std::string_view(body_->reply.data(), body_->reply.size()) : std::string_view();
  }

  // --- the Packet concept ----------------------------------------------------------------------
  [[nodiscard]] std::uint32_t id() const noexcept { return id_; }
  void set_id(std::uint32_t id) noexcept { id_ = id; }
  [[nodiscard]] std::uint64_t correlation_id() const noexcept { return correlation_id_; }
  void set_correlation_id(std::uint64_t c) noexcept { correlation_id_ = c; }
  // A request: its argument bytes back to back; a reply: its encoded bytes.
  [[nodiscard]] std::span<const std::byte> payload() const noexcept;
  // Lets wireframe keep finished packets whose buffers are worth reusing (and drop moved-from
  // ones).
  [[nodiscard]] std::size_t payload_capacity() const noexcept {
    return body_ ? body_->bytes.capacity() + body_->reply.capacity() : 0;
  }

  // A reply: its bytes; a request: its RESP multibulk encoding. (The reply case is inline: it
  // is what the server's writer calls for every response.)
  [[nodiscard]] std::size_t encoded_size() const noexcept {
    if (kind_ != Kind::request) return body_ ? body_->reply.size() : 0;
    return request_encoded_size();
  }
  void encode_to(std::span<std::byte> out) const noexcept {
    if (kind_ == Kind::request) return encode_request(out);
    if (body_ && !body_->reply.empty()) std::memcpy(out.data(), body_->reply.data(), body_->reply.size());
  }

  // Parses exactly one request (a whole RespCodec frame), reusing this packet's buffers.
  // Errors are resp::Errc (malformed, incomplete or trailing bytes).
  std::error_code decode_from(std::span<const std::byte> in);

 private:
  struct ArgRef {
    std::size_t offset;
    std::size_t length;
  };
  // Everything with storage, behind one pointer: wireframe moves a packet about ten times per
  // request (request ring, response, outbound ring, pool), and each move is then three words.
  // Created on first use; a moved-from packet has none (payload_capacity() 0: not pooled).
  struct Body {
    std::vector<char> bytes;   // request: the arguments back to back, then the name as sent
    std::vector<ArgRef> args;  // request: where each argument is in `bytes`
    std::size_t sent_name_offset = 0;
    std::size_t sent_name_length = 0;
    std::vector<char> reply;   // reply: the encoded RESP bytes
  };
  friend struct ArgCollector;

  Body& body() {
    if (!body_) body_ = std::make_unique<Body>();
    return *body_;
  }
  [[nodiscard]] std::size_t request_encoded_size() const noexcept;
  void encode_request(std::span<std::byte> out) const noexcept;
  void set_encoded(Kind kind, std::string_view resp_bytes);
  void reset_request();
  void finish_request();  // uppercases the command, sets id_ (and keeps an unknown name as sent)
  std::error_code split_inline(const char* line, std::size_t n);
  void begin_reply(Kind kind, char type, std::size_t body_hint);
  void append_reply(std::string_view text);
  void append_sanitized(std::string_view text);
  void append_number(std::int64_t value);

  std::uint32_t id_ = unknown_command;
  Kind kind_ = Kind::request;
  std::uint64_t correlation_id_ = 0;
  std::unique_ptr<Body> body_;
};

}  // namespace resp
