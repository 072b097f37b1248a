#include "pg_packet.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "pg_codec.hpp"

namespace pg {

// --- MessageWriter -------------------------------------------------------------------------------

void MessageWriter::begin(char type) {
  start_ = out_->size();
  put_u8(static_cast<std::uint8_t>(type));
  put_i32(0);  // the length, filled in by end()
}

void MessageWriter::end() {
  // The length counts itself, not the type byte. Messages are bounded by what the server
  // builds (a row, a notice), far below 2 GiB.
  const auto len = static_cast<std::uint32_t>(out_->size() - start_ - 1);
  for (int i = 0; i < 4; ++i) {
    (*out_)[start_ + 1 + static_cast<std::size_t>(i)] = static_cast<std::byte>(len >> (24 - 8 * i));
  }
}

void MessageWriter::put_i16(std::int16_t v) {
  const auto u = static_cast<std::uint16_t>(v);
  put_u8(static_cast<std::uint8_t>(u >> 8));
  put_u8(static_cast<std::uint8_t>(u));
}

void MessageWriter::put_i32(std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) put_u8(static_cast<std::uint8_t>(u >> shift));
}

void MessageWriter::put_bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  out_->insert(out_->end(), p, p + s.size());
}

void MessageWriter::put_cstring(std::string_view s) {
  put_bytes(s.substr(0, s.find('\0')));
  put_u8(0);
}

void MessageWriter::authentication(std::int32_t code) {
  begin(backend::authentication);
  put_i32(code);
  end();
}

void MessageWriter::parameter_status(std::string_view name, std::string_view value) {
  begin(backend::parameter_status);
  put_cstring(name);
  put_cstring(value);
  end();
}

void MessageWriter::backend_key_data(std::int32_t pid, std::int32_t secret) {
  begin(backend::backend_key_data);
  put_i32(pid);
  put_i32(secret);
  end();
}

void MessageWriter::ready_for_query(TxStatus status) {
  begin(backend::ready_for_query);
  put_u8(static_cast<std::uint8_t>(status));
  end();
}

void MessageWriter::row_description(std::span<const FieldDesc> fields) {
  begin(backend::row_description);
  put_i16(static_cast<std::int16_t>(fields.size()));  // the store caps columns far below 32767
  for (const FieldDesc& f : fields) {
    put_cstring(f.name);
    put_i32(0);  // no table oid
    put_i16(0);  // no column number
    put_i32(static_cast<std::int32_t>(f.type_oid));
    put_i16(f.type_size);
    put_i32(-1);  // no type modifier
    put_i16(0);   // text format
  }
  end();
}

void MessageWriter::data_row_begin(std::int16_t columns) {
  begin(backend::data_row);
  put_i16(columns);
}

void MessageWriter::data_row_value(std::string_view text) {
  put_i32(static_cast<std::int32_t>(text.size()));  // values are bounded by the frame limit
  put_bytes(text);
}

void MessageWriter::data_row_null() { put_i32(-1); }

void MessageWriter::command_complete(std::string_view tag) {
  begin(backend::command_complete);
  put_cstring(tag);
  end();
}

void MessageWriter::empty_query_response() {
  begin(backend::empty_query);
  end();
}

void MessageWriter::fields(char type, std::string_view severity, std::string_view sqlstate,
                           std::string_view message, std::size_t position, std::string_view hint) {
  begin(type);
  put_u8('S');
  put_cstring(severity);
  put_u8('V');  // the same, never translated (PostgreSQL 9.6 and later send both)
  put_cstring(severity);
  put_u8('C');
  put_cstring(sqlstate);
  put_u8('M');
  put_cstring(message);
  if (!hint.empty()) {
    put_u8('H');
    put_cstring(hint);
  }
  if (position > 0) {
    put_u8('P');
    put_cstring(std::to_string(position));
  }
  put_u8(0);
  end();
}

void MessageWriter::error(std::string_view severity, std::string_view sqlstate, std::string_view message,
                          std::size_t position, std::string_view hint) {
  fields(backend::error_response, severity, sqlstate, message, position, hint);
}

void MessageWriter::notice(std::string_view severity, std::string_view sqlstate, std::string_view message) {
  fields(backend::notice_response, severity, sqlstate, message, 0, {});
}

void MessageWriter::notification(std::int32_t pid, std::string_view channel, std::string_view payload) {
  begin(backend::notification);
  put_i32(pid);
  put_cstring(channel);
  put_cstring(payload);
  end();
}

// --- PgPacket ------------------------------------------------------------------------------------

bool PgPacket::body_cstring(std::string_view& out) const noexcept {
  if (body_.empty() || body_.back() != std::byte{0}) return false;
  const std::string_view text(reinterpret_cast<const char*>(body_.data()), body_.size() - 1);
  if (text.find('\0') != std::string_view::npos) return false;
  out = text;
  return true;
}

void PgPacket::encode_to(std::span<std::byte> out) const noexcept {
  if (!reply_.empty()) std::memcpy(out.data(), reply_.data(), reply_.size());
}

namespace {
std::uint32_t route_of(char type) {
  switch (type) {
    case msg_query: case msg_password: case msg_terminate: case msg_parse: case msg_bind:
    case msg_describe: case msg_execute: case msg_close: case msg_flush: case msg_sync:
    case msg_function_call: case msg_copy_data: case msg_copy_done: case msg_copy_fail:
      return static_cast<std::uint32_t>(static_cast<unsigned char>(type));
    default:
      return msg_unsupported;
  }
}
}  // namespace

std::error_code PgPacket::decode_from(std::span<const std::byte> frame) {
  reply_.clear();
  correlation_id_ = 0;
  // PgCodec hands over whole messages only; a shorter one here is a caller's mistake.
  if (frame.size() < header_size) return make_error_code(Errc::malformed_message);
  type_ = static_cast<char>(frame[0]);
  id_ = route_of(type_);
  body_.assign(frame.begin() + header_size, frame.end());
  return {};
}

}  // namespace pg
