#pragma once
// Error and Result<T>: what the parse functions return instead of throwing. A parse function
// never throws for bad input; the reason says which rule was broken (with the section of the
// MQTT 3.1.1 standard), for the broker's log.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace mqtt {

// What the broker must do about a refused packet. Most errors are protocol violations: the
// server closes the connection without answering (4.8). A CONNECT can instead call for a
// CONNACK refusal (3.1.4), so those have codes of their own.
enum class ErrorCode : std::uint8_t {
  malformed,              // a protocol violation: close the connection (4.8)
  too_large,              // above the broker's max_packet: close the connection
  unacceptable_protocol,  // CONNECT: answer CONNACK 0x01, then close (3.1.2-2)
  identifier_rejected,    // CONNECT: answer CONNACK 0x02, then close (3.1.3-8, 3.1.3-9)
};

struct Error {
  ErrorCode code = ErrorCode::malformed;
  std::string reason;
  bool operator==(const Error&) const = default;
};

inline Error malformed(std::string reason) { return Error{ErrorCode::malformed, std::move(reason)}; }

// A value or an Error (std::expected is C++23).
template <class T>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace mqtt
