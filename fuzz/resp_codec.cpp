// The RESP2 example's framing and parsing fed arbitrary bytes: RespCodec::decode (with the
// default limits, and with small limits picked by byte 0 so that every limit is reachable) run
// over the stream as a connection runs it, RespPacket::decode_from on each complete frame, and
// on the whole input as one frame.
//
// Input: byte 0 picks the small limits (bits 0-1 bulk length, 2-3 array elements, 4-5 inline
// length, 6-7 request length above the inline one); the rest is the stream.
//
// Properties (a violation aborts with a message, so libFuzzer keeps the input):
//   - a complete frame is a whole request in place (max_overhead() is 0): it starts the input,
//     consumes exactly its size, never more than the input nor max_request_length(); an inline
//     one is one line within max_inline_length; cut short it is need_more, never an error, and
//     decoding is deterministic;
//   - need_more never lets the input grow past max_request_length by more than one RESP
//     length line (the codec refuses a request as soon as its offending header is readable);
//   - decode() errors are only the codec's resp::Errc values (not decode_from's own three);
//   - decode_from of a complete frame: a multibulk frame always decodes, within the limits the
//     codec applied (argument count and lengths); an inline one decodes or is
//     Errc::unbalanced_quotes; the command is uppercased, id() is the command it names, and a
//     used packet decodes as a fresh one;
//   - a decoded request re-encodes (encode_to, RESP multibulk) to bytes that RespCodec frames
//     whole and decode_from reads back to the same arguments and id;
//   - decode_from of arbitrary bytes returns success or a resp::Errc, and when it succeeds the
//     codec frames the same bytes as exactly one request (or refuses them on a limit).
// ASan and UBSan (the fuzz preset) check the rest.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "examples/resp_server/resp_codec.hpp"
#include "examples/resp_server/resp_packet.hpp"

#include "fuzz/fuzz_check.hpp"

using fuzz::check;

using resp::Errc;
using resp::Limits;
using resp::RespCodec;
using resp::RespPacket;
using wireframe::DecodeResult;
using wireframe::DecodeStatus;
using Bytes = std::span<const std::byte>;

// How far need_more may run past max_request_length: a length line still incomplete, "$" and
// 18 digits and "\r" after a request within the limit (20 bytes), or "*-", 18 digits and "\r"
// at its start (21 bytes, and max_request_length is at least 1).
static constexpr std::size_t header_slack = 20;

static Limits small_limits(std::uint8_t b) {
  Limits l;
  l.max_bulk_length = 1 + (b & 3u) * 5;                                // 1, 6, 11, 16
  l.max_array_elements = 1 + ((b >> 2) & 3u);                          // 1 .. 4
  l.max_inline_length = 1 + ((b >> 4) & 3u) * 10;                      // 1, 11, 21, 31
  l.max_request_length = l.max_inline_length + ((b >> 6) & 3u) * 16;  // + 0, 16, 32, 48
  return l;
}

static bool in_category(std::error_code ec) { return ec.category() == resp::category(); }

static bool is_errc(std::error_code ec) {
  return in_category(ec) && ec.value() >= static_cast<int>(Errc::incomplete) &&
         ec.value() <= static_cast<int>(Errc::trailing_bytes);
}

// decode()'s errors: all resp::Errc values but decode_from's incomplete, unbalanced_quotes and
// trailing_bytes.
static bool is_codec_error(std::error_code ec) {
  return is_errc(ec) && ec != Errc::incomplete && ec != Errc::unbalanced_quotes && ec != Errc::trailing_bytes;
}

static bool is_limit_error(std::error_code ec) {
  return ec == Errc::too_many_elements || ec == Errc::bulk_too_large || ec == Errc::inline_too_long ||
         ec == Errc::request_too_large;
}

static bool same_result(const DecodeResult& a, const DecodeResult& b) {
  return a.status == b.status && a.consumed == b.consumed && a.frame.data() == b.frame.data() &&
         a.frame.size() == b.frame.size() && a.error == b.error;
}

static std::string_view text(Bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

static std::uint32_t expected_id(const RespPacket& p) {
  if (p.arg_count() == 0) return resp::empty_request;
  const std::string_view c = p.command();
  if (c == "PING") return resp::cmd_ping;
  if (c == "ECHO") return resp::cmd_echo;
  if (c == "SET") return resp::cmd_set;
  if (c == "GET") return resp::cmd_get;
  if (c == "DEL") return resp::cmd_del;
  if (c == "QUIT") return resp::cmd_quit;
  return resp::unknown_command;
}

static bool same_args(const RespPacket& a, const RespPacket& b) {
  if (a.arg_count() != b.arg_count() || a.id() != b.id()) return false;
  for (std::size_t i = 0; i < a.arg_count(); ++i) {
    if (a.arg(i) != b.arg(i)) return false;
  }
  return true;
}

static void check_request(const RespPacket& p) {
  check(p.is_request(), "a decoded packet is a request");
  check(p.id() == expected_id(p), "id() is the command the name names");
  const std::string_view name = p.command();
  check(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; }),
        "the command name is uppercased");
  const std::string_view sent = p.command_as_sent();
  const bool unknown = p.id() == resp::unknown_command;
  check(sent.size() == (unknown ? std::min(name.size(), RespPacket::max_quoted_name) : 0),
        "the name as sent is kept, cut, for unknown commands only");
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const char c = sent[i] >= 'a' && sent[i] <= 'z' ? static_cast<char>(sent[i] - 32) : sent[i];
    check(c == name[i], "the name as sent is the command before uppercasing");
  }
}

