// mqtt_fanout's clients: the handshake, the read loop of both roles, the publish loop.

#include "mqtt_fanout/client.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>

namespace mqtt_fanout {

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

constexpr std::size_t max_packet = 1 << 21;
constexpr std::uint64_t max_batch = 32;  // PUBLISHes a publisher encodes per turn
constexpr std::size_t max_unwritten =
    64 * 1024;  // ...while fewer bytes than this wait to be written
constexpr auto lag_poll = std::chrono::milliseconds(1);  // for subscribers on other workers
constexpr std::uint64_t seq_mask = (std::uint64_t{1} << 48) - 1;

std::atomic<int> g_failures_logged{0};

}  // namespace

std::atomic<std::int64_t> g_window_start{std::numeric_limits<std::int64_t>::max()};
std::atomic<std::int64_t> g_window_end{std::numeric_limits<std::int64_t>::max()};

void fatal(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "mqtt_fanout: %s\n", message.c_str());
  std::_Exit(1);
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

Client::Client(Worker& w, const std::vector<std::unique_ptr<Worker>>& workers, const Options& o,
               bool publisher, unsigned index)
    : w_(w),
      workers_(workers),
      o_(o),
      publisher_(publisher),
      index_(index),
      sock_(w.ctx),
      wake_(w.ctx),
      rbuf_(64 * 1024),
      last_seq_(publisher ? 0 : o.publishers, 0),
      in_flight_ids_(publisher ? 65536 : 0) {
  // Short (3.1.3.1 only promises 23 characters) and distinct from another run's.
  id_ = std::string(publisher ? "pub-" : "sub-") + std::to_string(getpid()) + "-" +
        std::to_string(index);
}

asio::awaitable<void> Client::handshake(tcp::endpoint ep) {
  auto [ec] = co_await sock_.async_connect(ep, nothrow);
  if (ec) fatal(id_ + ": connect: " + ec.message());
  sock_.set_option(tcp::no_delay(true), ec);
  mqtt::Connect connect;  // clean session by default
  connect.client_id = id_;
  connect.keep_alive = 60;
  mqtt::encode(connect, out_);
  co_await write_out();
  auto frame = co_await next_frame();
  const auto connack = mqtt::parse_connack(frame.body);
  if (frame.type != mqtt::PacketType::connack || !connack ||
      connack->return_code != mqtt::ConnectReturnCode::accepted) {
    fatal(id_ + ": CONNECT refused, or answered with something else than CONNACK");
  }
  if (!publisher_) {
    mqtt::Subscribe subscribe;
    subscribe.packet_id = 1;
    subscribe.topics.push_back({o_.prefix + "/#", static_cast<mqtt::QoS>(o_.qos)});
    mqtt::encode(subscribe, out_);
    co_await write_out();
    frame = co_await next_frame();
    const auto suback = mqtt::parse_suback(frame.body);
    if (frame.type != mqtt::PacketType::suback || !suback || suback->return_codes.size() != 1 ||
        suback->return_codes[0] == mqtt::SubackCode::failure) {
      fatal(id_ + ": SUBSCRIBE refused, or answered with something else than SUBACK");
    }
  }
  ready_ = true;
  bump(w_.ready);
}

asio::awaitable<void> Client::read_loop() {
  std::int64_t now = now_ns();  // one clock read per read: when these bytes arrived
  for (;;) {
    const std::int64_t window_start = g_window_start.load(std::memory_order_relaxed);
    const std::int64_t window_end = g_window_end.load(std::memory_order_relaxed);
    for (;;) {
      const auto result = mqtt::decode_frame(unread(), max_packet);
      if (const auto* error = std::get_if<mqtt::Error>(&result)) {
        fail("undecodable packet from the broker: " + error->reason);
        break;
      }
      const auto* frame = std::get_if<mqtt::Frame>(&result);
      if (frame == nullptr) break;  // NeedMore
      on_packet(*frame, now, window_start, window_end);
      rpos_ += frame->size;
    }
    flush();  // this read's PUBACKs, in one write
    if (!publisher_) {
      for (Client* p : w_.publishers) p->nudge();
    }
    if (dead_ || !co_await read_more()) break;
    now = now_ns();
  }
  bump(w_.closed);
}

