#pragma once
// The preamble the preamble tests speak: "WF", a version byte, a name length byte, the name.
// Its hooks answer by version:
//   1  "OK", proceed           0  "N", read_next (a refused probe)
//   7  TLS wanted: "S" and upgrade_tls where it can start, else "N" and read_next
//   8  upgrade_tls regardless (a hook that asks for what the listener cannot do)
//   9  "BYE", close            66 the hook throws
// A refused preamble is answered "ERR <reason>". Route 2 answers "<name>" or "<name>+tls".

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <wireframe/wireframe.hpp>

namespace wireframe::test {

struct Hello {
  std::uint8_t version = 0;
  std::string name;
};

struct HelloDecoder {
  using value_type = Hello;
  std::size_t max = 64;

  [[nodiscard]] std::size_t max_size() const { return max; }
  [[nodiscard]] PreambleResult<Hello> decode(std::span<const std::byte> b) const {
    if ((!b.empty() && b[0] != std::byte{'W'}) || (b.size() > 1 && b[1] != std::byte{'F'})) {
      return PreambleResult<Hello>::invalid("bad magic");
    }
    if (b.size() < 4) return PreambleResult<Hello>::need_more();
    const std::size_t len = std::to_integer<std::size_t>(b[3]);
    if (b.size() < 4 + len) return PreambleResult<Hello>::need_more();
    Hello h;
    h.version = std::to_integer<std::uint8_t>(b[2]);
    for (std::size_t i = 0; i < len; ++i) h.name += static_cast<char>(b[4 + i]);
    return PreambleResult<Hello>::done(std::move(h), 4 + len);
  }
};

inline std::vector<std::byte> hello_bytes(std::uint8_t version, std::string_view name) {
  std::vector<std::byte> out{std::byte{'W'}, std::byte{'F'}, std::byte{version},
                             static_cast<std::byte>(name.size())};
  for (char c : name) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline PreambleAction answer_hello(const Hello& hello, PreambleReply& reply) {
  switch (hello.version) {
    case 1: reply.write("OK"); return PreambleAction::proceed;
    case 0: reply.write("N"); return PreambleAction::read_next;
    case 7:
      if (!reply.tls_available()) {
        reply.write("N");
        return PreambleAction::read_next;
      }
      reply.write("S");
      return PreambleAction::upgrade_tls;
    case 8: return PreambleAction::upgrade_tls;
    case 9: reply.write("BYE"); return PreambleAction::close;
    case 66: throw std::runtime_error("hello hook boom");
    default: return PreambleAction::close;
  }
}

inline void refuse_hello(const PreambleFailure& failure, PreambleReply& reply) {
  reply.write("ERR " + failure.reason);
}

// An app speaking Hello: route 1 echoes, route 2 says who the preamble named.
inline WireframeApp<> hello_app(HelloDecoder decoder = {}) {
  WireframeApp<> app;
  app.with_preamble(decoder, answer_hello, refuse_hello)
      .route(1, [](Envelope& r) -> Response<Envelope> { return std::move(r); })
      .route(2, [](Envelope& r, ConnectionContext& ctx) -> Response<Envelope> {
        const Hello* hello = ctx.preamble<Hello>();
        std::string who = hello != nullptr ? hello->name : "<none>";
        if (ctx.tls() != nullptr) who += "+tls";
        return Envelope(2, r.correlation_id(), std::string_view(who));
      });
  return app;
}

// `bytes` as text (a preamble's reply).
inline std::string text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Sends `preamble` and reads exactly `reply_size` bytes back (empty on error).
inline asio::awaitable<std::string> exchange(WireframeClient<>& client,
                                             std::vector<std::byte> preamble,
                                             std::size_t reply_size) {
  if (co_await client.send_bytes(preamble)) co_return std::string{};
  std::vector<std::byte> reply(reply_size);
  if (co_await client.receive_bytes(reply)) co_return std::string{};
  co_return text_of(reply);
}

// Who route 2 says the connection is.
inline asio::awaitable<std::string> whoami(WireframeClient<>& client) {
  auto [ec, r] = co_await client.call(Envelope(2, 0, std::vector<std::byte>{}));
  if (ec) co_return "error: " + ec.message();
  co_return r.payload_text();
}

}  // namespace wireframe::test
