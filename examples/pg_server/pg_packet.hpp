#pragma once
// PgPacket: a wireframe Packet for the PostgreSQL protocol. One type plays both roles:
//   - a request: one frontend message as PgCodec cut it (type byte, length, body). id() is the
//     type byte for the messages pg_server routes, msg_unsupported (0) for any other, so that
//     wireframe's router sends unknown types to one handler.
//   - a reply: any number of complete backend messages back to back, written with
//     MessageWriter (a query's whole answer, RowDescription to ReadyForQuery, is one packet,
//     so it is one write and no push can land in its middle).
// A handler usually turns the request into its reply in place (reply().clear(), then write);
// wireframe recycles the packet for a later request, so its buffers are reused.
//
// PostgreSQL has no correlation ids (replies come in request order); the field exists because
// wireframe stamps every response with its request's, and is never put on the wire.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "pg_protocol.hpp"

namespace pg {

// One column of a RowDescription.
struct FieldDesc {
  std::string_view name;
  std::uint32_t type_oid;  // 25 text, 23 int4, 20 int8
  std::int16_t type_size;  // -1 for variable length
};

// Appends backend messages to a byte vector: each method writes one whole message.
class MessageWriter {
 public:
  explicit MessageWriter(std::vector<std::byte>& out) : out_(&out) {}

  void authentication(std::int32_t code);
  void parameter_status(std::string_view name, std::string_view value);
  void backend_key_data(std::int32_t pid, std::int32_t secret);
  void ready_for_query(TxStatus status);
  void row_description(std::span<const FieldDesc> fields);
  // One DataRow; a null value is a nullptr data() with `null` set (see data_row_value()).
  void data_row_begin(std::int16_t columns);
  void data_row_value(std::string_view text);
  void data_row_null();
  void data_row_end() { end(); }
  void command_complete(std::string_view tag);
  void empty_query_response();
  // ErrorResponse / NoticeResponse. `severity` is ERROR, FATAL, WARNING or NOTICE;
  // `position` is 1-based in the query, 0 for none.
  void error(std::string_view severity, std::string_view sqlstate, std::string_view message,
             std::size_t position = 0, std::string_view hint = {});
  void notice(std::string_view severity, std::string_view sqlstate, std::string_view message);
  void notification(std::int32_t pid, std::string_view channel, std::string_view payload);

  [[nodiscard]] std::size_t size() const noexcept { return out_->size(); }

 private:
  void begin(char type);
  void end();  // fills in the length of the message begun last
  void put_u8(std::uint8_t v) { out_->push_back(static_cast<std::byte>(v)); }
  void put_i16(std::int16_t v);
  void put_i32(std::int32_t v);
  void put_cstring(std::string_view s);  // the bytes, then a NUL (a NUL inside is cut there)
  void put_bytes(std::string_view s);
  void fields(char type, std::string_view severity, std::string_view sqlstate, std::string_view message,
              std::size_t position, std::string_view hint);

  std::vector<std::byte>* out_;
  std::size_t start_ = 0;  // where the message being written begins
};

class PgPacket {
 public:
  PgPacket() = default;

  // --- request side ----------------------------------------------------------------------------
  [[nodiscard]] char type() const noexcept { return type_; }
  // The message body (after type and length).
  [[nodiscard]] std::span<const std::byte> body() const noexcept { return body_; }
  // The body as one NUL-terminated string (Query, PasswordMessage), without its NUL; false when
  // the body is not exactly one such string (then the message is malformed).
  [[nodiscard]] bool body_cstring(std::string_view& out) const noexcept;

  // --- reply side ------------------------------------------------------------------------------
  // Starts (or continues) writing backend messages into this packet.
  [[nodiscard]] MessageWriter writer() { return MessageWriter(reply_); }
  void clear_reply() noexcept { reply_.clear(); }
  void reserve_reply(std::size_t bytes) { reply_.reserve(bytes); }
  [[nodiscard]] std::size_t reply_size() const noexcept { return reply_.size(); }
  [[nodiscard]] std::span<const std::byte> reply_bytes() const noexcept { return reply_; }
  // A packet holding the messages `write(MessageWriter&)` writes.
  template <class Write>
  static PgPacket reply_of(Write&& write) {
    PgPacket p;
    MessageWriter w = p.writer();
    write(w);
    return p;
  }

  // --- the Packet concept ----------------------------------------------------------------------
  [[nodiscard]] std::uint32_t id() const noexcept { return id_; }
  [[nodiscard]] std::uint64_t correlation_id() const noexcept { return correlation_id_; }
  void set_correlation_id(std::uint64_t c) noexcept { correlation_id_ = c; }
  // A request: its body; a reply: its bytes.
  [[nodiscard]] std::span<const std::byte> payload() const noexcept { return reply_.empty() ? body() : reply_bytes(); }
  [[nodiscard]] std::size_t payload_capacity() const noexcept { return body_.capacity() + reply_.capacity(); }
  // Only replies are encoded (the server never sends a frontend message).
  [[nodiscard]] std::size_t encoded_size() const noexcept { return reply_.size(); }
  void encode_to(std::span<std::byte> out) const noexcept;
  // One whole frontend message (type, length, body), reusing this packet's buffers.
  std::error_code decode_from(std::span<const std::byte> frame);

 private:
  std::uint32_t id_ = msg_unsupported;
  char type_ = 0;
  std::uint64_t correlation_id_ = 0;
  std::vector<std::byte> body_;
  std::vector<std::byte> reply_;
};

}  // namespace pg