// encode_to writes the request as a RESP multibulk that frames whole and reads back the same.
static void check_reencode(const RespPacket& p) {
  std::vector<std::byte> bytes(p.encoded_size());  // exact size: ASan sees any overrun
  p.encode_to(bytes);
  const DecodeResult r = RespCodec().decode(bytes);
  check(r.status == DecodeStatus::frame && r.consumed == bytes.size(),
        "a re-encoded request is exactly one frame");
  RespPacket back;
  check(!back.decode_from(bytes), "a re-encoded request decodes");
  check(same_args(back, p), "a re-encoded request decodes to the same arguments");
}

static void check_packet(const RespCodec& codec, Bytes frame, RespPacket& used) {
  const std::error_code ec = used.decode_from(frame);
  const bool multibulk = frame[0] == std::byte{'*'};
  if (multibulk) {
    check(!ec, "a multibulk frame the codec accepted decodes");
    check(used.arg_count() <= codec.limits().max_array_elements, "arguments within max_array_elements");
    for (std::size_t i = 0; i < used.arg_count(); ++i) {
      check(used.arg(i).size() <= codec.limits().max_bulk_length, "arguments within max_bulk_length");
    }
  } else {
    check(!ec || ec == Errc::unbalanced_quotes, "an inline frame decodes or has unbalanced quotes");
    if (ec) return;
  }
  check_request(used);
  RespPacket fresh;
  check(!fresh.decode_from(frame) && same_args(fresh, used), "a used packet decodes as a fresh one");
  check_reencode(used);
}

static void check_frame(const RespCodec& codec, Bytes in, const DecodeResult& r) {
  check(r.consumed > 0 && r.consumed <= in.size(), "a frame consumes within the input");
  check(r.frame.data() == in.data() && r.frame.size() == r.consumed, "a frame is the whole request, in place");
  check(r.consumed <= codec.max_frame_length(), "a frame never exceeds max_request_length");
  check(!r.error, "a frame carries no error");
  const std::string_view t = text(r.frame);
  if (t[0] != '*') {
    check(t.size() <= codec.limits().max_inline_length, "an inline frame is within max_inline_length");
    check(t.find('\n') == t.size() - 1, "an inline frame is one line");
  }
  check(codec.decode(in.first(r.consumed - 1)).status == DecodeStatus::need_more,
        "a frame cut short is need_more, never an error");
  check(same_result(codec.decode(in.first(r.consumed)), r), "a frame alone decodes the same");
}

static void check_need_more(const RespCodec& codec, Bytes in, const DecodeResult& r) {
  check(r.consumed == 0 && r.frame.empty() && !r.error, "need_more carries nothing");
  check(in.size() <= codec.max_frame_length() + header_slack,
        "need_more never buffers past max_request_length plus one length line");
}

// Frames one request after another, as a connection does, until need_more or an error.
static void decode_stream(const RespCodec& codec, Bytes in) {
  RespPacket used;  // recycled for every frame, as wireframe recycles packets
  for (;;) {
    const DecodeResult r = codec.decode(in);
    check(same_result(codec.decode(in), r), "decode is deterministic");
    switch (r.status) {
      case DecodeStatus::frame: break;
      case DecodeStatus::need_more: return check_need_more(codec, in, r);
      case DecodeStatus::error: return check(is_codec_error(r.error), "decode errors are the codec's resp::Errc");
    }
    check_frame(codec, in, r);
    check_packet(codec, r.frame, used);
    in = in.subspan(r.consumed);
  }
}

// decode_from on arbitrary bytes, and its agreement with the codec on what one request is.
static void check_whole(Bytes in) {
  RespPacket p;
  const std::error_code ec = p.decode_from(in);
  check(!ec || is_errc(ec), "decode_from errors are resp::Errc");
  if (ec) return;
  check_request(p);
  const DecodeResult r = RespCodec().decode(in);
  check((r.status == DecodeStatus::frame && r.consumed == in.size()) ||
            (r.status == DecodeStatus::error && is_limit_error(r.error)),
        "what decode_from reads as one request the codec frames as one request");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Bytes stream = std::as_bytes(std::span(data + 1, size - 1));
  decode_stream(RespCodec(), stream);
  decode_stream(RespCodec(small_limits(data[0])), stream);
  check_whole(stream);
  return 0;
}
