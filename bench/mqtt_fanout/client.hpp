#pragma once
// mqtt_fanout's clients (bench/mqtt_fanout.cpp says what the program measures): one class for
// both roles, a subscriber or a publisher on one TCP connection, and the worker (a thread with
// its io_context) that runs a share of them. A client is only ever touched by its worker's
// thread; the main thread reads the workers' counters, which are atomics for that reason.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "mqtt/framing.hpp"
#include "mqtt/packets.hpp"
#include "common/histogram.hpp"

#include <asio.hpp>

namespace mqtt_fanout {

using bench::Histogram;

struct Options {
  std::string host = "127.0.0.1";
  unsigned port = 0;
  unsigned subscribers = 100;
  unsigned publishers = 4;
  double rate = 0;  // total messages/s; 0 = as fast as possible
  double duration = 10;
  double warmup = 1;
  double drain = 2;  // seconds to wait for stragglers after the window
  unsigned qos = 0;
  unsigned payload = 64;
  std::string prefix = "bench";
  unsigned window = 100;   // QoS 1: PUBLISHes awaiting PUBACK per publisher
  unsigned max_lag = 100;  // messages on their way to the average subscriber; 0: no bound
  unsigned threads = 1;
};

[[noreturn]] void fatal(const std::string& message);
std::int64_t now_ns();  // steady_clock, in ns: the payload's timestamp

// The measured window in now_ns() time, set by the main thread before anything is published.
extern std::atomic<std::int64_t> g_window_start, g_window_end;

// Written by one worker's thread only (so a relaxed load and store, no locked add), read by the
// main thread and by other workers' publishers (progress).
using Counter = std::atomic<std::uint64_t>;
inline void bump(Counter& c, std::uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

class Client;

// Members in this order so that the clients (and their sockets) go before the io_context.
struct Worker {
  explicit Worker(unsigned publishers) : progress(publishers) {}
  asio::io_context ctx{1};
  Histogram latency_ns;  // deliveries counted in `delivered`; read by main after the join
  Counter ready{0};      // clients through their handshake
  Counter sent{0}, delivered{0}, in_window{0}, received{0}, gaps{0}, out_of_order{0}, errors{0};
  Counter publishers_done{0}, closed{0};
  // Per publisher: the sum over this worker's subscribers of the newest sequence number each
  // has received from it. Publishers compare it with their own count (Options::max_lag).
  std::vector<Counter> progress;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<Client*> subscribers, publishers;
  std::thread thread;
};

class Client {
 public:
  // `workers`: all of them (a publisher reads every worker's progress).
  Client(Worker& w, const std::vector<std::unique_ptr<Worker>>& workers, const Options& o,
         bool publisher, unsigned index);

  // TCP connect, CONNECT / CONNACK and, for a subscriber, SUBSCRIBE / SUBACK; exits the
  // program if the broker refuses. Then read_loop() until the connection ends.
  asio::awaitable<void> handshake(asio::ip::tcp::endpoint ep);
  asio::awaitable<void> read_loop();
  // Publishes from t0 (now_ns() time) until the measured window ends, `rate` messages/s (0: as
  // fast as the window, the unwritten bytes and the lag allow).
  asio::awaitable<void> publish_loop(std::int64_t t0, double rate);

  void ping();         // PINGREQ (keep-alive)
  void say_goodbye();  // DISCONNECT, then half-close: the broker's close ends read_loop()
  void nudge();        // wakes a publisher that waits for its subscribers to catch up

 private:
  std::span<const std::byte> unread() const { return {rbuf_.data() + rpos_, rlen_ - rpos_}; }
  asio::awaitable<bool> read_more();
  asio::awaitable<mqtt::Frame> next_frame();
  asio::awaitable<void> write_out();
  void on_packet(const mqtt::Frame& frame, std::int64_t now, std::int64_t window_start,
                 std::int64_t window_end);
  void on_publish(const mqtt::Frame& frame, std::int64_t now, std::int64_t window_start,
                  std::int64_t window_end);
  std::uint64_t lag_room(std::uint64_t count) const;
  std::uint16_t take_packet_id();
  void flush();
  void fail(const std::string& what);

  Worker& w_;
  const std::vector<std::unique_ptr<Worker>>& workers_;
  const Options& o_;
  const bool publisher_;
  const unsigned index_;
  std::string id_;
  asio::ip::tcp::socket sock_;
  asio::steady_timer wake_;  // a publisher's wait, cancelled to end it early
  std::vector<std::byte> rbuf_;
  std::size_t rpos_ = 0, rlen_ = 0;  // rbuf_[rpos_, rlen_) is not decoded yet
  mqtt::Bytes out_, wbuf_;           // to write next; being written
  bool ready_ = false, writing_ = false, closing_ = false, dead_ = false, lag_blocked_ = false;
  std::vector<std::uint64_t> last_seq_;  // subscriber: per publisher, the newest count seen
  std::vector<bool> in_flight_ids_;      // publisher, QoS 1: packet ids awaiting PUBACK
  unsigned in_flight_ = 0;
  std::uint16_t next_id_ = 0;
};

}  // namespace mqtt_fanout
