#pragma once
// Packet: what the router and handlers see. A packet has a message id (routing key), a
// correlation id (matches a response to its request; 0 = none) and a payload, and knows its own
// byte layout inside a frame. Envelope is the default; a protocol with its own header layout
// supplies its own type satisfying this concept (and may ignore correlation if it has none).
//
// decode_from() must reuse the packet's existing storage: the actor keeps finished packets and
// decodes the next request into one, which is how steady-state traffic avoids allocation.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

namespace wireframe {

template <class P>
concept Packet = std::movable<P> && std::default_initializable<P> &&
    requires(P& p, const P& cp, std::span<const std::byte> in, std::span<std::byte> out,
             std::uint64_t correlation) {
      { cp.id() } -> std::convertible_to<std::uint32_t>;
      { cp.correlation_id() } -> std::convertible_to<std::uint64_t>;
      p.set_correlation_id(correlation);
      { cp.payload() } -> std::convertible_to<std::span<const std::byte>>;
      { cp.encoded_size() } -> std::convertible_to<std::size_t>;
      cp.encode_to(out);  // writes exactly encoded_size() bytes
      { p.decode_from(in) } -> std::same_as<std::error_code>;
    };

// Optional: a packet whose encoding is a header followed by its payload, unchanged, can write
// the header alone. The connection then sends a large payload straight from the packet (a
// borrowed slice of its gathered write) instead of copying it into the write buffer, so a large
// reply is never held twice. Envelope has it.
template <class P>
concept SplitEncodablePacket = Packet<P> && requires(const P& cp, std::span<std::byte> out) {
  { cp.encoded_header_size() } -> std::convertible_to<std::size_t>;
  cp.encode_header_to(out);  // writes exactly encoded_header_size() bytes
};

}  // namespace wireframe
