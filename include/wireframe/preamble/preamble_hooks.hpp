#pragma once
// What a preamble's hooks are given and answer (WireframeApp::with_preamble).
//
//   on_success(const T& preamble, PreambleReply& reply) -> PreambleAction
//   on_failure(const PreambleFailure& failure, PreambleReply& reply)
//
// Both run on the connection's thread before its actor exists, and must not block. Bytes put
// in `reply` are written to the peer before the connection goes on (or closes). A hook that
// throws ends its connection, logged.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace wireframe {

// What happens after a preamble was read (and the reply written).
enum class PreambleAction {
  proceed,      // the codec starts: the connection's actor reads the bytes that follow
  close,        // the connection closes
  read_next,    // another preamble follows (PostgreSQL: SSLRequest refused with 'N', then the
                // startup packet); the same deadline bounds them all
  upgrade_tls,  // the TLS handshake runs on this socket, then the preamble is read again over
                // TLS. Only on a listener made with tls_listener(app, context,
                // TlsStart::on_request) (PreambleReply::tls_available()); anywhere else the
                // connection closes.
};

// Why a preamble was refused (on_failure); errc::preamble_invalid, preamble_too_large or
// preamble_timed_out.
struct PreambleFailure {
  std::error_code error;
  std::string reason;  // the decoder's words, or what the limit was
};

// Bytes for the peer, and what the connection could still do.
class PreambleReply {
 public:
  PreambleReply(bool tls_available, bool tls_active)
      : tls_available_(tls_available), tls_active_(tls_active) {}

  void write(std::span<const std::byte> bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  }
  void write(std::string_view text) {
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    bytes_.insert(bytes_.end(), p, p + text.size());
  }
  [[nodiscard]] const std::vector<std::byte>& bytes() const noexcept { return bytes_; }

  // PreambleAction::upgrade_tls would be honoured: the listener has a TLS context and the
  // connection is not yet over TLS.
  [[nodiscard]] bool tls_available() const noexcept { return tls_available_ && !tls_active_; }
  // The preamble arrived over TLS.
  [[nodiscard]] bool tls_active() const noexcept { return tls_active_; }

 private:
  std::vector<std::byte> bytes_;
  bool tls_available_;
  bool tls_active_;
};

}  // namespace wireframe
