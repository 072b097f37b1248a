#pragma once
// TlsSocket: TLS over a TCP (or Unix domain) socket, as a StreamSocket the connection actor
// drives like any other (transport/stream_socket.hpp). Part of wireframe::tls (OpenSSL).
//
// The actor reads and writes without blocking: it waits for readiness, then reads or writes
// what is there at once. TlsSocket gives TLS the same shape over asio::ssl::stream:
//  - read_some decrypts what the socket has, without blocking; would_block when it needs
//    more. It reads until it has filled the caller's buffer or the socket is empty, so that
//    when it returns short, nothing decrypted is left inside the TLS layer and a wait for the
//    socket's readability is the right wait. After a full read, and before the first read
//    (the handshake may have read past its end), async_wait(wait_read) completes at once:
//    there may be more.
//  - write_some encrypts record by record, the ciphertext going through TlsWire (tls_wire.hpp),
//    which keeps what the kernel does not take. While that backlog is not empty it encrypts
//    nothing more. If the caller's last bytes are encrypted but not all sent, write_some reports
//    one byte fewer than it took ("owed"): the caller, as for any short write, writes the rest
//    later (asynchronously, when the socket is writable) and that write sends the backlog and
//    reports the byte. So a caller that writes until everything is reported never leaves
//    ciphertext behind, and needs to know nothing of TLS.
//  - shutdown(shutdown_send) sends close_notify, then half-closes TCP; output_pending() is true
//    while the close_notify (or any backlog) waits for the socket, and an empty
//    async_write_some writes it.
//  - async_read_some / async_write_some are readiness waits followed by the above, so every
//    byte goes through one path and asio::ssl::stream's own buffers are only ever used by one
//    operation at a time.
//  - A peer that closes TCP without close_notify reads as EOF (asio's stream_truncated): the
//    frame codec already tells a clean end from a cut frame.
// The handshake (async_handshake) comes first, before the actor: tls/tls_listener.hpp,
// tls/tls_client.hpp.

#include <openssl/ssl.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <utility>

#include <asio/compose.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>

#include "wireframe/detail/asio.hpp"
#include "wireframe/tls/tls_wire.hpp"
#include "wireframe/transport/stream_socket.hpp"
#include "wireframe/transport/tls_session.hpp"

namespace wireframe {

class TlsSocket {
 public:
  using stream_type = asio::ssl::stream<detail::TlsWire>;
  using endpoint_type = GenericSocket::endpoint_type;
  using executor_type = GenericSocket::executor_type;

  // Plaintext per TLS record (RFC 8446, 5.1): write_some encrypts at most this much per step.
  static constexpr std::size_t max_record = 16 * 1024;

  TlsSocket(GenericSocket socket, asio::ssl::context& context)
      : stream_(detail::TlsWire(std::move(socket)), context) {}
  TlsSocket(TlsSocket&&) = default;  // not while an operation is pending
  TlsSocket& operator=(TlsSocket&&) = delete;

  // The TLS stream and its OpenSSL handle (SNI, ALPN, the peer's certificate).
  stream_type& stream() noexcept { return stream_; }
  SSL* native_handle() noexcept { return stream_.native_handle(); }
  GenericSocket& lowest() noexcept { return stream_.next_layer().socket(); }
  const GenericSocket& lowest() const noexcept { return stream_.next_layer().socket(); }

  // What was negotiated, once the handshake succeeded (set by whoever ran it).
  void set_session(std::shared_ptr<const TlsSession> session) noexcept { session_ = std::move(session); }
  [[nodiscard]] const std::shared_ptr<const TlsSession>& session() const noexcept { return session_; }

