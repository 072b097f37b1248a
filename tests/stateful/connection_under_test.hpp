#pragma once
// The system under test of the stateful model: one connection actor on a transport, its peer,
// and three threads that touch it:
//   - the connection's thread: one io_context running the actor and the peer's reader and
//     writer (coroutines);
//   - the producer thread: an io_context on which waiting pushes (`co_await push`) run;
//   - the test thread: rapidcheck's commands, non-waiting pushes, and the checks.
// What the peer reads is decoded as it arrives (wire_oracle.hpp), independently of the
// library's codec.

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <wireframe/wireframe.hpp>

#include "stateful/push_book.hpp"
#include "stateful/routes.hpp"
#include "stateful/wire_oracle.hpp"

namespace wireframe::stateful {

using namespace std::chrono_literals;

enum class ReaderMode { fast, slow, stopped };
enum class EndBy { none, peer_half_close, graceful_shutdown, hard_close };

// The app's limits: small, so that queues fill, budgets stall the dispatcher and the fairness
// rule has work to do within a few commands.
inline constexpr std::size_t push_capacity = 4;
inline constexpr std::size_t fairness_bound = 2;
// Producers pause above 64 KiB queued; a response frame up to outbound_budget - 64 KiB always
// fits (a larger one could close the connection with output_limit_exceeded, by design:
// hardening.md), and the model's largest is 100 KB.
inline constexpr std::size_t outbound_budget = 256 * 1024;
inline constexpr std::size_t outbound_high_watermark = 64 * 1024;
inline constexpr std::size_t fragment_payload = 256;
inline constexpr ConnectionId connection_id = 1;

// Transports. Loopback: real TCP on 127.0.0.1, small socket buffers, whole frames. In memory:
// a MemorySocket pair of 4 KiB per direction, LenFlag32K fragments of 256 bytes.
struct OverLoopback {
  using Socket = GenericSocket;
  static constexpr Framing framing = Framing::whole;
  static constexpr const char* name = "loopback";
  static std::pair<Socket, Socket> connect(asio::io_context& io);
};
struct InMemory {
  using Socket = MemorySocket;
  static constexpr Framing framing = Framing::lenflag;
  static constexpr const char* name = "memory";
  static std::pair<Socket, Socket> connect(asio::io_context& io) {
    return MemorySocket::pair(io.get_executor(), 4096);
  }
};

// Everything the final checks need, taken once the connection and its peer are done.
struct Finished {
  bool in_time = false;    // the connection ended, the peer read to the end, every push returned
  std::error_code reason;  // the connection's end (its teardown hook)
  std::error_code peer_end;
  // The peer's first failed write. A write after the server's reset takes the socket's pending
  // error (ECONNRESET), so the peer's reads then end with EOF although the reset dropped bytes.
  std::error_code peer_write_error;
  std::vector<Envelope> messages;
  std::size_t incomplete_bytes = 0;
  std::string decode_error;
  std::vector<PushRecord> pushes;
  std::vector<DeadLettered> dead_lettered;
  std::uint64_t dead_letters_lost = 0;  // frames the DLQ could not take (it was full)
};

template <class Transport>
class ConnectionUnderTest {
 public:
  using Socket = typename Transport::Socket;

  ConnectionUnderTest() {
    auto ends = Transport::connect(io_);
    client_ = std::make_unique<Socket>(std::move(ends.second));
    ConnectionActor<App, Socket>::launch(std::move(ends.first), build_app(), connection_id,
                                         tracker_);
    auto found = registry_->find(connection_id);
    registered_ = found.has_value();
    handle_ = found.value_or(PushHandle<Envelope>());
    asio::co_spawn(io_, read_loop(), asio::detached);
    io_thread_ = std::thread([this] { io_.run(); });
    producer_thread_ = std::thread([this] { producer_io_.run(); });
  }

  ConnectionUnderTest(const ConnectionUnderTest&) = delete;
  ConnectionUnderTest& operator=(const ConnectionUnderTest&) = delete;

  // Ends whatever is left (a failed check may leave the connection open), then the threads.
  ~ConnectionUnderTest() {
    reader_ = ReaderMode::fast;
    asio::post(io_, [this] { tracker_.force_close_all(); });
    wait_until([this] { return ending_.ended; }, 10s);
    asio::post(io_, [this] {
      asio::error_code ignored;
      client_->close(ignored);
      resume_.cancel();
    });
    io_work_.reset();
    producer_work_.reset();
    wait_until([this] { return peer_done_; }, 10s);
    io_.stop();
    producer_io_.stop();
    io_thread_.join();
    producer_thread_.join();
  }

