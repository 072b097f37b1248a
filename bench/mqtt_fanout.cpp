// mqtt_fanout: a fan-out load generator for MQTT 3.1.1 brokers (bench/run_mqtt_fanout.sh runs it
// against examples/mqtt_broker and Debian's mosquitto).
//
// N subscribers connect (clean session) and subscribe to "<prefix>/#"; then M publishers connect
// and publish to "<prefix>/<publisher index>", R messages/s together (0: as fast as the broker
// takes them), for warmup + duration seconds. Every payload starts with its send time
// (steady_clock ns) and a sequence number (publisher index << 48 | count), so a subscriber
// measures end-to-end latency, and notices a duplicate or a reordering, without sharing state
// with the publishers. A message counts when it was sent in the measured window (after the
// warmup), whenever it arrives: so `delivered` compares exactly with expected = sent *
// subscribers. At QoS 1 a publisher keeps at most --window PUBLISHes unacknowledged and the
// subscribers PUBACK every delivery.
//
// Output: one line of key=value pairs on stdout:
//   sent, delivered, expected, lost  messages sent in the window; their deliveries that arrived
//                       by --drain (2) s after it; sent * subscribers; expected - delivered:
//                       dropped by the broker, or still queued in it (at --rate 0 MQTT has no flow
//                       control from subscribers to publishers, and a broker may queue what it
//                       cannot deliver)
//   msgs_per_s          deliveries that arrived during the window (whenever sent), per second: the
//                       broker's delivery rate, also when it falls behind
//   received_total      every delivery of the run, warmup and stragglers too (CPU per delivery)
//   p50_us .. max_us    end-to-end latency of the deliveries counted in `delivered`
//   gaps                deliveries skipped in a publisher's sequence: dropped by the broker
//                       (whole run, warmup included)
//   out_of_order        deliveries older than one already seen from their publisher (4.6
//                       forbids it)
//   errors              connections that failed after the setup
// Exit status 1 when the setup (connecting, subscribing) takes over 10 s or a connection fails
// (the line is still printed then), 2 for a bad flag. Every wait is bounded: the main thread
// watches the phases against deadlines.
//
// At --rate 0 the publishers send as fast as the broker takes it, but with at most --max-lag
// messages on their way to the average subscriber (mqtt_fanout/client.cpp, lag_room, says why):
// that is a throughput case, its latency is the time --max-lag messages take to deliver. A fixed
// --rate is bounded the same way, so a broker that cannot keep up shows as sent < rate *
// duration rather than as ever-growing queues. The clients are in mqtt_fanout/client.{hpp,cpp}.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "../examples/common/cli.hpp"
#include "mqtt_fanout/client.hpp"
#include "common/histogram.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

