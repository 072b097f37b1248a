#pragma once
// GatherBuffer: the bytes of one socket write, as a scatter-gather list. Frames are encoded in
// place into an owned ByteBuffer (bytes()), and between them the caller may add borrowed
// slices: bytes that stay where they are (a large message's fragment payloads, in that
// message's own buffer) and are written from there, so the write buffer never holds a copy of
// them. With no borrowed slice the write is one contiguous buffer, as before.
//
// A borrowed slice must stay alive and unchanged until clear(). Owned ranges are kept as
// offsets, so the ByteBuffer may reallocate while the batch is built.

#include <cstddef>
#include <span>
#include <vector>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/detail/asio.hpp"

namespace wireframe {

class GatherBuffer {
 public:
  explicit GatherBuffer(std::size_t max_owned = static_cast<std::size_t>(-1)) noexcept
      : bytes_(max_owned) {}

  // Where frames are encoded (the codec appends here).
  [[nodiscard]] ByteBuffer& bytes() noexcept { return bytes_; }

  // Appends `slice` to the write after the owned bytes appended so far, without copying it.
  void add_borrowed(std::span<const std::byte> slice) {
    if (slice.empty()) return;
    pieces_.push_back(Piece{bytes_.size(), slice});
    borrowed_ += slice.size();
  }

  // Bytes the write will send: owned and borrowed.
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size() + borrowed_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }

  // The buffer sequence for one write, valid until the next change to this buffer. A span, so
  // that the write operation copies two words rather than the vector (no allocation per write).
  // Without borrowed slices (the usual batch) it is one buffer, kept without a vector: an idle
  // connection that has written holds no allocation for it.
  [[nodiscard]] std::span<const asio::const_buffer> buffers() {
    if (pieces_.empty()) {
      whole_ = asio::const_buffer(bytes_.readable().data(), bytes_.size());
      return {&whole_, 1};
    }
    seq_.clear();
    const std::byte* owned = bytes_.readable().data();
    std::size_t from = 0;
    for (const Piece& p : pieces_) {
      if (p.owned_before > from) seq_.emplace_back(owned + from, p.owned_before - from);
      seq_.emplace_back(p.slice.data(), p.slice.size());
      from = p.owned_before;
    }
    if (bytes_.size() > from) seq_.emplace_back(owned + from, bytes_.size() - from);
    return seq_;
  }

  // Empties the batch (the borrowed slices are let go); storage is kept for reuse.
  void clear() noexcept {
    bytes_.clear();
    pieces_.clear();
    borrowed_ = 0;
  }

 private:
  struct Piece {
    std::size_t owned_before;  // owned bytes [.., owned_before) go out before the slice
    std::span<const std::byte> slice;
  };

  ByteBuffer bytes_;
  std::vector<Piece> pieces_;
  std::vector<asio::const_buffer> seq_;  // with borrowed slices
  asio::const_buffer whole_;             // without
  std::size_t borrowed_ = 0;
};

}  // namespace wireframe
