#include "stateful/wire_oracle.hpp"

#include <algorithm>
#include <utility>

namespace wireframe::stateful {

namespace {
std::size_t load_be(const std::uint8_t* p, int width) {
  std::size_t v = 0;
  for (int i = 0; i < width; ++i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

Wire encode_message(const Envelope& e, Framing framing, std::size_t fragment_payload) {
  const Wire body = test::envelope_bytes(e);
  if (framing == Framing::whole) return test::framed(body);
  Wire out;
  std::size_t at = 0;
  do {
    const std::size_t n = std::min(fragment_payload, body.size() - at);
    const bool final = at + n == body.size();
    test::put_bytes(out, test::lenflag_fragment(final, std::span(body).subspan(at, n)));
    at += n;
  } while (at < body.size());
  return out;
}

void StreamDecoder::feed(std::span<const std::uint8_t> bytes) {
  if (!error_.empty()) return;
  test::put_bytes(buffered_, bytes);
  std::size_t at = 0;
  while (error_.empty() && buffered_.size() - at >= 4) {
    const std::size_t length = load_be(buffered_.data() + at, 4);
    if (buffered_.size() - at - 4 < length) break;
    frame(std::span(buffered_).subspan(at + 4, length));
    at += 4 + length;
  }
  buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<std::ptrdiff_t>(at));
}

void StreamDecoder::frame(std::span<const std::uint8_t> body) {
  if (framing_ == Framing::whole) return message(body);
  if (body.size() < 2) {
    error_ = "a fragment frame shorter than its 2-byte header";
    return;
  }
  const std::size_t word = load_be(body.data(), 2);
  if ((word & 0x7fffU) != body.size() - 2) {
    error_ = "a fragment whose length field does not match its frame";
    return;
  }
  test::put_bytes(message_, body.subspan(2));
  if ((word & 0x8000U) == 0) return;
  const Wire whole = std::exchange(message_, {});
  message(whole);
}

void StreamDecoder::message(std::span<const std::uint8_t> bytes) {
  Envelope e;
  if (e.decode_from(std::as_bytes(bytes))) {
    error_ = "a message that is not an envelope";
    return;
  }
  messages_.push_back(std::move(e));
}

}  // namespace wireframe::stateful
