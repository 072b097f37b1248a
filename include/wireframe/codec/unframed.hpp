#pragma once
// encode_unframed(): the encode() of a codec whose packets carry their own framing, so that the
// codec adds no header of its own (RESP replies, PostgreSQL backend messages): the body is
// written in place, as it is. A codec forwards to it:
//
//   template <class Fill>
//   std::error_code encode(std::size_t body_len, wireframe::ByteBuffer& out, Fill&& fill) const {
//     return wireframe::encode_unframed(body_len, out, std::forward<Fill>(fill));
//   }
//   std::size_t max_overhead() const noexcept { return 0; }

#include <concepts>
#include <cstddef>
#include <functional>
#include <span>
#include <system_error>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/error/errc.hpp"

namespace wireframe {

template <class Fill>
  requires std::invocable<Fill&, std::span<std::byte>>
[[nodiscard]] std::error_code encode_unframed(std::size_t body_len, ByteBuffer& out, Fill&& fill) {
  const std::span<std::byte> dst = out.prepare(body_len);
  if (dst.size() < body_len) return errc::frame_too_large;  // beyond the buffer's cap
  std::invoke(fill, dst);
  out.commit(body_len);
  return {};
}

}  // namespace wireframe
