// echo_client: talks to echo_server. Sends N envelopes with message id 1, prints each frame it
// sent and received, and checks that every reply is the exact echo of its request.
// Exits 0 when all echoes match, 1 on a mismatch, an error or after 10 s, 2 on bad flags.
//
//   echo_client (--port N [--host ADDR] [tls] | --unix PATH) [--count N] [--size BYTES]
//   tls: --tls | --tls-ca FILE, and --tls-cert FILE --tls-key FILE for mutual TLS
#include <wireframe/wireframe.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "../common/example_flags.hpp"
#include "../common/run_bounded.hpp"
#include "../common/tls_flags.hpp"

using namespace wireframe;
using namespace std::chrono_literals;

namespace {

using example::parse;

constexpr std::string_view usage =
    "usage: echo_client (--port N [--host ADDR] [tls] | --unix PATH) [--count N] [--size BYTES]\n"
    "  --host ADDR     server address or name (default 127.0.0.1)\n"
    "  --port N        server port\n"
    "  --unix PATH     the server's Unix domain socket, instead of --host and --port\n"
    "  --count N       frames to send (default 3)\n"
    "  --size BYTES    payload size; the text \"hello <n> \" repeated or cut to fit\n"
    "                  (default: just \"hello <n>\")\n";

constexpr std::uint32_t echo_id = 1;
constexpr auto deadline = 10s;

std::string make_payload(unsigned long n, std::optional<unsigned long> size) {
  std::string text = "hello " + std::to_string(n);
  if (!size) return text;
  std::string out;
  out.reserve(*size);
  while (out.size() < *size) out += text + ' ';
  out.resize(*size);
  return out;
}

// One line per frame; long payloads are shortened for the terminal.
std::string describe(const Envelope& e) {
  const std::string_view text = e.payload_text();
  std::string out = "id=" + std::to_string(e.id()) +
                    " correlation=" + std::to_string(e.correlation_id()) + " payload=\"";
  if (text.size() <= 40) return out.append(text) + "\"";
  return out.append(text.substr(0, 32)) + "...\" (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", unix_path;
  std::optional<unsigned long> port, size;
  unsigned long count = 3;
  example::TlsFlags tls;
  // The Envelope header and the default codec's 8 MiB limit bound the payload.
  const unsigned long max_size =
      LengthDelimitedCodec::default_max_frame_length - Envelope::header_size;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage << example::TlsFlags::client_usage;
      return 0;
    }
    if (tls.parse_switch(flag)) continue;  // --tls takes no value
    const std::string_view value = i + 1 < argc ? argv[i + 1] : "";
    bool ok = i + 1 < argc;
    unsigned long number = 0;
    if (flag == "--host") {
      host = value;
      ok = ok && !host.empty();
    } else if (flag == "--port") {
      ok = ok && parse(value, 65535, number) && number > 0;
      port = number;
    } else if (flag == "--unix") {
      unix_path = value;
      ok = ok && !unix_path.empty();
    } else if (flag == "--count") {
      ok = ok && parse(value, 1'000'000, count);
    } else if (flag == "--size") {
      ok = ok && parse(value, max_size, number);
      size = number;
    } else if (!tls.parse(flag, value, ok)) {
      ok = false;
    }
    if (!ok) {
      std::cerr << "echo_client: bad argument '" << flag << "'\n"
                << usage << example::TlsFlags::client_usage;
      return 2;
    }
    ++i;
  }
  if (!port == unix_path.empty()) {
    std::cerr << "echo_client: one of --port and --unix is required\n"
              << usage << example::TlsFlags::client_usage;
    return 2;
  }
  if (const int status = tls.prepare_client("echo_client", !unix_path.empty())) return status;
  const std::string where =
      port ? tls.prefix() + host + ":" + std::to_string(*port) : "unix:" + unix_path;

  asio::io_context io;
  std::optional<std::string> failure;  // set on the first problem; stays empty on success
  bool finished = false;

  auto session = [&]() -> asio::awaitable<void> {
    WireframeClient<> client(io.get_executor());
    const auto tcp_port = static_cast<std::uint16_t>(port.value_or(0));
    const auto connect_error = port ? co_await tls.connect(client, host, tcp_port)
                                    : co_await client.connect_unix(unix_path);
    if (connect_error) {
      failure = "cannot connect to " + where + ": " + connect_error.message();
      co_return;
    }
    for (unsigned long n = 1; n <= count; ++n) {
      const Envelope request(echo_id, client.next_correlation_id(), make_payload(n, size));
      std::cout << "sent     " << describe(request) << '\n';
      auto [ec, reply] = co_await client.call(request);
      if (ec) {
        failure = "no reply to frame " + std::to_string(n) + ": " + ec.message();
        co_return;
      }
      std::cout << "received " << describe(reply) << '\n';
      if (reply != request) {
        failure = "frame " + std::to_string(n) + " came back different from what was sent";
        co_return;
      }
    }
    client.close();
    finished = true;
  };
  // Never hangs: whatever is still pending after the deadline is a failure.
  example::run_bounded(io, std::move(session), deadline, failure);

  if (!failure && !finished) failure = "no answer within 10 s";
  if (failure) {
    std::cerr << "echo_client: " << *failure << '\n';
    return 1;
  }
  std::cout << "ok: " << count << " frame(s) echoed intact\n";
  return 0;
}
