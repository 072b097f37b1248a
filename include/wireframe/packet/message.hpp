#pragma once
// Typed messages: the customisation point that turns a user type into payload bytes and back,
// so handlers can take and return their own types instead of bytes.
//
// Specialise wireframe::message_traits<T> with
//     static void encode(const T& value, std::vector<std::byte>& out);   // append to out
//     static std::error_code decode(std::span<const std::byte> in, T& value);
// decode must reject input that is not exactly one T (return errc::malformed_message).
// Shipped: std::string (raw bytes), std::vector<std::byte> (raw bytes), and every integral type
// but bool (fixed width, big-endian).

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "wireframe/error/errc.hpp"

namespace wireframe {

template <class T>
struct message_traits;  // primary template intentionally undefined

template <class T>
concept Message = requires(const T& v, T& out, std::vector<std::byte>& buf,
                           std::span<const std::byte> in) {
  message_traits<T>::encode(v, buf);
  { message_traits<T>::decode(in, out) } -> std::same_as<std::error_code>;
};

template <>
struct message_traits<std::string> {
  static void encode(const std::string& v, std::vector<std::byte>& out) {
    const auto* p = reinterpret_cast<const std::byte*>(v.data());
    out.insert(out.end(), p, p + v.size());
  }
  static std::error_code decode(std::span<const std::byte> in, std::string& v) {
    v.assign(reinterpret_cast<const char*>(in.data()), in.size());
    return {};
  }
};

template <>
struct message_traits<std::vector<std::byte>> {
  static void encode(const std::vector<std::byte>& v, std::vector<std::byte>& out) {
    out.insert(out.end(), v.begin(), v.end());
  }
  static std::error_code decode(std::span<const std::byte> in, std::vector<std::byte>& v) {
    v.assign(in.begin(), in.end());
    return {};
  }
};

// bool is excluded: its width and encoding are a protocol decision (and make_unsigned<bool> is
// ill-formed), so a bool payload needs an explicit specialisation.
template <std::integral T>
  requires(!std::same_as<T, bool>)
struct message_traits<T> {
  static void encode(T v, std::vector<std::byte>& out) {
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    for (std::size_t i = sizeof(T); i-- > 0;) out.push_back(static_cast<std::byte>(u >> (8 * i)));
  }
  static std::error_code decode(std::span<const std::byte> in, T& v) {
    if (in.size() != sizeof(T)) return errc::malformed_message;
    std::make_unsigned_t<T> u = 0;
    for (std::byte b : in) {
      u = static_cast<std::make_unsigned_t<T>>((static_cast<std::uint64_t>(u) << 8) | std::to_integer<unsigned>(b));
    }
    v = static_cast<T>(u);
    return {};
  }
};

// Convenience wrappers used by Envelope and typed routes.
template <Message T>
void encode_message(const T& value, std::vector<std::byte>& out) {
  message_traits<T>::encode(value, out);
}

template <Message T>
std::error_code decode_message(std::span<const std::byte> in, T& value) {
  return message_traits<T>::decode(in, value);
}

}  // namespace wireframe
