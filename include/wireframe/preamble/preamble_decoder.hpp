#pragma once
// PreambleDecoder: reads a connection's preamble, the typed first message some protocols send
// before their framing starts (PostgreSQL's startup packet and SSLRequest, a PROXY protocol
// header, a magic number and version). WireframeApp::with_preamble takes one; docs/transports.md
// describes the whole exchange.
//
//   struct Hello { std::uint16_t version; };
//   struct HelloDecoder {
//     using value_type = Hello;
//     std::size_t max_size() const { return 6; }
//     wireframe::PreambleResult<Hello> decode(std::span<const std::byte> bytes) const {
//       if (bytes.size() < 6) return wireframe::PreambleResult<Hello>::need_more();
//       if (!starts_with_magic(bytes)) return wireframe::PreambleResult<Hello>::invalid("magic");
//       return wireframe::PreambleResult<Hello>::done(Hello{read_u16(bytes, 4)}, 6);
//     }
//   };
//
// decode() is given every byte of the preamble received so far, from its first, each time more
// arrive: it keeps no state (one decoder serves every connection, from every worker thread, so
// it must be safe to call concurrently). It answers "need more", "done: this value, the first
// `consumed` bytes" (the bytes after them belong to the codec, or to the next preamble) or
// "invalid: why". max_size() bounds what a connection buffers for it: a preamble not complete
// within that many bytes is refused (errc::preamble_too_large).

#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace wireframe {

// What one decode() found (PreambleResult<T>::Kind).
enum class PreambleStatus { need_more, done, invalid };

template <class T>
class PreambleResult {
 public:
  using Kind = PreambleStatus;

  [[nodiscard]] static PreambleResult need_more() { return PreambleResult(Kind::need_more); }
  // `consumed` > 0: the preamble's bytes, at most the bytes given to decode().
  [[nodiscard]] static PreambleResult done(T value, std::size_t consumed) {
    PreambleResult r(Kind::done);
    r.value_.emplace(std::move(value));
    r.consumed_ = consumed;
    return r;
  }
  // The bytes cannot be this preamble; `reason` goes to the log and to the failure hook.
  [[nodiscard]] static PreambleResult invalid(std::string reason) {
    PreambleResult r(Kind::invalid);
    r.reason_ = std::move(reason);
    return r;
  }

  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }
  [[nodiscard]] T& value() { return *value_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  explicit PreambleResult(Kind kind) : kind_(kind) {}
  Kind kind_;
  std::optional<T> value_;
  std::size_t consumed_ = 0;
  std::string reason_;
};

template <class D>
concept PreambleDecoder = std::copy_constructible<D> &&
    requires(const D& d, std::span<const std::byte> bytes) {
  typename D::value_type;
  requires std::copy_constructible<typename D::value_type>;  // it is kept in a std::any
  { d.decode(bytes) } -> std::same_as<PreambleResult<typename D::value_type>>;
  { d.max_size() } -> std::convertible_to<std::size_t>;
};

}  // namespace wireframe