namespace {

using namespace mqtt_fanout;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto setup_timeout =
    std::chrono::seconds(10);  // for the subscribers, then the publishers
constexpr auto goodbye_wait = std::chrono::seconds(2);
constexpr std::size_t handshakes_per_worker =
    32;  // connects under way at once (the accept backlog)

// Runs the handshakes of clients[first], clients[first + step], ... one after the other, and
// starts each one's read loop.
asio::awaitable<void> connector(Worker* w, std::vector<Client*>* clients, std::size_t first,
                                std::size_t step, tcp::endpoint ep) {
  for (std::size_t i = first; i < clients->size(); i += step) {
    Client* c = (*clients)[i];
    co_await c->handshake(ep);
    asio::co_spawn(w->ctx, c->read_loop(), asio::detached);
  }
}

void start_handshakes(Worker& w, std::vector<Client*>& clients, tcp::endpoint ep) {
  const std::size_t step = std::min(handshakes_per_worker, clients.size());
  for (std::size_t first = 0; first < step; ++first) {
    asio::co_spawn(w.ctx, connector(&w, &clients, first, step, ep), asio::detached);
  }
}

// Keep-alive (3.1.2.10): a QoS 0 subscriber sends nothing, so a run longer than 1.5 times the
// 60 s keep-alive would be disconnected without these.
asio::awaitable<void> ping_loop(Worker* w) {
  asio::steady_timer timer(w->ctx);
  for (;;) {
    timer.expires_after(std::chrono::seconds(30));
    co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    for (auto& c : w->clients) c->ping();
  }
}

std::uint64_t total(const std::vector<std::unique_ptr<Worker>>& workers, Counter Worker::*counter) {
  std::uint64_t sum = 0;
  for (const auto& w : workers) sum += ((*w).*counter).load(std::memory_order_relaxed);
  return sum;
}

// Polls until done() or the deadline; true if done() held.
template <class F>
bool wait_for(F done, Clock::time_point deadline) {
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void raise_fd_limit(std::uint64_t needed) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  lim.rlim_cur = lim.rlim_max;
  (void)setrlimit(RLIMIT_NOFILE, &lim);
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < needed) {
    fatal("needs " + std::to_string(needed) + " file descriptors, the limit is " +
          std::to_string(lim.rlim_cur));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app(
      "Fan-out load generator for MQTT 3.1.1 brokers: N subscribers to <prefix>/#, M publishers.",
      "mqtt_fanout");
  example::use_conventions(app);
  app.add_option("--host", o.host, "broker address")->check(example::non_empty());
  app.add_option("--port", o.port, "broker port")
      ->required()
      ->type_name("N")
      ->transform(example::decimal(1, 65535));
  app.add_option("--subscribers", o.subscribers, "subscriber connections")
      ->type_name("N")
      ->transform(example::decimal(1, 60000));
  app.add_option("--publishers", o.publishers, "publisher connections")
      ->type_name("M")
      ->transform(example::decimal(1, 65535));
  app.add_option("--rate", o.rate, "messages/s over all publishers (0: as fast as possible)")
      ->type_name("R")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--duration", o.duration, "measured seconds")
      ->type_name("S")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--warmup", o.warmup, "seconds before the measured window (not counted)")
      ->type_name("S")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--qos", o.qos, "QoS of subscriptions and PUBLISHes")
      ->type_name("0|1")
      ->transform(example::decimal(0, 1));
  app.add_option("--payload", o.payload, "payload bytes (timestamp and sequence number first)")
      ->type_name("BYTES")
      ->transform(example::decimal(16, 1 << 20));
  app.add_option("--topic-prefix", o.prefix, "topics are <prefix>/<publisher index>")
      ->check(example::non_empty());
  app.add_option("--drain", o.drain,
                 "seconds to wait for the deliveries still on their way after the window")
      ->type_name("S")
      ->check(CLI::Range(0.0, 600.0));
  app.add_option("--window", o.window, "QoS 1: unacknowledged PUBLISHes per publisher")
      ->type_name("N")
      ->transform(example::decimal(1, 65535));
  app.add_option(
         "--max-lag", o.max_lag,
         "messages on their way to the average subscriber, over all publishers (0: no bound)")
      ->type_name("N")
      ->transform(example::decimal(0, 1000000));
  app.add_option("--threads", o.threads, "client threads (one io_context each)")
      ->type_name("N")
      ->transform(example::decimal(1, 64));
  if (const auto status = example::parse_flags(app, argc, argv)) return *status;
  if (o.prefix.find_first_of("#+") != std::string::npos)
    fatal("--topic-prefix may not hold a wildcard");
  raise_fd_limit(std::uint64_t{o.subscribers} + o.publishers + 64);

  tcp::endpoint ep;
  {
    asio::io_context resolver_ctx;
    tcp::resolver resolver(resolver_ctx);
    asio::error_code ec;
    auto found = resolver.resolve(o.host, std::to_string(o.port), ec);
    if (ec || found.empty()) fatal("cannot resolve " + o.host + ": " + ec.message());
    ep = *found.begin();
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < o.threads; ++t)
    workers.push_back(std::make_unique<Worker>(o.publishers));
  for (unsigned i = 0; i < o.subscribers + o.publishers; ++i) {
    const bool publisher = i >= o.subscribers;
    const unsigned index = publisher ? i - o.subscribers : i;
    Worker& w = *workers[index % o.threads];
    w.clients.push_back(std::make_unique<Client>(w, workers, o, publisher, index));
    (publisher ? w.publishers : w.subscribers).push_back(w.clients.back().get());
  }
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& w : workers) {
    guards.push_back(asio::make_work_guard(w->ctx));
    asio::co_spawn(w->ctx, ping_loop(w.get()), asio::detached);
    w->thread = std::thread([&ctx = w->ctx] { ctx.run(); });
  }