  // The connection was in the registry when it started (its handle is what the pushes use).
  [[nodiscard]] bool registered() const noexcept { return registered_; }

  void send(const Envelope& request) {
    Wire bytes = encode_message(request, Transport::framing, fragment_payload);
    asio::post(io_, [this, bytes = std::move(bytes)]() mutable {
      outbox_.push_back(std::move(bytes));
      if (!writing_) {
        writing_ = true;
        asio::co_spawn(io_, write_loop(), asio::detached);
      }
    });
  }

  void set_reader(ReaderMode mode) {
    reader_ = mode;
    asio::post(io_, [this] { resume_.cancel(); });
  }

  void push_now(PushPriority priority, PushCall call) {
    stateful::push_now(handle_, book_, priority, call);
  }
  void push_waiting(PushPriority priority) {
    const std::uint64_t tag = book_.begin(priority, PushCall::push);
    asio::co_spawn(producer_io_, stateful::push_waiting(handle_, book_, tag, priority),
                   asio::detached);
  }

  void end(EndBy how) {
    switch (how) {
      case EndBy::none: break;
      case EndBy::peer_half_close:
        asio::post(io_, [this] {
          half_close_ = true;
          if (!writing_) half_close_now();
        });
        break;
      case EndBy::graceful_shutdown: asio::post(io_, [this] { tracker_.shutdown_all(); }); break;
      case EndBy::hard_close: asio::post(io_, [this] { tracker_.force_close_all(); }); break;
    }
  }

  // Waits until the peer has `n` replies (frames that are not pushes); false after `timeout`.
  bool wait_for_replies(std::size_t n, std::chrono::milliseconds timeout) {
    return wait_until([&] { return replies_ >= n; }, timeout);
  }

  [[nodiscard]] std::vector<Envelope> messages() const {
    const std::lock_guard lock(mutex_);
    return decoder_.messages();
  }

  // Reads to the end: the reader resumes, the peer half-closes if nothing ended the
  // connection yet, then everything is collected.
  Finished finish(EndBy ended_by) {
    set_reader(ReaderMode::fast);
    if (ended_by == EndBy::none) end(EndBy::peer_half_close);
    Finished f;
    f.in_time =
        wait_until([this] { return ending_.ended && peer_done_ && book_.pending() == 0; }, 30s);
    const std::lock_guard lock(mutex_);
    f.reason = ending_.reason;
    f.peer_end = peer_end_;
    f.peer_write_error = peer_write_error_;
    f.messages = decoder_.messages();
    f.incomplete_bytes = decoder_.incomplete_bytes();
    f.decode_error = decoder_.error();
    f.pushes = book_.records();
    f.dead_letters_lost = dlq_->lost();
    while (auto letter = dlq_->try_receive()) {
      if (const auto tag = pushed_tag(letter->frame))
        f.dead_lettered.push_back({*tag, letter->reason});
    }
    return f;
  }

 private:
  static auto make_app_base() {
    if constexpr (Transport::framing == Framing::lenflag) {
      ReassemblyLimits limits;
      limits.max_message_size = 1 << 20;
      return WireframeApp<>().with_fragmentation(LenFlag32K(fragment_payload), limits);
    } else {
      return WireframeApp<>();
    }
  }
  using AppBase = decltype(make_app_base());
  using App =
      std::remove_const_t<typename decltype(std::declval<AppBase&>().build())::element_type>;

  std::shared_ptr<const App> build_app() {
    return make_app_base()
        .route(static_cast<std::uint32_t>(RequestKind::single), single)
        .route(static_cast<std::uint32_t>(RequestKind::vec), vec)
        .route(static_cast<std::uint32_t>(RequestKind::stream), stream)
        .route(static_cast<std::uint32_t>(RequestKind::empty), empty)
        .route(static_cast<std::uint32_t>(RequestKind::fails), fails)
        .route(static_cast<std::uint32_t>(RequestKind::push_burst),
               [this](Envelope& r, ConnectionContext& ctx) -> Resp {
                 return push_burst(r, ctx, book_);
               })
        .handler_error_policy(HandlerErrorPolicy::error_frame)
        .with_session_registry(registry_)
        .with_dead_letter_queue(dlq_)
        .push_queue_capacity(push_capacity, push_capacity)
        .max_high_before_low(fairness_bound)
        .max_outbound_bytes(outbound_budget)
        .outbound_watermarks(outbound_high_watermark / 2, outbound_high_watermark)
        .on_connection_teardown([this](ConnectionContext&, std::error_code ec) {
          const std::lock_guard lock(mutex_);
          ending_ = {true, ec};
        })
        .build();
  }

