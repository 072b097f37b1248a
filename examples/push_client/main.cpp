// push_client: talks to push_server (docs/push-server-protocol.md). Subscribes to a topic,
// optionally publishes one message to it (or --burst N of them, in one write), and prints every
// frame it receives: replies, MESSAGE pushes and TICKs (--quiet: only the replies and the end).
// Exits 0 once --count messages have arrived on the topic (ticks are printed, not counted), 1 on
// an error, an error frame or after 10 s, 2 on bad flags.
//
//   push_client --port N [--host ADDR] [--topic T] [--publish TEXT] [--burst N] [--count N]
//               [--quiet]
#include <wireframe/wireframe.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../common/cli.hpp"
#include "../common/endpoint_flags.hpp"
#include "../common/run_bounded.hpp"

using namespace wireframe;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t subscribe_id = 1, publish_id = 3, message_id = 100, tick_id = 101;
constexpr auto deadline = 10s;

// Reads a big-endian unsigned number from the first `width` bytes (the caller checks the size).
std::uint64_t big_endian(std::string_view bytes, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) value = value << 8 | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::string with_topic(std::string_view topic, std::string_view message) {
  std::string out{static_cast<char>(topic.size() >> 8), static_cast<char>(topic.size() & 0xff)};
  return out.append(topic).append(message);
}

// The `reached` count of a PUBLISHED reply, or nullopt if `reply` is not one.
std::optional<std::uint64_t> reached_of(std::error_code ec, const Envelope& reply) {
  if (ec || reply.id() != publish_id || reply.payload().size() != 4) return std::nullopt;
  return big_endian(reply.payload_text(), 4);
}