  // Subscribers first, all subscribed before anything is published; then the publishers.
  for (auto& w : workers)
    asio::post(w->ctx, [&w = *w, ep] { start_handshakes(w, w.subscribers, ep); });
  const auto ready = [&](std::uint64_t n) {
    return [&workers, n] { return total(workers, &Worker::ready) >= n; };
  };
  if (!wait_for(ready(o.subscribers), Clock::now() + setup_timeout)) {
    fatal(std::to_string(total(workers, &Worker::ready)) + " of " + std::to_string(o.subscribers) +
          " subscribers connected and subscribed within 10 s");
  }
  for (auto& w : workers)
    asio::post(w->ctx, [&w = *w, ep] { start_handshakes(w, w.publishers, ep); });
  if (!wait_for(ready(std::uint64_t{o.subscribers} + o.publishers), Clock::now() + setup_timeout)) {
    fatal(std::to_string(total(workers, &Worker::ready) - o.subscribers) + " of " +
          std::to_string(o.publishers) + " publishers connected within 10 s");
  }

  const std::int64_t t0 = now_ns();
  const auto seconds_ns = [](double s) { return static_cast<std::int64_t>(s * 1e9); };
  g_window_start = t0 + seconds_ns(o.warmup);
  g_window_end = t0 + seconds_ns(o.warmup + o.duration);
  const double rate_each = o.rate / o.publishers;
  for (auto& w : workers) {
    asio::post(w->ctx, [&w = *w, t0, rate_each] {
      for (Client* c : w.publishers)
        asio::co_spawn(w.ctx, c->publish_loop(t0, rate_each), asio::detached);
    });
  }
  // Publishers stop at the window's end (their waits end there); then the stragglers.
  const auto end = Clock::time_point(std::chrono::nanoseconds(g_window_end.load()));
  if (!wait_for([&] { return total(workers, &Worker::publishers_done) == o.publishers; },
                end + std::chrono::seconds(2))) {
    fatal("publishers did not stop within 2 s of the window's end");
  }
  const std::uint64_t expected = total(workers, &Worker::sent) * o.subscribers;
  wait_for([&] { return total(workers, &Worker::delivered) >= expected; },
           Clock::now() + std::chrono::nanoseconds(static_cast<std::int64_t>(o.drain * 1e9)));

  for (auto& w : workers) {
    asio::post(w->ctx, [&w = *w] {
      for (auto& c : w.clients) c->say_goodbye();
    });
  }
  const std::uint64_t clients = std::uint64_t{o.subscribers} + o.publishers;
  wait_for([&] { return total(workers, &Worker::closed) >= clients; }, Clock::now() + goodbye_wait);
  for (auto& w : workers) {
    w->ctx.stop();
    w->thread.join();
  }

  Histogram latency;
  for (auto& w : workers) latency.merge(w->latency_ns);
  const std::uint64_t sent = total(workers, &Worker::sent),
                      delivered = total(workers, &Worker::delivered);
  const std::uint64_t errors = total(workers, &Worker::errors);
  const auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  std::printf(
      "subscribers=%u publishers=%u qos=%u payload=%u rate=%.0f max_lag=%u duration=%.3f sent=%llu "
      "delivered=%llu expected=%llu "
      "lost=%lld msgs_per_s=%.0f received_total=%llu p50_us=%.1f p99_us=%.1f p999_us=%.1f "
      "max_us=%.1f "
      "gaps=%llu out_of_order=%llu errors=%llu\n",
      o.subscribers, o.publishers, o.qos, o.payload, o.rate, o.max_lag, o.duration,
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(delivered),
      static_cast<unsigned long long>(expected),
      static_cast<long long>(expected) - static_cast<long long>(delivered),
      static_cast<double>(total(workers, &Worker::in_window)) / o.duration,
      static_cast<unsigned long long>(total(workers, &Worker::received)), us(latency.quantile(0.5)),
      us(latency.quantile(0.99)), us(latency.quantile(0.999)), us(latency.max()),
      static_cast<unsigned long long>(total(workers, &Worker::gaps)),
      static_cast<unsigned long long>(total(workers, &Worker::out_of_order)),
      static_cast<unsigned long long>(errors));
  std::fflush(stdout);
  return errors > 0 ? 1 : 0;
}
