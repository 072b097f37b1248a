#pragma once
// Response<F, E>: what a handler returns. Exactly four shapes:
//   Single  one frame                      co_return reply;            (implicit from F)
//   Vec     several frames, known up front co_return std::vector<F>{...};
//   Stream  frames produced over time      co_return my_stream(...);   (see stream.hpp)
//   Empty   nothing to send                co_return Response<F>{};
// The connection stamps every frame of a response with the request's correlation id, so a
// handler never has to copy it.
//
// Response::error(e) is a Stream that fails at once: the typed way for a handler to report a
// protocol error without throwing.

#include <utility>
#include <variant>
#include <vector>

#include "wireframe/error/wireframe_error.hpp"
#include "wireframe/response/stream.hpp"

namespace wireframe {

template <class F, class E = NoProtocolError>
class Response {
 public:
  struct Single {
    F frame;
  };
  struct Vec {
    std::vector<F> frames;
  };
  using Stream = wireframe::Stream<F, E>;
  struct Empty {};

  using variant_type = std::variant<Single, Vec, Stream, Empty>;

  Response() : value_(std::in_place_type<Empty>) {}
  Response(F frame) : value_(std::in_place_type<Single>, Single{std::move(frame)}) {}
  Response(std::vector<F> frames) : value_(std::in_place_type<Vec>, Vec{std::move(frames)}) {}
  Response(Stream stream) : value_(std::in_place_type<Stream>, std::move(stream)) {}
  Response(Single s) : value_(std::move(s)) {}
  Response(Vec v) : value_(std::move(v)) {}
  Response(Empty e) : value_(e) {}

  static Response single(F frame) { return Response(std::move(frame)); }
  static Response vec(std::vector<F> frames) { return Response(std::move(frames)); }
  static Response stream(Stream s) { return Response(std::move(s)); }
  static Response empty() { return Response(); }
  static Response error(WireframeError<E> err) { return Response(Stream::failed(std::move(err))); }

  [[nodiscard]] bool is_single() const noexcept { return std::holds_alternative<Single>(value_); }
  [[nodiscard]] bool is_vec() const noexcept { return std::holds_alternative<Vec>(value_); }
  [[nodiscard]] bool is_stream() const noexcept { return std::holds_alternative<Stream>(value_); }
  [[nodiscard]] bool is_empty() const noexcept { return std::holds_alternative<Empty>(value_); }

  [[nodiscard]] variant_type& value() & noexcept { return value_; }
  [[nodiscard]] const variant_type& value() const& noexcept { return value_; }

 private:
  variant_type value_;
};

}  // namespace wireframe