// Publishes `n` messages "TEXT 0" .. "TEXT n-1" in ONE write (a burst, as a fast publisher's
// pipelined requests arrive), then waits for the n replies, which come in request order.
// Returns a failure text, or nothing after printing
// "reply PUBLISHED topic=T count=N reached=R total=S": R is every reply's `reached` (MIN..MAX
// when they differ), S their sum (the deliveries).
asio::awaitable<std::optional<std::string>> publish_burst(WireframeClient<>& client,
                                                          std::string_view topic,
                                                          std::string_view text, unsigned long n) {
  std::vector<Envelope> requests;
  for (unsigned long i = 0; i < n; ++i) {
    requests.emplace_back(publish_id, client.next_correlation_id(),
                          with_topic(topic, std::string(text) + ' ' + std::to_string(i)));
  }
  const std::error_code sent = co_await client.send_all(requests);  // g++ 12: no co_await in an if
  if (sent) co_return "PUBLISH burst failed: " + sent.message();
  std::uint64_t least = UINT64_MAX, most = 0, total = 0;
  for (const Envelope& request : requests) {
    auto [ec, reply] = co_await client.receive_for(request.correlation_id());
    const auto reached = reached_of(ec, reply);
    if (!reached) co_return "PUBLISH failed: " + (ec ? ec.message() : std::string(reply.payload_text()));
    least = std::min(least, *reached);
    most = std::max(most, *reached);
    total += *reached;
  }
  std::cout << "reply PUBLISHED topic=" << topic << " count=" << n << " reached=" << least;
  if (most != least) std::cout << ".." << most;
  std::cout << " total=" << total << '\n';
  co_return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli("Subscribes to a push_server topic, publishes to it, prints what arrives.",
               "push_client");
  example::use_conventions(cli);
  example::ConnectFlags connect_flags;
  std::string topic = "news";
  std::optional<std::string> publish;
  unsigned long count = 1, burst = 1;
  bool quiet = false;
  connect_flags.add_to(cli);
  auto valid_topic = [](std::string& text) -> std::string {
    return text.empty() || text.size() > 255 ? "a topic is 1 to 255 bytes" : "";
  };
  cli.add_option("--topic", topic, "topic to subscribe and publish to")
      ->type_name("T")
      ->check(CLI::Validator(valid_topic, ""));
  cli.add_option("--publish", publish, "publish TEXT to the topic once subscribed")
      ->type_name("TEXT");
  cli.add_option("--burst", burst, "publish N messages (\"TEXT 0\" .. \"TEXT N-1\") in one write")
      ->type_name("N")
      ->transform(example::decimal(1, 1'000'000));
  cli.add_option("--count", count,
                 "messages to wait for on the topic; 0 = do not subscribe, only publish")
      ->type_name("N")
      ->transform(example::decimal(0, 1'000'000));
  cli.add_flag("--quiet", quiet, "do not print each message and tick");
  cli.callback([&] {  // runs inside the parse: its error is a bad flag (status 2)
    if (publish) return;
    if (count == 0) throw CLI::RequiresError("--count 0", "--publish");
    if (burst > 1) throw CLI::RequiresError("--burst", "--publish");
  });
  if (const auto status = example::parse_flags(cli, argc, argv)) return *status;
  const std::string& host = connect_flags.host;
  const std::uint16_t port = *connect_flags.port;  // required
  std::cout << std::unitbuf;  // one line at a time, for scripts watching the output

  asio::io_context io;
  std::optional<std::string> failure;  // set on the first problem; stays empty on success
  bool finished = false;
  unsigned long messages = 0;  // received on the topic

  auto session = [&]() -> asio::awaitable<void> {
    WireframeClient<> client(io.get_executor());
    const auto connect_error = co_await client.connect(host, port);
    if (connect_error) {
      failure =
          "cannot connect to " + host + ":" + std::to_string(port) + ": " + connect_error.message();
      co_return;
    }
    if (count > 0) {
      // Pushes that arrive before the reply wait in the client's inbox for receive() below.
      auto [ec, reply] = co_await client.call(Envelope(subscribe_id, 0, topic));
      if (ec || reply.id() != subscribe_id) {
        failure = "SUBSCRIBE failed: " + (ec ? ec.message() : std::string(reply.payload_text()));
        co_return;
      }
      std::cout << "reply SUBSCRIBED topic=" << topic << '\n';
    }
    if (publish && burst > 1) {
      failure = co_await publish_burst(client, topic, *publish, burst);
      if (failure) co_return;
    } else if (publish) {
      auto [ec, reply] = co_await client.call(Envelope(publish_id, 0, with_topic(topic, *publish)));
      const auto reached = reached_of(ec, reply);
      if (!reached) {
        failure = "PUBLISH failed: " + (ec ? ec.message() : std::string(reply.payload_text()));
        co_return;
      }
      std::cout << "reply PUBLISHED topic=" << topic << " reached=" << *reached << '\n';
    }
    while (messages < count) {
      auto [ec, frame] = co_await client.receive();
      if (ec) {
        failure = "connection lost: " + ec.message();
        co_return;
      }
      const std::string_view payload = frame.payload_text();
      if (frame.id() == message_id && payload.size() >= 2) {
        const std::size_t length = big_endian(payload, 2);
        const std::string_view text = payload.substr(2);
        if (!quiet) {
          std::cout << "push id=100 topic=" << text.substr(0, length)
                    << " message=" << text.substr(std::min(length, text.size())) << '\n';
        }
        if (text.substr(0, length) == topic) ++messages;
      } else if (frame.id() == tick_id && payload.size() == 8) {
        if (!quiet) std::cout << "tick seq=" << big_endian(payload, 8) << '\n';
      } else {
        failure = "unexpected frame id=" + std::to_string(frame.id()) + ": " + std::string(payload);
        co_return;
      }
    }
    client.close();
    finished = true;
  };
  // Never hangs: whatever is still pending after the deadline is a failure.
  example::run_bounded(io, std::move(session), deadline, failure);

  if (!failure && !finished) {
    failure = "not done within 10 s: " + std::to_string(messages) + " of " + std::to_string(count) +
              " message(s) received on " + topic;
  }
  if (failure) {
    std::cerr << "push_client: " << *failure << '\n';
    return 1;
  }
  if (count > 0) std::cout << "ok: " << count << " message(s) received on " << topic << '\n';
  return 0;
}