// Appends what the socket has to the unread bytes (moved to the front first; the buffer grows
// when a packet does not fit). False at the end of the connection.
asio::awaitable<bool> Client::read_more() {
  std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rlen_ - rpos_);
  rlen_ -= rpos_;
  rpos_ = 0;
  if (rlen_ == rbuf_.size()) rbuf_.resize(std::min(2 * rbuf_.size(), max_packet));
  auto [ec, n] = co_await sock_.async_read_some(
      asio::buffer(rbuf_.data() + rlen_, rbuf_.size() - rlen_), nothrow);
  if (ec) {
    if (!closing_) fail("read: " + ec.message());
    co_return false;
  }
  rlen_ += n;
  co_return true;
}

// The next whole packet, for the handshake (where nothing else arrives): a view into rbuf_,
// valid until the next read.
asio::awaitable<mqtt::Frame> Client::next_frame() {
  for (;;) {
    const auto result = mqtt::decode_frame(unread(), max_packet);
    if (const auto* frame = std::get_if<mqtt::Frame>(&result)) {
      rpos_ += frame->size;
      co_return *frame;
    }
    if (std::holds_alternative<mqtt::Error>(result))
      fatal(id_ + ": undecodable packet from the broker");
    if (!co_await read_more())
      fatal(id_ + ": the broker closed the connection during the handshake");
  }
}

asio::awaitable<void> Client::write_out() {
  auto [ec, n] = co_await asio::async_write(sock_, asio::buffer(out_), nothrow);
  if (ec) fatal(id_ + ": write: " + ec.message());
  out_.clear();
}

void Client::on_packet(const mqtt::Frame& frame, std::int64_t now, std::int64_t window_start,
                       std::int64_t window_end) {
  if (frame.type == mqtt::PacketType::publish && !publisher_) {
    on_publish(frame, now, window_start, window_end);
  } else if (frame.type == mqtt::PacketType::puback && publisher_) {
    const auto id = mqtt::parse_packet_id_body(frame.body);
    if (!id || !in_flight_ids_[*id]) return fail("PUBACK for a packet id that is not in flight");
    in_flight_ids_[*id] = false;
    --in_flight_;
    wake_.cancel();
  } else if (frame.type != mqtt::PacketType::pingresp) {
    fail("unexpected packet type " + std::to_string(static_cast<int>(frame.type)));
  }
}

// Read in place rather than with mqtt::parse_publish, which copies topic and payload: the
// subscribers must not cost the load generator more than the deliveries cost the broker.
void Client::on_publish(const mqtt::Frame& frame, std::int64_t now, std::int64_t window_start,
                        std::int64_t window_end) {
  const std::byte* body = frame.body.data();
  const auto u16 = [body](std::size_t at) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(body[at]) << 8) |
                                      std::to_integer<unsigned>(body[at + 1]));
  };
  const unsigned qos = (frame.flags >> 1) & 3u;
  if (frame.body.size() < 2) return fail("PUBLISH without a topic");
  const std::size_t topic_end = 2 + std::size_t{u16(0)};
  const std::size_t payload_at = topic_end + (qos > 0 ? 2 : 0);
  if (qos > 1 || frame.body.size() < payload_at + 16)
    return fail("a PUBLISH that mqtt_fanout did not send");
  if (qos == 1 && !closing_)
    mqtt::encode(mqtt::PubAck{u16(topic_end)}, out_);  // none after DISCONNECT
  std::int64_t stamp = 0;
  std::uint64_t seq = 0;
  std::memcpy(&stamp, body + payload_at, 8);
  std::memcpy(&seq, body + payload_at + 8, 8);
  const std::uint64_t publisher = seq >> 48, count = seq & seq_mask;
  if (publisher >= last_seq_.size()) return fail("a PUBLISH from an unknown publisher");
  // A broker delivers each topic's messages in order (4.6): an older or repeated one is a fault.
  if (count <= last_seq_[publisher]) {
    bump(w_.out_of_order);
  } else {
    // What a subscriber skipped was dropped by the broker: it is not lag.
    if (count > last_seq_[publisher] + 1) bump(w_.gaps, count - last_seq_[publisher] - 1);
    bump(w_.progress[publisher], count - last_seq_[publisher]);
    last_seq_[publisher] = count;
  }
  bump(w_.received);
  if (now >= window_start && now < window_end) bump(w_.in_window);
  if (stamp < window_start || stamp >= window_end) return;  // sent in the warmup
  bump(w_.delivered);
  w_.latency_ns.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - stamp)));
}

