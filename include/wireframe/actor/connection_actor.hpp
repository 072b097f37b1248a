#pragma once
// ConnectionActor: one per connection; owns the socket and everything of that connection.
// Three coroutines on the connection's executor (one thread, so no locks):
//   reader     socket -> codec -> Packet -> a plain handler inline when nothing is ahead of it
//              (its frames straight into the write batch), else the request ring (bounded)
//   dispatcher request ring -> router -> handler -> outbound ring (commands in order)
//   writer     biased select over its sources -> one gathered write at a time (the reader
//              writes a batch itself when the writer is parked)
// and a fourth, the watchdog: one timer for the read, write, idle and handshake timeouts and
// the reassembly deadlines (when the app fragments). The app's processor stack (stack_, fixed at
// compile time) sits between codec and Packet: its frame processors on every frame, its
// fragment layer in the reader and per source ("lane") in the writer, so a high push can go out
// between two fragments of a large response, and its protocol hooks. Every byte the connection
// holds is budgeted (ConnectionSettings). docs/architecture.md draws it; read that first.

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "wireframe/actor/connection_timeouts.hpp"
#include "wireframe/actor/doorbell.hpp"
#include "wireframe/actor/packet_pool.hpp"
#include "wireframe/actor/ring_queue.hpp"
#include "wireframe/app/connection_context.hpp"
#include "wireframe/app/wireframe_app.hpp"
#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/buffer/gather_buffer.hpp"
#include "wireframe/detail/asio.hpp"
#include "wireframe/detail/logged_completion.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/fragment/fragment_layer.hpp"
#include "wireframe/processor/frame_processor.hpp"
#include "wireframe/fragment/fragment_policy.hpp"
#include "wireframe/log/log.hpp"
#include "wireframe/push/push_queues.hpp"
#include "wireframe/server/connection_tracker.hpp"

namespace wireframe {

namespace detail {
std::string describe_exception(const std::exception_ptr& e);
bool is_disconnect(const std::error_code& ec) noexcept;
}  // namespace detail

template <class App>
class ConnectionActor final : public TrackedConnection, public detail::UsageSource {
  using C = typename App::codec_type;
  using P = typename App::packet_type;
  using E = typename App::error_type;
  using response_type = typename App::response_type;
  using Stack = typename App::stack_type;
  static constexpr bool fragments = Stack::has_fragments;  // with_fragmentation(): lanes, reassembly

  struct StreamMarker {};  // "the current Stream goes here" in the outbound ring
  using OutItem = std::variant<P, StreamMarker>;
  struct Request {  // a decoded request waiting for the dispatcher
    // Read before the handler runs: a handler may move the packet into its answer, and a
    // moved-from packet need not keep its correlation id.
    std::uint64_t correlation = 0;
    P packet;
    std::size_t bytes = 0;                  // what it counts against max_inbound_bytes
    std::optional<response_type> response;  // a plain handler already ran (inline): its answer,
    std::exception_ptr failure;              // or what it threw
  };
  using Lane = detail::Lane;
  using clock = std::chrono::steady_clock;

 public:
  ConnectionActor(asio::ip::tcp::socket socket, std::shared_ptr<const App> app, ConnectionId id,
                  ConnectionTracker& tracker)
      : socket_(std::move(socket)),
        app_(std::move(app)),
        tracker_(tracker),
        ctx_(id, socket_.get_executor(), endpoint(true), endpoint(false), app_->state),
        stack_(app_->codec, app_->stages, ctx_),
        rbuf_(saturating_add(saturating_add(app_->codec.max_frame_length(), app_->codec.max_overhead()),
                             app_->settings.read_chunk_size)),
        requests_(app_->settings.max_pipelined_requests),
        out_(app_->settings.max_queued_frames),
        writer_bell_(socket_.get_executor()),
        pushes_(std::make_shared<detail::PushQueues<P>>(
            writer_bell_, id, app_->settings.high_push_capacity,
            app_->settings.low_push_capacity,
            PushRateLimit{app_->settings.push_rate, app_->settings.push_burst}, app_->dead_letters,
            OutboundBudget{app_->settings.outbound_low_watermark, app_->settings.outbound_high_watermark,
                           app_->settings.max_outbound_bytes})),
        reader_bell_(socket_.get_executor()),
        dispatch_bell_(socket_.get_executor()),
        done_bell_(socket_.get_executor()),
        timer_(socket_.get_executor()),
        timeouts_(timeout_settings(app_->settings), clock::now()) {
    if constexpr (fragments) ctx_.set_reassembly_source(&frag());
    ctx_.set_push_queues(pushes_);
    ctx_.set_usage_source(this);
  }

  [[nodiscard]] asio::any_io_executor executor() { return socket_.get_executor(); }

  // The actor's whole life. Returns after the three tasks have ended, the socket is closed and
  // teardown has run.
  asio::awaitable<void> run() {
    tracker_.add(*this);
    if (app_->registry) app_->registry->add(ctx_.id(), pushes_);
    if (make_non_blocking() && run_setup_hook()) {
      if constexpr (Stack::has_protocol) stack_.protocol().on_connection_setup(ctx_.push_handle<P>());
      spawn(reader(), reader_cancel_);
      spawn(dispatcher(), dispatch_cancel_);
      spawn(writer(), writer_cancel_);
      if (fragments || timeouts_.any()) spawn(watchdog(), timer_cancel_);
      while (live_tasks_ > 0) co_await done_bell_.wait();
    }
    stream_.reset();  // a stream cut off by a hard close: cancels its pending await
    if (app_->registry) app_->registry->remove(ctx_.id());
    report_lost_pushes();
    if (should_linger()) co_await linger();
    asio::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    run_teardown_hook();
    tracker_.remove(*this);
  }

  // Graceful: stop reading, let the command in flight finish and its frames be written.
  void shutdown() override {
    if (draining_ || closing_) return;
    draining_ = true;
    timeouts_.draining();  // only a stalled write matters from here on
    pushes_->close();  // no new pushes; the queued ones are still written
    reader_cancel_.emit(asio::cancellation_type::terminal);
    wake_all();
  }

  [[nodiscard]] ConnectionUsage usage() const noexcept override {
    return {inbound_bytes_, pushes_->outbound_bytes(), pushes_->paused()};
  }

  // Hard: cancel everything now (the server's shutdown deadline expired).
  void force_close() override {
    if (!reason_) reason_ = make_error_code(errc::shutting_down);
    close_now();
  }

 private:
  // --- lifecycle -----------------------------------------------------------------------------

