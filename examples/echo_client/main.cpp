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

#include "../common/cli.hpp"
#include "../common/endpoint_flags.hpp"
#include "../common/run_bounded.hpp"
#include "../common/tls_flags.hpp"

using namespace wireframe;
using namespace std::chrono_literals;

namespace {

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
  CLI::App cli("Sends envelopes to echo_server and checks that each comes back intact.",
               "echo_client");
  example::use_conventions(cli);
  example::ConnectFlags connect_flags;
  std::optional<unsigned long> size;
  unsigned long count = 3;
  example::TlsFlags tls;
  // The Envelope header and the default codec's 8 MiB limit bound the payload.
  const unsigned long max_size =
      LengthDelimitedCodec::default_max_frame_length - Envelope::header_size;
  connect_flags.add_to(cli);
  connect_flags.add_unix_to(cli);
  cli.add_option("--count", count, "frames to send")
      ->type_name("N")
      ->transform(example::decimal(0, 1'000'000));
  cli.add_option("--size", size,
                 "payload size; the text \"hello <n> \" repeated or cut to fit "
                 "(default: just \"hello <n>\")")
      ->type_name("BYTES")
      ->transform(example::decimal(0, max_size));
  tls.add_client_flags(cli);
  cli.callback([&connect_flags] {  // runs inside the parse: its error is a bad flag (status 2)
    if (!connect_flags.port && connect_flags.unix_path.empty()) {
      throw CLI::RequiredError("--port or --unix");
    }
  });
  if (const auto status = example::parse_flags(cli, argc, argv)) return *status;
  const std::string& host = connect_flags.host;
  const std::optional<std::uint16_t>& port = connect_flags.port;  // empty: over --unix
  const std::string& unix_path = connect_flags.unix_path;
  if (const int status = tls.prepare_client("echo_client", !unix_path.empty())) return status;
  const std::string where =
      port ? tls.prefix() + host + ":" + std::to_string(*port) : "unix:" + unix_path;

  asio::io_context io;
  std::optional<std::string> failure;  // set on the first problem; stays empty on success
  bool finished = false;

  auto session = [&]() -> asio::awaitable<void> {
    WireframeClient<> client(io.get_executor());
    const std::uint16_t tcp_port = port.value_or(0);
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
