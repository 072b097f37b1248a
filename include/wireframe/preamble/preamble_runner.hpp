#pragma once
// The app's preamble with its type erased: the decoder and hooks WireframeApp::with_preamble
// was given, behind an interface the connection's opening (server/connection_opening.hpp) calls
// without knowing the preamble's type. Also what the opening leaves the connection actor.

#include <any>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "wireframe/preamble/preamble_decoder.hpp"
#include "wireframe/preamble/preamble_hooks.hpp"

namespace wireframe::detail {

// One decode() of the preamble, its value as a std::any.
struct PreambleStep {
  using Kind = PreambleStatus;
  Kind kind = Kind::need_more;
  std::any value;
  std::size_t consumed = 0;
  std::string reason;
};

class PreambleRunner {
 public:
  virtual ~PreambleRunner() = default;
  [[nodiscard]] virtual std::size_t max_size() const = 0;
  // Each may throw (user code): the caller ends the connection.
  [[nodiscard]] virtual PreambleStep decode(std::span<const std::byte> bytes) const = 0;
  [[nodiscard]] virtual PreambleAction on_success(const std::any& value,
                                                  PreambleReply& reply) const = 0;
  virtual void on_failure(const PreambleFailure& failure, PreambleReply& reply) const = 0;
};

template <PreambleDecoder D, class Success, class Failure>
class TypedPreambleRunner final : public PreambleRunner {
  using T = typename D::value_type;

 public:
  TypedPreambleRunner(D decoder, Success success, Failure failure)
      : decoder_(std::move(decoder)), success_(std::move(success)), failure_(std::move(failure)) {}

  std::size_t max_size() const override { return decoder_.max_size(); }

  PreambleStep decode(std::span<const std::byte> bytes) const override {
    PreambleResult<T> r = decoder_.decode(bytes);
    PreambleStep step;
    step.kind = r.kind();
    step.consumed = r.consumed();
    step.reason = r.reason();
    if (r.kind() == PreambleResult<T>::Kind::done) step.value = std::move(r.value());
    return step;
  }

  PreambleAction on_success(const std::any& value, PreambleReply& reply) const override {
    const T& preamble = *std::any_cast<T>(&value);
    if constexpr (std::is_void_v<std::invoke_result_t<const Success&, const T&, PreambleReply&>>) {
      success_(preamble, reply);
      return PreambleAction::proceed;
    } else {
      return success_(preamble, reply);
    }
  }

  void on_failure(const PreambleFailure& failure, PreambleReply& reply) const override {
    failure_(failure, reply);
  }

 private:
  D decoder_;
  Success success_;
  Failure failure_;
};

// What a connection's opening leaves its actor: the preamble (for ConnectionContext::preamble)
// and the bytes read after it, which are the actor's first input.
struct ConnectionPrelude {
  std::vector<std::byte> leftover;
  std::any preamble;
};

}  // namespace wireframe::detail
