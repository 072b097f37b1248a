#pragma once
// TlsWire: the layer under asio::ssl::stream in a TlsSocket. It is a GenericSocket whose writes
// never lose bytes: what a non-blocking socket does not take at once is kept in a backlog and
// written first next time.
//
// Why: asio::ssl::stream's synchronous operations write their ciphertext with asio::write().
// Over a non-blocking socket that returns would_block part-way, and the bytes the TLS engine
// handed over would be lost. The connection actor reads and writes without blocking (it waits
// for readiness, then reads or writes what is there: docs/architecture.md), so TlsSocket drives
// the TLS engine synchronously over this layer. The backlog is small: TlsSocket encrypts nothing
// more while it is not empty, so it holds at most one TLS record (16 KiB and its overhead)
// plus a record the engine writes on its own (a close_notify, a key update's answer).
//
// Reads pass through (would_block included). The asynchronous operations, used only by the TLS
// handshake (before anything is in the backlog), pass through too.

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "wireframe/detail/asio.hpp"
#include "wireframe/transport/stream_socket.hpp"

namespace wireframe::detail {

class TlsWire {
 public:
  using executor_type = GenericSocket::executor_type;
  using lowest_layer_type = GenericSocket::lowest_layer_type;

  explicit TlsWire(GenericSocket socket) : socket_(std::move(socket)) {}
  TlsWire(TlsWire&&) noexcept = default;
  TlsWire& operator=(TlsWire&&) noexcept = default;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  lowest_layer_type& lowest_layer() noexcept { return socket_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const noexcept { return socket_.lowest_layer(); }
  GenericSocket& socket() noexcept { return socket_; }
  const GenericSocket& socket() const noexcept { return socket_; }

  // While paused, reads report would_block without touching the socket (TlsSocket::shutdown
  // uses it: the engine's shutdown would otherwise read the peer's input looking for its
  // close_notify).
  void pause_reads(bool paused) noexcept { reads_paused_ = paused; }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, asio::error_code& ec) {
    if (reads_paused_) {
      ec = asio::error::would_block;
      return 0;
    }
    return socket_.read_some(buffers, ec);
  }

  // Takes all of `buffers`: what the socket does not take now waits in the backlog.
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, asio::error_code& ec) {
    const std::size_t size = asio::buffer_size(buffers);
    std::size_t written = 0;
    if (backlog_empty()) {
      written = socket_.write_some(buffers, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
      if (ec) return 0;
    }
    keep(buffers, written);
    return size;
  }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return socket_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return socket_.async_write_some(buffers, std::forward<Handler>(handler));
  }

  [[nodiscard]] bool backlog_empty() const noexcept { return sent_ == backlog_.size(); }
  [[nodiscard]] std::size_t backlog_size() const noexcept { return backlog_.size() - sent_; }

  // Writes the backlog without blocking. True when it is empty; false with no error when the
  // socket would block.
  bool flush(asio::error_code& ec) {
    while (!backlog_empty()) {
      const std::size_t n = socket_.write_some(asio::buffer(backlog_.data() + sent_, backlog_size()), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        return false;
      }
      if (ec) return false;
      sent_ += n;
    }
    backlog_.clear();
    sent_ = 0;
    return true;
  }

 private:
  // Appends `buffers` from byte `skip` on.
  template <class ConstBuffers>
  void keep(const ConstBuffers& buffers, std::size_t skip) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      asio::const_buffer b(*it);
      const std::size_t skipped = std::min(skip, b.size());
      skip -= skipped;
      b += skipped;
      const auto* p = static_cast<const unsigned char*>(b.data());
      backlog_.insert(backlog_.end(), p, p + b.size());
    }
  }

  GenericSocket socket_;
  std::vector<unsigned char> backlog_;
  std::size_t sent_ = 0;  // bytes at the backlog's front already written
  bool reads_paused_ = false;
};

}  // namespace wireframe::detail