  void spawn(asio::awaitable<void> task, asio::cancellation_signal& signal) {
    ++live_tasks_;
    auto done = [this](std::exception_ptr e) {
      if (e && !closing_) fail(make_error_code(errc::handler_failed), detail::describe_exception(e));
      --live_tasks_;
      done_bell_.ring();
    };
    asio::co_spawn(socket_.get_executor(), std::move(task),
                   asio::bind_cancellation_slot(signal.slot(), std::move(done)));
  }

  static detail::ConnectionTimeouts::Settings timeout_settings(const ConnectionSettings& s) noexcept {
    return {s.read_timeout, s.write_timeout, s.idle_timeout, s.handshake_timeout};
  }

  // Non-blocking at user level too, so that the writer's first, inline write of a batch returns
  // would_block instead of blocking the worker (async operations are unaffected).
  bool make_non_blocking() {
    asio::error_code ec;
    socket_.non_blocking(true, ec);
    if (ec) fail(ec, "non_blocking");
    return !ec;
  }

  bool run_setup_hook() {
    if (!app_->setup) return true;
    try {
      app_->setup(ctx_);
      return true;
    } catch (...) {
      fail(make_error_code(errc::handler_failed),
           "on_connection_setup threw: " + detail::describe_exception(std::current_exception()));
      return false;
    }
  }

  void run_teardown_hook() noexcept {
    if (!app_->teardown) return;
    try {
      app_->teardown(ctx_, reason_);
    } catch (...) {
      detail::log(LogLevel::error, "connection {}: on_connection_teardown threw: {}", ctx_.id(),
                  detail::describe_exception(std::current_exception()));
    }
  }

  // Records the first error, logs it and closes the connection at once (I/O errors, stalled
  // or trickling peers, faults in our own tasks).
  void fail(std::error_code ec, std::string_view what = {}) {
    report(ec, what);
    close_now();
  }

  // Records the first error, logs it and ends the connection gracefully: no more reading, the
  // command in flight finishes, what is queued is written, then the lingering close.
  void end_with(std::error_code ec, std::string_view what = {}) {
    report(ec, what);
    shutdown();
  }

  // The reader ends as at EOF (bad bytes from the peer): the requests already decoded are
  // answered, then the connection closes. From the watchdog (a reassembly that fails and
  // closes) the reader is woken to see it.
  void stop_reading() {
    stop_reading_ = true;
    reader_cancel_.emit(asio::cancellation_type::terminal);
    reader_bell_.ring();
  }

  void report(std::error_code ec, std::string_view what) {
    if (!reason_) reason_ = ec;
    const bool disconnect = detail::is_disconnect(ec);
    if (!disconnect && !closing_) stack_.protocol().handle_error(WireframeError<E>::io(ec));
    const auto level = disconnect ? LogLevel::debug : LogLevel::warn;
    detail::log(level, "connection {} ({}): closing: {}{}{}", ctx_.id(), peer_text(), ec.message(),
                what.empty() ? "" : ": ", what);
  }

  void close_now() {
    if (closing_) return;
    closing_ = true;
    reader_cancel_.emit(asio::cancellation_type::terminal);
    writer_cancel_.emit(asio::cancellation_type::terminal);
    dispatch_cancel_.emit(asio::cancellation_type::terminal);
    timer_cancel_.emit(asio::cancellation_type::terminal);
    asio::error_code ignored;
    socket_.close(ignored);
    wake_all();
  }

  void wake_writer() { writer_bell_.ring(); }
  // Only when it waits for room (back-pressure): a ring per request would cost a wake-up each.
  void wake_reader() {
    if (reader_waiting_) reader_bell_.ring();
  }

  // --- lingering close -----------------------------------------------------------------------

  // Closing a socket with unread input makes the kernel send a reset, which destroys replies the
  // peer has not read yet. So when the peer may still be sending, the actor has shut down its
  // sending side (after its last frame) and now reads and discards until the peer closes too,
  // for at most linger_timeout (nginx's lingering close).
  bool should_linger() const {
    return !closing_ && !peer_eof_ && writer_finished_ && app_->settings.linger_timeout.count() > 0;
  }

  bool input_pending() const {
    asio::error_code ec;
    return !rbuf_.empty() || !requests_.empty() || socket_.available(ec) > 0;
  }

  // A peer with input pending (or that sends within a short grace, a round trip or so: one
  // caught between two writes) is still sending: read and discard until it closes, for at most
  // linger_timeout. A quiet peer's connection closes at once.
  asio::awaitable<void> linger() {
    using namespace asio::experimental::awaitable_operators;
    if (!input_pending()) {
      timer_.expires_after(std::min<std::chrono::milliseconds>(linger_grace, app_->settings.linger_timeout));
      const auto first = co_await (socket_.async_wait(asio::socket_base::wait_read, detail::use_nothrow) ||
                                   timer_.async_wait(detail::use_nothrow));
      if (first.index() != 0) co_return;                  // the grace passed: a quiet peer
      if (std::get<0>(std::get<0>(first))) co_return;     // the socket failed
    }
    timer_.expires_after(app_->settings.linger_timeout);
    (void)co_await (discard_input() || timer_.async_wait(detail::use_nothrow));
  }
  static constexpr std::chrono::milliseconds linger_grace{50};