  // Polls `done` (under the mutex) every half millisecond, for at most `timeout`.
  template <class F>
  bool wait_until(F done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      {
        const std::lock_guard lock(mutex_);
        if (done()) return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(500us);
    }
  }

  // The peer's reader: reads while its mode lets it (slow: small pieces with a pause between),
  // parks on `resume_` while stopped, ends at EOF or an error and then closes its end.
  asio::awaitable<void> read_loop() {
    std::vector<std::uint8_t> buf(64 * 1024);
    std::minstd_rand rng(7);
    asio::steady_timer pause(io_);
    for (;;) {
      const ReaderMode mode = reader_;
      if (mode == ReaderMode::stopped) {
        resume_.expires_after(60s);  // a bound: set_reader() and the destructor cancel it
        co_await resume_.async_wait(detail::use_nothrow);
        continue;
      }
      const std::size_t chunk = mode == ReaderMode::slow ? 1 + rng() % 300 : buf.size();
      auto [ec, n] =
          co_await client_->async_read_some(asio::buffer(buf.data(), chunk), detail::use_nothrow);
      if (took(std::span(buf.data(), n), ec)) break;
      if (mode == ReaderMode::slow) {
        pause.expires_after(200us);
        co_await pause.async_wait(detail::use_nothrow);
      }
    }
    asio::error_code ignored;
    client_->close(ignored);  // ends the server's lingering close at once
    const std::lock_guard lock(mutex_);
    peer_done_ = true;
  }

  // Decodes what a read returned; true when the read ended the stream.
  bool took(std::span<const std::uint8_t> bytes, const asio::error_code& ec) {
    const std::lock_guard lock(mutex_);
    decoder_.feed(bytes);
    const auto& all = decoder_.messages();
    for (; counted_ < all.size(); ++counted_) replies_ += pushed_tag(all[counted_]) ? 0 : 1;
    if (ec) peer_end_ = ec;
    return static_cast<bool>(ec);
  }

  asio::awaitable<void> write_loop() {
    while (!outbox_.empty()) {
      Wire bytes = std::move(outbox_.front());
      outbox_.pop_front();
      auto [ec, n] = co_await asio::async_write(*client_, asio::buffer(bytes), detail::use_nothrow);
      (void)n;
      if (ec) {  // the server has closed: what is left will not be answered
        note_write_error(ec);
        outbox_.clear();
        break;
      }
    }
    writing_ = false;
    if (half_close_) half_close_now();
  }

  void note_write_error(const asio::error_code& ec) {
    const std::lock_guard lock(mutex_);
    if (!peer_write_error_) peer_write_error_ = ec;
  }

  void half_close_now() {
    asio::error_code ignored;
    client_->shutdown(asio::socket_base::shutdown_send, ignored);
  }

  asio::io_context io_;
  asio::io_context producer_io_;
  asio::executor_work_guard<asio::io_context::executor_type> io_work_ = asio::make_work_guard(io_);
  asio::executor_work_guard<asio::io_context::executor_type> producer_work_ =
      asio::make_work_guard(producer_io_);
  asio::io_context dlq_io_;  // the DLQ's channel needs an executor; nothing runs on it
  std::shared_ptr<DeadLetterQueue<Envelope>> dlq_ =
      std::make_shared<DeadLetterQueue<Envelope>>(dlq_io_.get_executor(), 4096);
  std::shared_ptr<SessionRegistry<Envelope>> registry_ =
      std::make_shared<SessionRegistry<Envelope>>();
  ConnectionTracker tracker_;
  PushBook book_;
  PushHandle<Envelope> handle_;
  bool registered_ = false;
  std::unique_ptr<Socket> client_;

  // Touched on the connection's thread only.
  std::deque<Wire> outbox_;
  bool writing_ = false;
  bool half_close_ = false;
  asio::steady_timer resume_{io_};
  std::atomic<ReaderMode> reader_{ReaderMode::fast};

  // Shared with the test thread, under the mutex.
  mutable std::mutex mutex_;
  StreamDecoder decoder_{Transport::framing};
  std::size_t replies_ = 0;  // of the decoded messages, those that are not pushes
  std::size_t counted_ = 0;  // decoded messages looked at by took()
  std::error_code peer_end_;
  std::error_code peer_write_error_;
  bool peer_done_ = false;
  struct {
    bool ended = false;
    std::error_code reason;
  } ending_;

  std::thread io_thread_;
  std::thread producer_thread_;
};

}  // namespace wireframe::stateful