asio::awaitable<void> Client::publish_loop(std::int64_t t0, double rate) {
  mqtt::Publish msg;
  msg.qos = static_cast<mqtt::QoS>(o_.qos);
  msg.topic = o_.prefix + "/" + std::to_string(index_);
  msg.payload.resize(o_.payload);
  const std::int64_t start = g_window_start.load(), end = g_window_end.load();
  std::uint64_t count = 0;
  for (std::int64_t now = now_ns(); now < end && !dead_; now = now_ns()) {
    std::uint64_t n = max_batch;
    std::int64_t wait_until = end;
    if (rate > 0) {  // message k is due at t0 + k / rate; after a stall, catch up in batches
      const auto due = static_cast<std::uint64_t>(static_cast<double>(now - t0) * rate / 1e9) + 1;
      n = std::min(n, due - std::min(due, count));
      if (n == 0)
        wait_until =
            std::min(end, t0 + static_cast<std::int64_t>(static_cast<double>(count) * 1e9 / rate));
    }
    if (o_.qos == 1) n = std::min<std::uint64_t>(n, o_.window - in_flight_);
    if (out_.size() >= max_unwritten) n = 0;
    const std::uint64_t room = lag_room(count);
    lag_blocked_ = room == 0;
    if (lag_blocked_)
      wait_until = std::min(wait_until, now + std::chrono::nanoseconds(lag_poll).count());
    n = std::min(n, room);
    if (n == 0) {  // until the deadline, a PUBACK, a finished write or a subscriber's read (nudge)
      wake_.expires_at(Clock::time_point(std::chrono::nanoseconds(wait_until)));
      co_await wake_.async_wait(nothrow);
      continue;
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t seq = (std::uint64_t{index_} << 48) | ++count;
      std::memcpy(msg.payload.data(), &now, 8);
      std::memcpy(msg.payload.data() + 8, &seq, 8);
      if (o_.qos == 1) msg.packet_id = take_packet_id();
      mqtt::encode(msg, out_);
    }
    if (now >= start) bump(w_.sent, n);
    flush();
  }
  lag_blocked_ = false;
  bump(w_.publishers_done);
}

// How many more messages this publisher may send before its share of --max-lag (an equal part
// of it, at least 1) is on its way to its average subscriber. Without such a bound, "as fast as
// possible" at QoS 0 (which has no flow control from subscribers back to publishers) fills the
// broker's queues and the socket buffers, and the latency measures their size. Progress is
// counted in sequence numbers, so what a broker drops does not count as lag.
std::uint64_t Client::lag_room(std::uint64_t count) const {
  if (o_.max_lag == 0) return std::numeric_limits<std::uint64_t>::max();
  std::uint64_t progress = 0;
  for (const auto& w : workers_) progress += w->progress[index_].load(std::memory_order_relaxed);
  const std::uint64_t subscribers = o_.subscribers;
  const std::uint64_t share = std::max<std::uint64_t>(1, o_.max_lag / o_.publishers);
  const std::uint64_t limit = progress + share * subscribers;  // in deliveries
  const std::uint64_t ahead = count * subscribers;
  return ahead >= limit ? 0 : (limit - ahead) / subscribers;
}

void Client::nudge() {
  if (lag_blocked_) wake_.cancel();
}

std::uint16_t Client::take_packet_id() {
  do {
    next_id_ = static_cast<std::uint16_t>(next_id_ == 65535 ? 1 : next_id_ + 1);
  } while (in_flight_ids_[next_id_]);  // at most --window ids are taken: ends soon
  in_flight_ids_[next_id_] = true;
  ++in_flight_;
  return next_id_;
}

// Writes out_ unless a write is under way, whose completion writes what came meanwhile. The
// two buffers are swapped, never reallocated once grown.
void Client::flush() {
  if (writing_ || dead_ || out_.empty()) return;
  writing_ = true;
  wbuf_.swap(out_);
  out_.clear();
  asio::async_write(sock_, asio::buffer(wbuf_), [this](asio::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) return fail("write: " + ec.message());
    wake_.cancel();  // a publisher waiting for room
    if (closing_ && out_.empty()) {
      sock_.shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    flush();
  });
}

void Client::ping() {
  if (!ready_ || dead_ || closing_) return;
  mqtt::encode(mqtt::PingReq{}, out_);
  flush();
}

void Client::say_goodbye() {
  if (!ready_ || dead_) return;
  closing_ = true;
  mqtt::encode(mqtt::Disconnect{}, out_);
  flush();
}

void Client::fail(const std::string& what) {
  if (dead_) return;
  dead_ = true;
  bump(w_.errors);
  if (g_failures_logged.fetch_add(1) < 5)
    std::fprintf(stderr, "mqtt_fanout: %s: %s\n", id_.c_str(), what.c_str());
  asio::error_code ignored;
  sock_.close(ignored);
  wake_.cancel();
}

}  // namespace mqtt_fanout