  asio::awaitable<void> discard_input() {
    std::array<std::byte, 4096> sink;  // in this coroutine's frame: only while lingering
    for (;;) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(sink), detail::use_nothrow);
      if (ec) co_return;  // EOF (the peer closed), an error, or the timer won
    }
  }

  // Frames pushed but never written (hard close, or pushed while the connection ended) go to
  // the dead letter queue, if any, and are logged.
  void report_lost_pushes() {
    auto lost = pushes_->close_and_take();
    for (Lane lane : {Lane::high, Lane::low}) {  // pushes cut off part-way through their fragments
      if (auto frame = frag().abandon(lane)) lost.push_back(std::move(*frame));
    }
    if (lost.empty()) return;
    detail::log(LogLevel::warn, "connection {} ({}): {} pushed frame(s) not sent: connection closed",
                ctx_.id(), peer_text(), lost.size());
    for (auto& frame : lost) pushes_->dead_letter(std::move(frame), make_error_code(errc::connection_closed));
  }

  void wake_all() {
    wake_writer();
    reader_bell_.ring();
    dispatch_bell_.ring();
    timer_.cancel();
  }

  // --- reader --------------------------------------------------------------------------------

  asio::awaitable<void> reader() {
    co_await asio::this_coro::throw_if_cancelled(false);
    const std::size_t chunk = app_->settings.read_chunk_size;
    asio::error_code nb;
    socket_.non_blocking(true, nb);  // for the speculative read_some below
    std::optional<clock::time_point> read_at;  // when the bytes not yet decoded were read
    while (!draining_ && !closing_ && !stop_reading_) {
      const std::optional<std::size_t> frames = decode_buffered();
      if (!frames || draining_ || closing_) break;  // an inline handler may have ended it
      report_decoded(read_at, *frames);
      read_at.reset();
      if (must_pause_reading()) {  // back-pressure: stop reading until there is room again
        timeouts_.reader_paused(true, {});
        reader_waiting_ = true;
        co_await reader_bell_.wait();
        reader_waiting_ = false;
        timeouts_.reader_paused(false, clock::now());
        continue;
      }
      shrink_read_buffer();
      auto space = rbuf_.prepare(chunk);
      if (space.empty()) {  // only a codec understating max_overhead() gets here; never spin
        fail(make_error_code(errc::frame_too_large), "read buffer at its cap");
        break;
      }
      asio::error_code ec;
      std::size_t n = 0;
      if (rbuf_.empty()) {
        // Nothing buffered. If the last read drained the socket, wait for readability first,
        // holding no buffer (it goes back to the worker's pool: an idle connection pins no read
        // buffer), so that no read is spent on EAGAIN; otherwise read what is there at once.
        if (socket_drained_) {
          rbuf_.release();
          std::tie(ec) = co_await socket_.async_wait(asio::socket_base::wait_read, detail::use_nothrow);
          socket_drained_ = false;
          if (!ec) continue;
        } else {
          n = socket_.read_some(asio::buffer(space.data(), space.size()), ec);
          if (ec == asio::error::would_block || ec == asio::error::try_again) {
            socket_drained_ = true;
            continue;
          }
        }
      } else {  // part of a frame is buffered anyway: wait for the rest with it
        std::tie(ec, n) =
            co_await socket_.async_read_some(asio::buffer(space.data(), space.size()), detail::use_nothrow);
      }
      if (ec) {
        on_read_error(ec);
        break;
      }
      rbuf_.commit(n);
      read_at = clock::now();  // one clock read per socket read, for the timeouts
      socket_drained_ = n < space.size();  // a short read took everything the kernel had
    }
    reader_done_ = true;
    timeouts_.reader_done();
    timer_.cancel();  // the watchdog looks again: reassembly and read deadlines are over
    dispatch_bell_.ring();
  }

  // Tells the timeouts what the last decode did (after a read, or from bytes already buffered).
  void report_decoded(const std::optional<clock::time_point>& read_at, std::size_t frames) {
    const bool partial = !rbuf_.empty();
    if (read_at) timeouts_.on_read(*read_at, frames, partial);
    else if (frames > 0) timeouts_.on_decoded(clock::now(), frames, partial);
  }

  // The request ring is full, the inbound byte budget is used up (or the next frame does not
  // fit it), or the outbound bytes are above the high watermark: reading more would only buffer
  // more. So a connection holds one large request's bytes at a time, not the next one's too.
  bool must_pause_reading() const noexcept {
    return requests_.full() || inbound_blocked_ || inbound_bytes_ >= app_->settings.max_inbound_bytes ||
           responses_paused();
  }

  // Responses (and so reading) wait above the high watermark, and also while the writer is
  // splitting a response larger than it: one large response at a time, not one in the lane
  // and more queued behind it. Pushes only see the watermark (publish_outbound_bytes).
  bool responses_paused() const noexcept { return pushes_->paused() || large_response_in_lane(); }
  bool large_response_in_lane() const noexcept {
    return frag().held_bytes(Lane::response) > app_->settings.outbound_high_watermark;
  }

  // After a large frame the read buffer may have grown far past a read chunk. Once the bytes in
  // it are few again, it goes back (to the pool or the allocator) so that one large request
  // does not pin its size for the connection's life.
  void shrink_read_buffer() {
    if (rbuf_.empty() && rbuf_.capacity() > 2 * detail::BlockPool::max_block) rbuf_.release();
  }

  // Decodes every complete frame in the read buffer while the request ring and the inbound
  // budget have room, serving each inline or queueing it for the dispatcher, then wakes whoever
  // has new work. Returns how many frames it took, or nullopt when the bytes are bad: the
  // reader then ends as at EOF, so the requests before the bad bytes are still answered, and
  // the connection closes after them (lingering: the peer may still be sending).
  std::optional<std::size_t> decode_buffered() {
    const std::optional<std::size_t> frames = decode_frames();
    ring_pending_bells();
    return frames;
  }

  std::optional<std::size_t> decode_frames() {
    // Once per read, for the stages that want the time (reassembly deadlines, processors).
    constexpr bool timed = fragments || !Stack::frames_type::empty;
    const clock::time_point now = timed ? clock::now() : clock::time_point{};
    std::size_t frames = 0;
    inbound_blocked_ = false;
    while (!requests_.full()) {
      const DecodeResult res = app_->codec.decode(rbuf_.readable());
      if (res.status == DecodeStatus::need_more) break;
      if (res.status == DecodeStatus::error) {
        report(res.error, "while decoding a frame");
        return std::nullopt;
      }
      if (!inbound_admits(res.frame.size())) {
        inbound_blocked_ = true;  // the dispatcher rings the reader when a request is done
        break;
      }
      ++frames;
      std::span<const std::byte> message = res.frame;
      if constexpr (!Stack::frames_type::empty) {  // the app's frame processors, codec side first
        const InboundFrame in = stack_.frames().inbound(message, FrameContext{ctx_.id(), now});
        if (in.status == InboundFrame::Status::fail) {
          report(in.error, "in a frame processor");
          return std::nullopt;
        }
        if (in.status == InboundFrame::Status::hold) {
          rbuf_.consume(res.consumed);
          continue;
        }
        message = in.frame;
      }
      if constexpr (fragments) {  // the frame is a fragment: on to the packet only once its message is whole
        const ReassemblyResult r = frag().feed(message, now);
        if (r.status != ReassemblyStatus::complete) {
          rbuf_.consume(res.consumed);
          if (r.status == ReassemblyStatus::error && !on_fragment_error(r)) return std::nullopt;
          continue;
        }
        message = r.message;  // may view the frame itself: consumed only after decoding
      }
      P packet = take_pooled();
      if (auto ec = packet.decode_from(message)) {
        report(ec, "while decoding a packet");
        return std::nullopt;
      }
      rbuf_.consume(res.consumed);
      if constexpr (fragments) frag().release();  // the reassembled bytes are in the packet now
      if (serves_inline()) {
        serve_inline(std::move(packet), message.size());
        if (draining_ || closing_) break;  // the handler asked to close, or failed with `close`
      } else {
        const std::uint64_t correlation = packet.correlation_id();
        defer(Request{correlation, std::move(packet), message.size(), std::nullopt, nullptr});
      }
    }
    if constexpr (fragments) rearm_reassembly_timer();
    return frames;
  }

  // --- inline dispatch -------------------------------------------------------------------------

  // A request is answered in the reader's turn when nothing is ahead of it: no command in
  // flight (a suspended handler, a stream) and none waiting. Otherwise it waits its turn in the
  // request ring, so requests are always answered in order.
  bool serves_inline() const noexcept { return !command_in_flight_ && requests_.empty(); }

  // Runs a plain handler at once and hands its frames to the writer (ring_pending_bells wakes
  // it, or writes for it, once per read). A coroutine handler, an unknown id, a failure, a
  // stream, or no room for the answer: the request goes to the dispatcher instead, which can
  // wait.
  void serve_inline(P&& packet, std::size_t bytes) {
    const std::uint64_t correlation = packet.correlation_id();
    const auto* route = app_->find(packet.id());
    if (route == nullptr || !route->sync) {
      return defer(Request{correlation, std::move(packet), bytes, std::nullopt, nullptr});
    }
    std::exception_ptr failure;
    response_type response = call_sync(*route, packet, failure);
    if (failure) return defer(Request{correlation, std::move(packet), bytes, std::nullopt, std::move(failure)});
    if (!try_queue_response(response, correlation)) {
      return defer(Request{correlation, std::move(packet), bytes, std::move(response), nullptr});
    }
    end_command(std::move(packet));
  }

  // The plain handler's answer, built in place (no move of the response), or what it threw.
  response_type call_sync(const typename App::Route& route, P& packet, std::exception_ptr& failure) noexcept {
    try {
      return route.sync(packet, ctx_);
    } catch (...) {
      failure = std::current_exception();
      return response_type{};
    }
  }

  void defer(Request request) {
    inbound_bytes_ += request.bytes;
    requests_.push(std::move(request));
    dispatch_pending_ = true;
  }

  // Once per read (or per command the dispatcher ran), not per frame. After a read, a writer
  // that is parked because it had nothing to do gets the new batch written for it, at once
  // (flush_inline); otherwise it is rung. The dispatcher only rings: it may run the next queued
  // request before the writer runs, so their answers share one write. The dispatcher is rung
  // for the requests deferred to it.
  void ring_pending_bells(bool may_write = true) {
    if (may_write && writer_pending_ && writer_parked_ && !closing_) flush_inline();
    if (dispatch_pending_) dispatch_bell_.ring();
    if (writer_pending_) wake_writer();
    dispatch_pending_ = writer_pending_ = false;
  }

  // Queues a Single or Vec response at once when the outbound ring and budget have room for all
  // of it (false, and nothing queued, otherwise: the caller waits). Empty needs nothing; a
  // stream always goes through the dispatcher.
  bool try_queue_response(response_type& response, std::uint64_t correlation) {
    auto& v = response.value();
    if (std::holds_alternative<typename response_type::Empty>(v)) return true;
    std::span<P> frames;
    if (auto* single = std::get_if<typename response_type::Single>(&v)) frames = std::span<P>(&single->frame, 1);
    else if (auto* vec = std::get_if<typename response_type::Vec>(&v)) frames = vec->frames;
    else return false;
    if (!room_now(frames)) return false;
    for (P& f : frames) {
      f.set_correlation_id(correlation);
      if (encode_directly(f)) continue;
      queued_response_bytes_ += f.encoded_size();
      out_.push(OutItem(std::in_place_type<P>, std::move(f)));
    }
    publish_outbound_bytes();
    pushes_->pause_if_above_high();
    writer_pending_ = true;
    return true;
  }

  // Encodes a response frame straight into the write batch when the writer's biased select
  // would take it next anyway: no response queued before it, no push waiting (pushes go
  // first), no fragmentation (its lanes decide), no write in progress on the batch, room in
  // the batch, and not a large payload (those are borrowed: encode_borrowed). Saves the
  // outbound ring's move in and out and keeps the frame's storage warm for the next request.
  bool encode_directly(P& frame) {
    if (writing_ || fragments || !out_.empty() || push_work() || wbuf_.size() >= app_->settings.max_write_batch ||
        frame.encoded_size() >= borrow_threshold) {
      return false;
    }
    if constexpr (Stack::protocol_sees_frames) stack_.protocol().before_send(frame);
    encode(frame);
    pushes_in_a_row_ = 0;  // as counted(Lane::response)
    recycle(std::move(frame));
    return true;
  }

  // The writer is parked (it found nothing to do), so this turn writes the batch itself: one
  // non-blocking write, no wake-up, no task switch. What the kernel does not take is left to
  // the writer (batch_sent_ says how much went), which is then rung.
  void flush_inline() {
    if (batch_sent_ != 0) return;  // the writer, rung already, owns the rest of the last batch
    gather();  // what else is ready, in the select's order
    if (wbuf_.empty()) return;
    publish_outbound_bytes();
    std::error_code ec;
    const std::size_t done = write_at_once(ec);
    if (ec) {
      after_write();
      fail(ec, "write");
      return;
    }
    if (done < wbuf_.size()) {
      batch_sent_ = done;
      return;  // writer_pending_ stays set: the writer is rung for the rest
    }
    after_write();
    // A batch at its size limit, or a large message part-way through its fragments, leaves work
    // behind: the writer is rung for it.
    writer_pending_ = !out_.empty() || push_work() || frag().active(Lane::response);
  }

  // Room for all of `frames` without waiting: what enqueue() would find for each in turn, with
  // the bytes of those before it queued (the first on an empty connection always fits; past
  // the high watermark the rest would wait; past max_outbound_bytes it would close the
  // connection, which the dispatcher's path does).
  bool room_now(std::span<const P> frames) const noexcept {
    if (out_.capacity() - out_.size() < frames.size() || large_response_in_lane()) return false;
    std::size_t held = pushes_->outbound_bytes();
    bool paused = pushes_->paused();
    const std::size_t hard = app_->settings.max_outbound_bytes;
    for (const P& f : frames) {
      const std::size_t size = f.encoded_size();
      if (held != 0 && (paused || held > hard || size > hard - held)) return false;
      held += size;
      paused = paused || held > app_->settings.outbound_high_watermark;
    }
    return true;
  }

  // A command is done: the protocol's hook, the packet back to the pool, a close it asked for.
  void end_command(P&& packet) {
    stack_.protocol().on_command_end();
    recycle(std::move(packet));
    if (ctx_.close_requested()) shutdown();
  }

  // A frame of `size` bytes may become a request: within max_inbound_bytes, or alone (a budget
  // never blocks a legal frame). With fragmentation the check is on the fragment; the message it
  // completes is counted in full and bounded by the ReassemblyLimits.
  bool inbound_admits(std::size_t size) const noexcept {
    const std::size_t budget = app_->settings.max_inbound_bytes;
    return inbound_bytes_ == 0 || (inbound_bytes_ <= budget && size <= budget - inbound_bytes_);
  }

  // A reassembly error: reported through the protocol hook and the log; then, as the app's
  // FragmentErrorPolicy says, the message is dropped (true: carry on) or the connection closes.
  bool on_fragment_error(const ReassemblyResult& r) {
    const std::string id = r.message_id ? fmt::format(" {}", *r.message_id) : std::string();
    if (fragment_error_closes(r.error, app_->fragment_policy)) {
      report(r.error, fmt::format("fragmented message{} ({} bytes dropped)", id, r.dropped_bytes));
      stop_reading();
      return false;
    }
    stack_.protocol().handle_error(WireframeError<E>::io(r.error));
    detail::log(LogLevel::warn, "connection {} ({}): dropped fragmented message{} ({} bytes): {}",
                ctx_.id(), peer_text(), id, r.dropped_bytes, r.error.message());
    return true;
  }

  void on_read_error(const asio::error_code& ec) {
    if (ec == asio::error::eof) {
      // The peer finished sending. Answer what it sent, then close; bytes of an unfinished
      // frame can never complete.
      peer_eof_ = true;
      stack_.protocol().on_eof(rbuf_.readable());
      if (!rbuf_.empty()) report(make_error_code(errc::truncated_frame), "peer closed mid-frame");
    } else if (!(ec == asio::error::operation_aborted && (draining_ || closing_ || stop_reading_))) {
      fail(ec, "read");
    }
  }

  // --- watchdog: timeouts and reassembly deadlines -------------------------------------------

  // One timer for everything time-bound on the connection (connection_timeouts.hpp). Nothing
  // re-arms it per frame: it wakes at the next deadline it knows of, or after the shortest
  // timeout, and looks again. The reader cancels it when a new fragmented message makes the
  // reassembly deadline earlier; the writer's end stops it.
  asio::awaitable<void> watchdog() {
    co_await asio::this_coro::throw_if_cancelled(false);
    while (!closing_ && !writer_finished_) {
      const auto now = clock::now();
      if (const auto expired = timeouts_.expired(now)) {
        on_timeout(*expired);
        if (closing_) break;
      }
      if constexpr (fragments) {
        if (!reader_done_) frag().expire(now, [this](const ReassemblyResult& r) { (void)on_fragment_error(r); });
      }
      if (reader_done_ && !timeouts_.any()) break;  // reassembly deadlines were all there was
      timer_deadline_ = next_watchdog_check(now);
      timer_.expires_at(timer_deadline_);
      (void)co_await timer_.async_wait(detail::use_nothrow);  // fired, re-armed or cancelled: look again
    }
  }

  clock::time_point next_watchdog_check(clock::time_point now) const {
    clock::time_point next = timeouts_.any() ? timeouts_.next_check(now) : clock::time_point::max();
    if constexpr (fragments) {
      if (!reader_done_) {
        if (const auto deadline = frag().next_deadline()) next = std::min(next, *deadline);
      }
    }
    return next;
  }

  void rearm_reassembly_timer() {
    if constexpr (fragments) {  // (every member is compiled for the library's default actor)
      const auto deadline = frag().next_deadline();
      if (deadline && *deadline < timer_deadline_) timer_.cancel();
    }
  }

  // Trickling, stalled and silent peers are closed at once; an idle one gracefully.
  void on_timeout(errc which) {
    const auto ec = make_error_code(which);
    if (which == errc::idle_timed_out) end_with(ec);
    else fail(ec);
  }

  // --- dispatcher ----------------------------------------------------------------------------

  asio::awaitable<void> dispatcher() {
    co_await asio::this_coro::throw_if_cancelled(false);
    while (!closing_ && !draining_) {
      if (requests_.empty()) {
        if (reader_done_) break;
        co_await dispatch_bell_.wait();
        continue;
      }
      Request request = requests_.pop();
      command_in_flight_ = true;
      wake_reader();
      co_await handle(request);
      inbound_bytes_ -= request.bytes;  // held until its handler is done with it
      end_command(std::move(request.packet));
      command_in_flight_ = false;
      wake_reader();  // the budget may let it go on
    }
    dispatch_done_ = true;
    pushes_->close();  // no more requests: the connection ends once the queues are drained
    wake_writer();
  }

  // Runs the request's handler (unless it ran inline already) and queues its answer, waiting
  // for room when there is none. Two coroutine frames per request at most: this and a
  // coroutine handler's, which Asio's per-thread cache recycles.
  asio::awaitable<void> handle(Request& request) {
    P& packet = request.packet;
    if (!request.response && !request.failure) {
      const auto* route = app_->find(packet.id());
      if (route == nullptr) {
        co_await on_unknown_id(packet);
        co_return;
      }
      try {
        if (route->sync) {
          request.response.emplace(route->sync(packet, ctx_));
        } else {
          response_type r = co_await route->async(packet, ctx_);
          request.response.emplace(std::move(r));
        }
      } catch (...) {
        request.failure = std::current_exception();
      }
      if (closing_) co_return;
    }
    if (request.failure) {
      co_await on_handler_failure(packet, request.correlation,
                                  WireframeError<E>::io(make_error_code(errc::handler_failed)),
                                  detail::describe_exception(request.failure));
      co_return;
    }
    if (try_queue_response(*request.response, request.correlation)) {
      ring_pending_bells(false);
      co_return;
    }
    co_await send_response(std::move(*request.response), packet, request.correlation);
  }

  asio::awaitable<void> send_response(response_type response, P& request, std::uint64_t correlation) {
    auto& v = response.value();
    if (auto* single = std::get_if<typename response_type::Single>(&v)) {
      co_await enqueue(std::move(single->frame), correlation);
    } else if (auto* vec = std::get_if<typename response_type::Vec>(&v)) {
      for (auto& frame : vec->frames) co_await enqueue(std::move(frame), correlation);
    } else if (auto* stream = std::get_if<typename response_type::Stream>(&v)) {
      co_await run_stream(std::move(*stream), request, correlation);
    }
  }

  // Waits for room in the outbound ring and the outbound byte budget (back-pressure from a slow
  // peer), then says whether `size` more bytes may be queued. False when closing, or when they
  // would break max_outbound_bytes (the connection is then closed).
  asio::awaitable<bool> wait_for_room(std::size_t size) {
    while (!closing_ && (out_.full() || (pushes_->paused() && pushes_->outbound_bytes() != 0) ||
                         large_response_in_lane())) {
      co_await dispatch_bell_.wait();
    }
    if (closing_) co_return false;
    const std::size_t held = pushes_->outbound_bytes();
    const std::size_t hard = app_->settings.max_outbound_bytes;
    if (held != 0 && (held > hard || size > hard - held)) {
      fail(make_error_code(errc::output_limit_exceeded),
           fmt::format("a {}-byte response on top of {} queued bytes", size, held));
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<void> enqueue(P frame, std::uint64_t correlation) {
    frame.set_correlation_id(correlation);
    const std::size_t size = frame.encoded_size();
    // g++ 12 miscompiles `if (!co_await ...)` here (ud2): keep the result in a local.
    const bool room = co_await wait_for_room(size);
    if (!room) co_return;  // closing: the frame is dropped with the connection
    out_.push(OutItem(std::in_place_type<P>, std::move(frame)));
    queued_response_bytes_ += size;
    publish_outbound_bytes();
    pushes_->pause_if_above_high();
    wake_writer();
  }

  // Hands the stream to the writer and waits for its end: commands run one at a time, so the
  // next request is dispatched only after the whole stream was written.
  asio::awaitable<void> run_stream(typename response_type::Stream stream, P& request, std::uint64_t correlation) {
    const bool room = co_await wait_for_room(0);
    if (!room) co_return;
    stream_.emplace(std::move(stream));
    stream_correlation_ = correlation;
    stream_error_.reset();
    out_.push(OutItem(std::in_place_type<StreamMarker>));
    stream_->start(socket_.get_executor(), &ring_writer, this);
    wake_writer();
    while (stream_ && !closing_) co_await dispatch_bell_.wait();
    // A hard close leaves the stream mid-way. Destroy it (cancelling its pending await) before
    // `request`, which it may reference, goes away with this command.
    if (closing_) stream_.reset();
    if (closing_) co_return;
    if (stream_error_) {
      auto [error, detail_text] = std::move(*stream_error_);
      stream_error_.reset();
      co_await on_handler_failure(request, correlation, std::move(error), detail_text);
    } else if constexpr (Stack::has_protocol) {
      std::optional<P> terminator = stack_.protocol().stream_end_frame();
      if (terminator) co_await enqueue(std::move(*terminator), correlation);
    }
  }

  static void ring_writer(void* self) { static_cast<ConnectionActor*>(self)->wake_writer(); }

  asio::awaitable<void> on_unknown_id(P& request) {
    detail::log(LogLevel::debug, "connection {} ({}): no route for message id {}", ctx_.id(),
                peer_text(), request.id());
    if (app_->unknown_policy == UnknownIdPolicy::error_frame) {
      co_await send_error_frame(request, request.correlation_id(),
                                WireframeError<E>::io(make_error_code(errc::unknown_message_id)));
    }
  }

  asio::awaitable<void> on_handler_failure(P& request, std::uint64_t correlation, WireframeError<E> error,
                                           std::string_view what) {
    stack_.protocol().handle_error(error);
    detail::log(LogLevel::warn, "connection {} ({}): handler for message id {} failed: {}{}{}",
                ctx_.id(), peer_text(), request.id(), error, what.empty() ? "" : ": ", what);
    switch (app_->error_policy) {
      case HandlerErrorPolicy::log: break;
      case HandlerErrorPolicy::error_frame: co_await send_error_frame(request, correlation, error); break;
      case HandlerErrorPolicy::close:
        if (!reason_) reason_ = make_error_code(errc::handler_failed);
        shutdown();
        break;
    }
  }

  asio::awaitable<void> send_error_frame(P& request, std::uint64_t correlation, const WireframeError<E>& error) {
    std::optional<P> frame = app_->error_frame(request, error);
    if (frame) co_await enqueue(std::move(*frame), correlation);
  }

  // --- writer --------------------------------------------------------------------------------

  asio::awaitable<void> writer() {
    co_await asio::this_coro::throw_if_cancelled(false);
    for (;;) {
      if (closing_) co_return;  // 1. shutdown signal (hard)
      gather();
      if (!wbuf_.empty()) {
        publish_outbound_bytes();
        std::error_code ec;
        // The reader may have written the start of this batch already (flush_inline).
        std::size_t done = std::exchange(batch_sent_, 0);
        if (done == 0) done = write_at_once(ec);
        const bool suspended = !ec && done < wbuf_.size();
        if (suspended) {
          writing_ = true;  // the batch is not to be touched (encode_directly) until written
          ec = co_await write_rest(done);
          writing_ = false;
        }
        after_write();
        if (ec) {
          if (!closing_) fail(ec, "write");
          co_return;
        }
        inline_writes_ = suspended ? 0 : inline_writes_ + 1;
        if (inline_writes_ == max_inline_writes) {
          // With sources that never run out (pushes from other threads, a hook that pushes as
          // it sends) and a peer that reads as fast, the writer would never suspend: let the
          // worker's other connections run.
          inline_writes_ = 0;
          co_await asio::post(socket_.get_executor(), asio::use_awaitable);
        }
        continue;
      }
      if (dispatch_done_ && out_.empty() && pushes_drained()) break;  // everything sent
      wbuf_.bytes().release();  // parked connections hold no write buffer (it is pooled)
      inline_writes_ = 0;
      writer_parked_ = true;
      co_await writer_bell_.wait();  // nothing ready anywhere: park
      writer_parked_ = false;
    }
    asio::error_code ignored;  // orderly end: the peer reads EOF after our last frame
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    writer_finished_ = true;
    timer_.cancel();  // the watchdog's work ends with the writer's
  }

  // A batch went out (or failed): the buffer is free, the budget shrinks, and whoever waited for
  // room is woken.
  void after_write() {
    wbuf_.clear();
    release_borrowed();
    if constexpr (fragments) frag_written();
    publish_outbound_bytes();
    const bool lane_was_big = lane_was_big_;
    lane_was_big_ = large_response_in_lane();
    const bool lane_freed = lane_was_big && !lane_was_big_;
    if (pushes_->resume_if_below_low() || lane_freed) {  // everything (else) resumes
      wake_reader();
      dispatch_bell_.ring();
    }
  }

  // The batch's first write: one non-blocking write, inline, so that a batch the kernel takes
  // at once (the usual case) costs one syscall and no suspension of the writer. Returns the
  // bytes written; what the kernel did not take is for write_rest().
  std::size_t write_at_once(std::error_code& error) {
    asio::error_code ec;
    const std::size_t n = socket_.write_some(wbuf_.buffers(), ec);  // non-blocking: see run()
    if (ec == asio::error::would_block || ec == asio::error::try_again) return 0;
    error = ec;
    if (!ec && n == wbuf_.size()) timeouts_.write_finished(clock::now());
    return n;
  }

  // The rest of a batch after its first `done` bytes (in write_seq_), each step of progress
  // reported to the timeouts: a peer that reads slowly but steadily is not a stalled one.
  // (async_write would hide the partial progress.)
  asio::awaitable<std::error_code> write_rest(std::size_t done) {
    const std::span<const asio::const_buffer> batch = wbuf_.buffers();
    write_seq_.assign(batch.begin(), batch.end());
    std::size_t first = 0;  // buffers before it are written
    const auto consume = [&](std::size_t n) {
      for (; first < write_seq_.size() && n >= write_seq_[first].size(); ++first) n -= write_seq_[first].size();
      if (first < write_seq_.size()) write_seq_[first] += n;
    };
    consume(done);
    timeouts_.write_started(clock::now());
    while (first < write_seq_.size()) {
      const std::span<const asio::const_buffer> rest(write_seq_.data() + first, write_seq_.size() - first);
      auto [ec, n] = co_await socket_.async_write_some(rest, detail::use_nothrow);
      if (ec) co_return ec;
      timeouts_.write_progress(clock::now());
      consume(n);
    }
    timeouts_.write_finished(clock::now());
    co_return std::error_code{};
  }

  // What the actor holds of the outbound byte budget: queued responses and the batch being
  // built or written; the push queues add theirs. A large message the writer is fragmenting is
  // not counted: it is the writer's work in hand (one per lane), and counting it would pause
  // everything, pushes included, for as long as it takes to send, so a push could no longer
  // overtake it between two fragments.
  void publish_outbound_bytes() { pushes_->set_actor_bytes(queued_response_bytes_ + wbuf_.size()); }

  // The biased select: one frame (or fragment) at a time from the highest-priority source that
  // has one, so priority is re-evaluated after every frame; stops when the batch is full or all
  // sources are empty.
  void gather() {
    const std::size_t limit = app_->settings.max_write_batch;
    while (!closing_ && wbuf_.size() < limit) {
      if (!write_next_frame()) return;
    }
  }

  // Sources in strict order: 1. shutdown (closing_, checked by the caller), 2. high pushes,
  // 3. low pushes, 4. the response source; with fairness (max_high_before_low = n > 0): after n
  // high frames in a row a low frame goes first, and after n pushed frames in a row the response
  // source goes first, when they have something. Each source is a Lane: with fragmentation, a
  // lane part-way through a large message offers that message's next fragment, so a high push
  // still overtakes a large response between two of its fragments (when the strategy allows
  // fragments to interleave; otherwise the message's lane is served alone until it is done).
  bool write_next_frame() {
    if (const auto only = frag().exclusive()) return write_from(*only) && counted(*only);
    const std::size_t n = app_->settings.max_high_before_low;
    if (n > 0 && pushes_in_a_row_ >= n && write_from(Lane::response)) return counted(Lane::response);
    if (!push_work()) {  // no lock taken when nothing was pushed
      high_in_a_row_ = 0;
    } else {
      const bool high_turn = n == 0 || high_in_a_row_ < n;
      if (high_turn) {
        if (write_from(Lane::high)) return counted(Lane::high);
        high_in_a_row_ = 0;  // the high queue is empty: its streak is over
      }
      if (write_from(Lane::low)) return counted(Lane::low);
      if (!high_turn && write_from(Lane::high)) return counted(Lane::high);  // low had nothing
    }
    return write_from(Lane::response) && counted(Lane::response);
  }

  // Fairness bookkeeping for a frame written from `lane`. A response does not end the high
  // streak: only a low frame (or an empty high queue) does, so low still gets its turn when
  // high, low and responses are all ready.
  bool counted(Lane lane) {
    if (lane == Lane::response) {
      pushes_in_a_row_ = 0;
    } else {
      high_in_a_row_ = lane == Lane::high ? high_in_a_row_ + 1 : 0;
      ++pushes_in_a_row_;
    }
    return true;
  }

  bool push_work() const {
    return pushes_->maybe_nonempty() || frag().active(Lane::high) || frag().active(Lane::low);
  }

  // Writes one frame, or the next fragment of the lane's message, from `lane`'s source into
  // the batch. False when that source has nothing to write now.
  bool write_from(Lane lane) {
    std::error_code ec;
    if constexpr (fragments) {
      if (frag().active(lane)) {
        std::optional<P> finished = frag().write_next(lane, wbuf_, ec);
        if (ec) report_unsent(lane, ec);
        if (finished) recycle(std::move(*finished));
        return true;
      }
      if (!frag().ready(lane)) return false;  // its buffer is still in the batch
    }
    std::optional<P> frame = take_from(lane);
    if (!frame) return false;
    if constexpr (Stack::protocol_sees_frames) stack_.protocol().before_send(*frame);
    if constexpr (fragments) {
      std::optional<P> done = frag().write(lane, std::move(*frame), wbuf_, ec);
      if (ec) report_unsent(lane, ec);
      if (done) recycle(std::move(*done));
      return true;
    }
    if (!encode_borrowed(*frame)) {
      encode(*frame);
      recycle(std::move(*frame));
    }
    return true;
  }

  // A large payload goes out from the packet itself: codec prefix and packet header into the
  // write buffer, the payload as a borrowed slice, the packet kept until the write is done. So
  // a large reply is never copied, nor held twice. One such packet per batch (a batch is full
  // after it anyway). False when the packet or codec cannot, or the payload is small.
  bool encode_borrowed(P& frame) {
    if constexpr (SplitEncodablePacket<P> && PrefixFrameCodec<typename Stack::codec_type>) {
      if (borrowed_ || frame.payload().size() < borrow_threshold) return false;
      borrowed_.emplace(std::move(frame));  // a moved vector keeps its buffer: the span holds
      const auto payload = borrowed_->payload();
      const std::size_t header = borrowed_->encoded_header_size();
      ByteBuffer& out = wbuf_.bytes();
      if (auto ec = stack_.codec().encode_prefix(header + payload.size(), out)) {  // appends nothing
        detail::log(LogLevel::error, "connection {}: dropped an outbound frame (message id {}, {} bytes): {}",
                    ctx_.id(), borrowed_->id(), header + payload.size(), ec.message());
        release_borrowed();
        return true;
      }
      const std::span<std::byte> dst = out.prepare(header);
      if (dst.size() != header) {  // the write buffer has no cap: only if the codec lied
        fail(make_error_code(errc::frame_too_large), "write buffer at its cap");
        return true;
      }
      borrowed_->encode_header_to(dst);
      out.commit(header);
      wbuf_.add_borrowed(payload);
      return true;
    } else {
      (void)frame;
      return false;
    }
  }

  std::optional<P> take_from(Lane lane) {
    if (lane == Lane::response) return next_response_frame();
    std::optional<P> frame = pushes_->try_pop(lane == Lane::high ? PushPriority::high : PushPriority::low);
    if (frame) frame->set_correlation_id(0);  // server-initiated: answers no request
    return frame;
  }

  void report_unsent(Lane lane, const std::error_code& ec) {
    detail::log(LogLevel::error, "connection {}: dropped an outbound {} frame: {}", ctx_.id(),
                lane == Lane::response ? "response" : "pushed", ec.message());
  }

  bool pushes_drained() const { return !push_work() && !frag().active(Lane::response); }

  std::optional<P> next_response_frame() {
    while (!out_.empty()) {
      if (auto* frame = std::get_if<P>(&out_.front())) {
        P taken = std::move(*frame);
        (void)out_.pop();
        queued_response_bytes_ -= taken.encoded_size();  // now in the batch (wbuf_), still counted
        dispatch_bell_.ring();  // room in the ring again
        return taken;
      }
      switch (stream_->poll()) {
        case Stream<P, E>::State::item: {
          P taken = stream_->take();
          taken.set_correlation_id(stream_correlation_);
          return taken;
        }
        case Stream<P, E>::State::pending: return std::nullopt;
        case Stream<P, E>::State::failed:
          stream_error_.emplace(stream_->error(), detail::describe_exception(stream_->exception()));
          [[fallthrough]];
        case Stream<P, E>::State::done:
          stream_.reset();
          (void)out_.pop();
          dispatch_bell_.ring();  // the dispatcher waits for the stream's end
          break;
      }
    }
    return std::nullopt;
  }

  void encode(const P& frame) {
    const std::size_t n = frame.encoded_size();
    auto ec = stack_.codec().encode(n, wbuf_.bytes(), [&frame](std::span<std::byte> dst) { frame.encode_to(dst); });
    if (ec) {
      detail::log(LogLevel::error, "connection {}: dropped an outbound frame (message id {}, {} bytes): {}",
                  ctx_.id(), frame.id(), n, ec.message());
    }
  }

  // --- packet recycling ----------------------------------------------------------------------

  // The batch is out: the fragment lanes' slices are free, and the messages whose last
  // fragments it carried come back for recycling.
  void frag_written() {
    if constexpr (fragments) {
      frag().written();
      for (Lane lane : {Lane::high, Lane::low, Lane::response}) {
        if (auto done = frag().reclaim(lane)) recycle(std::move(*done));
      }
    }
  }

  typename Stack::fragments_type& frag() noexcept { return stack_.fragments(); }
  const typename Stack::fragments_type& frag() const noexcept { return stack_.fragments(); }

  void release_borrowed() {
    if (!borrowed_) return;
    recycle(std::move(*borrowed_));
    borrowed_.reset();
  }

  P take_pooled() { return detail::PacketPool<P>::local().take(); }
  void recycle(P&& p) { detail::PacketPool<P>::local().give(std::move(p)); }

  // --- misc ----------------------------------------------------------------------------------

  asio::ip::tcp::endpoint endpoint(bool remote) const {
    asio::error_code ec;
    auto ep = remote ? socket_.remote_endpoint(ec) : socket_.local_endpoint(ec);
    return ec ? asio::ip::tcp::endpoint{} : ep;
  }

  std::string peer_text() const {
    return ctx_.peer().address().to_string() + ":" + std::to_string(ctx_.peer().port());
  }

  asio::ip::tcp::socket socket_;
  std::shared_ptr<const App> app_;
  ConnectionTracker& tracker_;
  ConnectionContext ctx_;
  Stack stack_;  // this connection's processor stages (after ctx_: the protocol's hooks see it)

  ByteBuffer rbuf_;
  GatherBuffer wbuf_;
  detail::RingQueue<Request> requests_;
  detail::RingQueue<OutItem> out_;

  std::optional<Stream<P, E>> stream_;
  std::uint64_t stream_correlation_ = 0;
  std::optional<std::pair<WireframeError<E>, std::string>> stream_error_;

  // Rung by this connection's tasks and, through pushes_ while it is open, by producers on any
  // thread. Owned here, not by pushes_: push handles may outlive the connection's io_context.
  detail::ConcurrentDoorbell writer_bell_;
  std::shared_ptr<detail::PushQueues<P>> pushes_;
  detail::Doorbell reader_bell_;
  detail::Doorbell dispatch_bell_;
  detail::Doorbell done_bell_;
  asio::cancellation_signal reader_cancel_;
  asio::cancellation_signal dispatch_cancel_;
  asio::cancellation_signal writer_cancel_;

  asio::steady_timer timer_;  // the watchdog's, then the lingering close's
  clock::time_point timer_deadline_ = clock::time_point::max();
  asio::cancellation_signal timer_cancel_;
  detail::ConnectionTimeouts timeouts_;
  std::vector<asio::const_buffer> write_seq_;  // the part of the batch not yet written
  static constexpr int max_inline_writes = 16;  // batches written without a suspension, at most
  int inline_writes_ = 0;
  std::optional<P> borrowed_;  // the packet whose payload the batch borrows (encode_borrowed)
  static constexpr std::size_t borrow_threshold = 64 * 1024;
  std::size_t inbound_bytes_ = 0;           // requests decoded and not yet done with
  std::size_t queued_response_bytes_ = 0;   // response frames in out_
  bool inbound_blocked_ = false;            // the next frame waits for inbound budget
  bool peer_eof_ = false;
  bool stop_reading_ = false;               // bad bytes: read no more, answer what was read
  bool reader_waiting_ = false;             // parked in reader() for room (back-pressure)
  bool lane_was_big_ = false;               // large_response_in_lane() after the last write
  bool writer_finished_ = false;
  std::size_t high_in_a_row_ = 0;
  std::size_t pushes_in_a_row_ = 0;
  int live_tasks_ = 0;
  bool draining_ = false;
  bool closing_ = false;
  bool reader_done_ = false;
  bool socket_drained_ = false;
  bool dispatch_done_ = false;
  bool command_in_flight_ = false;          // the dispatcher runs a command (inline waits)
  bool dispatch_pending_ = false;           // requests deferred since the last ring
  bool writer_pending_ = false;             // frames queued since the writer was last rung
  bool writer_parked_ = false;              // the writer waits on its bell: nothing to write
  bool writing_ = false;                    // the writer awaits a write of the batch
  std::size_t batch_sent_ = 0;              // bytes of the batch flush_inline already wrote
  std::error_code reason_;
};

}  // namespace wireframe