  executor_type get_executor() noexcept { return lowest().get_executor(); }
  [[nodiscard]] bool is_open() const noexcept { return lowest().is_open(); }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, asio::error_code& ec) {
    const asio::mutable_buffer b = first_buffer(buffers);
    std::size_t total = 0;
    ec = {};
    while (total < b.size()) {
      asio::error_code e;
      const std::size_t n = stream_.read_some(b + total, e);
      if (e == asio::ssl::error::stream_truncated) e = asio::error::eof;
      if (e || n == 0) {
        if (total == 0) ec = e ? e : asio::error::would_block;
        break;
      }
      total += n;
    }
    maybe_buffered_ = total > 0 && total == b.size();
    return total;
  }

  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, asio::error_code& ec) {
    ec = {};
    if (!flush(ec)) {
      if (!ec) ec = asio::error::would_block;
      return 0;
    }
    std::size_t done = std::exchange(owed_, false) ? 1 : 0;  // that byte's record is out now
    std::size_t start = 0;                                    // of the current buffer
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      const asio::const_buffer whole(*it);
      const std::size_t end = start + whole.size();
      while (done < end && wire().backlog_empty()) {
        asio::error_code e;
        const std::size_t n = stream_.write_some(asio::buffer(whole + (done - start), max_record), e);
        if (e || n == 0) {
          if (done == 0) ec = e ? e : asio::error::would_block;
          return done;
        }
        done += n;
      }
      if (done < end) break;  // the kernel is full: the backlog goes first next time
      start = end;
    }
    if (done > 0 && done == asio::buffer_size(buffers) && !wire().backlog_empty()) {
      owed_ = true;
      return done - 1;
    }
    return done;
  }

  // Readiness. A read wait completes at once when the last read filled its buffer.
  template <class Token>
  auto async_wait(asio::socket_base::wait_type what, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code)>(
        [this, what](auto handler) {
          if (what == asio::socket_base::wait_read && maybe_buffered_) {
            return asio::post(get_executor(), [h = std::move(handler)]() mutable { std::move(h)(asio::error_code{}); });
          }
          lowest().async_wait(what, std::move(handler));
        },
        token);
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(asio::error_code, std::size_t)>(
        ReadyOp<MutableBuffers, true>{this, buffers}, token, lowest());
  }

  // Empty buffers: writes what is pending (the backlog, a close_notify and the half-close).
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(asio::error_code, std::size_t)>(
        ReadyOp<ConstBuffers, false>{this, buffers}, token, lowest());
  }

  [[nodiscard]] bool output_pending() const noexcept { return !wire().backlog_empty() || half_close_pending_; }

  void non_blocking(bool mode, asio::error_code& ec) { lowest().non_blocking(mode, ec); }

  // shutdown_send: close_notify first (once), then the TCP half-close as soon as it is written.
  void shutdown(asio::socket_base::shutdown_type what, asio::error_code& ec) {
    if (what == asio::socket_base::shutdown_receive) return (void)lowest().shutdown(what, ec);
    send_close_notify();
    if (what == asio::socket_base::shutdown_both) return (void)lowest().shutdown(what, ec);
    half_close_pending_ = true;
    (void)flush(ec);
  }

  void cancel(asio::error_code& ec) { lowest().cancel(ec); }
  void close(asio::error_code& ec) { lowest().close(ec); }
  [[nodiscard]] std::size_t available(asio::error_code& ec) const {
    const int pending = ::SSL_pending(const_cast<TlsSocket*>(this)->native_handle());
    return lowest().available(ec) + static_cast<std::size_t>(std::max(pending, 0));
  }
  [[nodiscard]] endpoint_type remote_endpoint(asio::error_code& ec) const { return lowest().remote_endpoint(ec); }
  [[nodiscard]] endpoint_type local_endpoint(asio::error_code& ec) const { return lowest().local_endpoint(ec); }

 private:
  // A readiness wait, then one non-blocking read_some or write_some, again while it would block.
  template <class Buffers, bool Read>
  struct ReadyOp {
    TlsSocket* socket;
    Buffers buffers;
    bool started = false;

    template <class Self>
    void operator()(Self& self, asio::error_code ec = {}) {
      if (!started) {
        started = true;
        if constexpr (Read) {
          if (socket->maybe_buffered_) return asio::post(socket->get_executor(), std::move(self));
        }
        return wait(self);
      }
      if (ec) return self.complete(ec, 0);
      std::size_t n = 0;
      if constexpr (Read) n = socket->read_some(buffers, ec);
      else n = socket->write_some(buffers, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) return wait(self);
      if (!Read && !ec && n == 0 && socket->output_pending()) return wait(self);  // empty: flushing
      self.complete(ec, n);
    }

    template <class Self>
    void wait(Self& self) {
      socket->lowest().async_wait(Read ? asio::socket_base::wait_read : asio::socket_base::wait_write,
                                  std::move(self));
    }
  };

  template <class MutableBuffers>
  static asio::mutable_buffer first_buffer(const MutableBuffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      const asio::mutable_buffer b(*it);
      if (b.size() > 0) return b;
    }
    return {};
  }

  detail::TlsWire& wire() noexcept { return stream_.next_layer(); }
  const detail::TlsWire& wire() const noexcept { return stream_.next_layer(); }

  // The backlog, then the TCP half-close if one waits for it. True when nothing is pending.
  bool flush(asio::error_code& ec) {
    if (!wire().flush(ec)) return false;
    if (half_close_pending_) {
      half_close_pending_ = false;
      lowest().shutdown(asio::socket_base::shutdown_send, ec);
    }
    return true;
  }

  // The engine's shutdown writes close_notify, then would read the peer's: reads are paused so
  // that it stops there (the peer's input is the reader's, or discarded by the lingering close).
  void send_close_notify() {
    if (std::exchange(close_notify_sent_, true)) return;
    wire().pause_reads(true);
    asio::error_code ignored;  // would_block, where it stops
    stream_.shutdown(ignored);
    wire().pause_reads(false);
  }

  stream_type stream_;
  std::shared_ptr<const TlsSession> session_;
  // The last read filled its buffer: the TLS layer may hold more. True at first: the handshake
  // may have read the peer's first records with its own (TLS 1.3 lets a client send right
  // after its Finished), and no readiness wait would see them.
  bool maybe_buffered_ = true;
  bool owed_ = false;               // write_some reported one byte fewer than it took
  bool close_notify_sent_ = false;
  bool half_close_pending_ = false;  // shutdown_send waits for the backlog
};

namespace detail {
// TlsSocket's operations carry more state than a plain socket's: its reader's slot is larger.
template <>
inline constexpr std::size_t operation_slot_size<TlsSocket> = 320;
}  // namespace detail

}  // namespace wireframe
