#pragma once
// The peer's side of the wire, written from the specification (docs/wire-format.md: a 4-byte
// big-endian length, then the envelope; docs/fragmentation.md: LenFlag32K fragments) rather
// than with the library's codec, fragmenter or reassembler, so that the stateful model checks
// the library against its documents and not against itself.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <wireframe/packet/envelope.hpp>

#include "support/fragment_wire.hpp"

namespace wireframe::stateful {

using test::Wire;

// How messages travel: one codec frame each, or split into LenFlag32K fragments.
enum class Framing { whole, lenflag };

// The wire bytes of one message; `fragment_payload` caps a LenFlag32K fragment's payload.
Wire encode_message(const Envelope& e, Framing framing, std::size_t fragment_payload);

// Reads messages back from the bytes a server sends, fed in pieces as they arrive.
class StreamDecoder {
 public:
  explicit StreamDecoder(Framing framing) : framing_(framing) {}

  void feed(std::span<const std::uint8_t> bytes);

  // Whole messages, in the order their last byte arrived.
  [[nodiscard]] const std::vector<Envelope>& messages() const noexcept { return messages_; }
  // Bytes of a message not yet complete (a cut-off frame, or fragments without the final one).
  [[nodiscard]] std::size_t incomplete_bytes() const noexcept {
    return buffered_.size() + message_.size();
  }
  // Set when the bytes break the format; nothing is decoded after it.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  void frame(std::span<const std::uint8_t> body);
  void message(std::span<const std::uint8_t> bytes);

  Framing framing_;
  Wire buffered_;  // bytes after the last whole codec frame
  Wire message_;   // lenflag: the payloads of the message's fragments so far
  std::vector<Envelope> messages_;
  std::string error_;
};

}  // namespace wireframe::stateful
