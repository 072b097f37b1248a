#pragma once
// ConnectionActor: one per connection; owns the socket and everything of that connection.
// Three coroutines on the connection's executor (one thread, so no locks):
//   reader     socket -> codec -> Packet -> request ring          (read-ahead, bounded)
//   dispatcher request ring -> router -> handler -> outbound ring (commands in order)
//   writer     biased select over its sources -> one gathered write at a time
// and, when the app fragments (with_fragmentation), a fourth: the reassembly timer. The
// fragment layer sits between codec and Packet in the reader, and per source ("lane") in the
// writer, so a high push can go out between two fragments of a large response.
// docs/architecture.md draws it; read that first.

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "wireframe/actor/doorbell.hpp"
#include "wireframe/actor/packet_pool.hpp"
#include "wireframe/actor/ring_queue.hpp"
#include "wireframe/app/connection_context.hpp"
#include "wireframe/app/wireframe_app.hpp"
#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/buffer/gather_buffer.hpp"
#include "wireframe/detail/asio.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/fragment/fragment_layer.hpp"
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
class ConnectionActor final : public TrackedConnection {
  using C = typename App::codec_type;
  using P = typename App::packet_type;
  using E = typename App::error_type;
  using response_type = typename App::response_type;

  struct StreamMarker {};  // "the current Stream goes here" in the outbound ring
  using OutItem = std::variant<P, StreamMarker>;
  using Lane = detail::Lane;
  using clock = std::chrono::steady_clock;

 public:
  ConnectionActor(asio::ip::tcp::socket socket, std::shared_ptr<const App> app, ConnectionId id,
                  ConnectionTracker& tracker)
      : socket_(std::move(socket)),
        app_(std::move(app)),
        tracker_(tracker),
        ctx_(id, socket_.get_executor(), endpoint(true), endpoint(false), app_->state),
        rbuf_(saturating_add(saturating_add(app_->codec.max_frame_length(), app_->codec.max_overhead()),
                             app_->settings.read_chunk_size)),
        requests_(app_->settings.max_pipelined_requests),
        out_(app_->settings.max_queued_frames),
        writer_bell_(socket_.get_executor()),
        pushes_(std::make_shared<detail::PushQueues<P>>(
            writer_bell_, id, app_->settings.high_push_capacity,
            app_->settings.low_push_capacity,
            PushRateLimit{app_->settings.push_rate, app_->settings.push_burst}, app_->dead_letters)),
        reader_bell_(socket_.get_executor()),
        dispatch_bell_(socket_.get_executor()),
        done_bell_(socket_.get_executor()),
        reassembly_timer_(socket_.get_executor()) {
    if (app_->fragmentation) {
      frag_ = app_->fragmentation(app_->codec);
      ctx_.set_reassembly_source(frag_.get());
    }
    ctx_.set_push_queues(pushes_);
    if (app_->protocol) {
      protocol_ = app_->protocol(ctx_);
      protocol_sees_frames_ = protocol_->sees_frames();
    }
  }

  [[nodiscard]] asio::any_io_executor executor() { return socket_.get_executor(); }

  // The actor's whole life. Returns after the three tasks have ended, the socket is closed and
  // teardown has run.
  asio::awaitable<void> run() {
    tracker_.add(*this);
    if (app_->registry) app_->registry->add(ctx_.id(), pushes_);
    if (run_setup_hook()) {
      if (protocol_) protocol_->on_connection_setup(ctx_.push_handle<P>());
      spawn(reader(), reader_cancel_);
      spawn(dispatcher(), dispatch_cancel_);
      spawn(writer(), writer_cancel_);
      if (frag_) spawn(reassembly_timeouts(), timer_cancel_);
      while (live_tasks_ > 0) co_await done_bell_.wait();
    }
    stream_.reset();  // a stream cut off by a hard close: cancels its pending await
    if (app_->registry) app_->registry->remove(ctx_.id());
    report_lost_pushes();
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
    pushes_->close();  // no new pushes; the queued ones are still written
    reader_cancel_.emit(asio::cancellation_type::terminal);
    wake_all();
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

  // Records the first error, logs it and closes the connection at once.
  void fail(std::error_code ec, std::string_view what = {}) {
    if (!reason_) reason_ = ec;
    const bool disconnect = detail::is_disconnect(ec);
    if (protocol_ && !disconnect && !closing_) protocol_->handle_error(WireframeError<E>::io(ec));
    const auto level = disconnect ? LogLevel::debug : LogLevel::warn;
    detail::log(level, "connection {} ({}): closing: {}{}{}", ctx_.id(), peer_text(), ec.message(),
                what.empty() ? "" : ": ", what);
    close_now();
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

  // Frames pushed but never written (hard close, or pushed while the connection ended) go to
  // the dead letter queue, if any, and are logged.
  void report_lost_pushes() {
    auto lost = pushes_->close_and_take();
    if (frag_) {  // pushes cut off part-way through their fragments
      for (Lane lane : {Lane::high, Lane::low}) {
        if (auto frame = frag_->abandon(lane)) lost.push_back(std::move(*frame));
      }
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
  }

  // --- reader --------------------------------------------------------------------------------

  asio::awaitable<void> reader() {
    co_await asio::this_coro::throw_if_cancelled(false);
    const std::size_t chunk = app_->settings.read_chunk_size;
    asio::error_code nb;
    socket_.non_blocking(true, nb);  // for the speculative read_some below
    while (!draining_ && !closing_) {
      if (!decode_buffered()) break;
      if (requests_.full()) {  // back-pressure: stop reading until the dispatcher catches up
        co_await reader_bell_.wait();
        continue;
      }
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
      socket_drained_ = n < space.size();  // a short read took everything the kernel had
    }
    reader_done_ = true;
    reassembly_timer_.cancel();  // no more fragments: pending timeouts no longer matter
    dispatch_bell_.ring();
  }

  // Decodes every complete frame in the read buffer (while the request ring has room).
  // False when the bytes are bad: the connection is then closing.
  bool decode_buffered() {
    const clock::time_point now = frag_ ? clock::now() : clock::time_point{};  // once per read
    while (!requests_.full()) {
      const DecodeResult res = app_->codec.decode(rbuf_.readable());
      if (res.status == DecodeStatus::need_more) break;
      if (res.status == DecodeStatus::error) {
        fail(res.error, "while decoding a frame");
        return false;
      }
      std::span<const std::byte> message = res.frame;
      if (frag_) {  // the frame is a fragment: on to the packet only once its message is whole
        const ReassemblyResult r = frag_->feed(res.frame, now);
        if (r.status != ReassemblyStatus::complete) {
          rbuf_.consume(res.consumed);
          if (r.status == ReassemblyStatus::error && !on_fragment_error(r)) return false;
          continue;
        }
        message = r.message;  // may view the frame itself: consumed only after decoding
      }
      P packet = take_pooled();
      if (auto ec = packet.decode_from(message)) {
        fail(ec, "while decoding a packet");
        return false;
      }
      rbuf_.consume(res.consumed);
      if (frag_) frag_->release();  // the reassembled bytes are in the packet now
      requests_.push(std::move(packet));
      dispatch_bell_.ring();
    }
    if (frag_) rearm_reassembly_timer();
    return true;
  }

  // A reassembly error: reported through the protocol hook and the log; then, as the app's
  // FragmentErrorPolicy says, the message is dropped (true: carry on) or the connection closes.
  bool on_fragment_error(const ReassemblyResult& r) {
    const std::string id = r.message_id ? fmt::format(" {}", *r.message_id) : std::string();
    if (fragment_error_closes(r.error, app_->fragment_policy)) {
      fail(r.error, fmt::format("fragmented message{} ({} bytes dropped)", id, r.dropped_bytes));
      return false;
    }
    if (protocol_) protocol_->handle_error(WireframeError<E>::io(r.error));
    detail::log(LogLevel::warn, "connection {} ({}): dropped fragmented message{} ({} bytes): {}",
                ctx_.id(), peer_text(), id, r.dropped_bytes, r.error.message());
    return true;
  }

  // --- reassembly timeouts -------------------------------------------------------------------

  // Sleeps until the oldest message in reassembly is due, then drops whatever is overdue. The
  // reader wakes it (rearm_reassembly_timer) when a new message makes the deadline earlier.
  asio::awaitable<void> reassembly_timeouts() {
    co_await asio::this_coro::throw_if_cancelled(false);
    while (!closing_ && !reader_done_) {
      const auto deadline = frag_->next_deadline();
      timer_deadline_ = deadline ? *deadline : clock::time_point::max();
      reassembly_timer_.expires_at(timer_deadline_);
      auto [ec] = co_await reassembly_timer_.async_wait(detail::use_nothrow);
      if (closing_ || reader_done_) break;
      if (ec) continue;  // re-armed (or cancelled): look at the deadline again
      frag_->expire(clock::now(), [this](const ReassemblyResult& r) { (void)on_fragment_error(r); });
    }
  }

  void rearm_reassembly_timer() {
    const auto deadline = frag_->next_deadline();
    if (deadline && *deadline < timer_deadline_) reassembly_timer_.cancel();
  }

  void on_read_error(const asio::error_code& ec) {
    if (ec == asio::error::eof) {
      // The peer finished sending. Answer what it sent, then close; bytes of an unfinished
      // frame can never complete.
      if (protocol_) protocol_->on_eof(rbuf_.readable());
      if (!rbuf_.empty()) fail(make_error_code(errc::truncated_frame), "peer closed mid-frame");
    } else if (!(ec == asio::error::operation_aborted && (draining_ || closing_))) {
      fail(ec, "read");
    }
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
      P request = requests_.pop();
      reader_bell_.ring();
      co_await handle(request);
      if (protocol_) protocol_->on_command_end();
      recycle(std::move(request));
      if (ctx_.close_requested()) shutdown();
    }
    dispatch_done_ = true;
    pushes_->close();  // no more requests: the connection ends once the queues are drained
    wake_writer();
  }

  asio::awaitable<void> handle(P& request) {
    const auto* handler = app_->find(request.id());
    if (handler == nullptr) {
      co_await on_unknown_id(request);
      co_return;
    }
    std::optional<response_type> response;
    std::exception_ptr failure;
    try {
      response_type r = co_await (*handler)(request, ctx_);
      response.emplace(std::move(r));
    } catch (...) {
      failure = std::current_exception();
    }
    if (closing_) co_return;
    if (failure) {
      co_await on_handler_failure(request, WireframeError<E>::io(make_error_code(errc::handler_failed)),
                                  detail::describe_exception(failure));
      co_return;
    }
    co_await send_response(std::move(*response), request);
  }

  asio::awaitable<void> send_response(response_type response, P& request) {
    const std::uint64_t correlation = request.correlation_id();
    auto& v = response.value();
    if (auto* single = std::get_if<typename response_type::Single>(&v)) {
      co_await enqueue(std::move(single->frame), correlation);
    } else if (auto* vec = std::get_if<typename response_type::Vec>(&v)) {
      for (auto& frame : vec->frames) co_await enqueue(std::move(frame), correlation);
    } else if (auto* stream = std::get_if<typename response_type::Stream>(&v)) {
      co_await run_stream(std::move(*stream), request);
    }
  }

  // Waits for room in the outbound ring (back-pressure from a slow peer), then queues.
  asio::awaitable<bool> wait_for_room() {
    while (out_.full() && !closing_) co_await dispatch_bell_.wait();
    co_return !closing_;
  }

  asio::awaitable<void> enqueue(P frame, std::uint64_t correlation) {
    frame.set_correlation_id(correlation);
    // g++ 12 miscompiles `if (!co_await ...)` here (ud2): keep the result in a local.
    const bool room = co_await wait_for_room();
    if (!room) co_return;  // closing: the frame is dropped with the connection
    out_.push(OutItem(std::in_place_type<P>, std::move(frame)));
    wake_writer();
  }

  // Hands the stream to the writer and waits for its end: commands run one at a time, so the
  // next request is dispatched only after the whole stream was written.
  asio::awaitable<void> run_stream(typename response_type::Stream stream, P& request) {
    const bool room = co_await wait_for_room();
    if (!room) co_return;
    stream_.emplace(std::move(stream));
    stream_correlation_ = request.correlation_id();
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
      co_await on_handler_failure(request, std::move(error), detail_text);
    } else if (protocol_) {
      std::optional<P> terminator = protocol_->stream_end_frame();
      if (terminator) co_await enqueue(std::move(*terminator), request.correlation_id());
    }
  }

  static void ring_writer(void* self) { static_cast<ConnectionActor*>(self)->wake_writer(); }

  asio::awaitable<void> on_unknown_id(P& request) {
    detail::log(LogLevel::debug, "connection {} ({}): no route for message id {}", ctx_.id(),
                peer_text(), request.id());
    if (app_->unknown_policy == UnknownIdPolicy::error_frame) {
      co_await send_error_frame(request,
                                WireframeError<E>::io(make_error_code(errc::unknown_message_id)));
    }
  }

  asio::awaitable<void> on_handler_failure(P& request, WireframeError<E> error, std::string_view what) {
    if (protocol_) protocol_->handle_error(error);
    detail::log(LogLevel::warn, "connection {} ({}): handler for message id {} failed: {}{}{}",
                ctx_.id(), peer_text(), request.id(), error, what.empty() ? "" : ": ", what);
    switch (app_->error_policy) {
      case HandlerErrorPolicy::log: break;
      case HandlerErrorPolicy::error_frame: co_await send_error_frame(request, error); break;
      case HandlerErrorPolicy::close:
        if (!reason_) reason_ = make_error_code(errc::handler_failed);
        shutdown();
        break;
    }
  }

  asio::awaitable<void> send_error_frame(P& request, const WireframeError<E>& error) {
    std::optional<P> frame = app_->error_frame(request, error);
    if (frame) co_await enqueue(std::move(*frame), request.correlation_id());
  }

  // --- writer --------------------------------------------------------------------------------

  asio::awaitable<void> writer() {
    co_await asio::this_coro::throw_if_cancelled(false);
    for (;;) {
      if (closing_) co_return;  // 1. shutdown signal (hard)
      gather();
      if (!wbuf_.empty()) {
        auto [ec, n] = co_await asio::async_write(socket_, wbuf_.buffers(), detail::use_nothrow);
        wbuf_.clear();
        if (frag_) frag_->written();
        if (ec) {
          if (!closing_) fail(ec, "write");
          co_return;
        }
        continue;
      }
      if (dispatch_done_ && out_.empty() && pushes_drained()) break;  // everything sent
      wbuf_.bytes().release();  // parked connections hold no write buffer (it is pooled)
      co_await writer_bell_.wait();  // nothing ready anywhere: park
    }
    asio::error_code ignored;  // orderly end: the peer reads EOF after our last frame
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }

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
    if (frag_) {
      if (const auto only = frag_->exclusive()) return write_from(*only) && counted(*only);
    }
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
    return pushes_->maybe_nonempty() || (frag_ && (frag_->active(Lane::high) || frag_->active(Lane::low)));
  }

  // Writes one frame, or the next fragment of the lane's message, from `lane`'s source into
  // the batch. False when that source has nothing to write now.
  bool write_from(Lane lane) {
    std::error_code ec;
    if (frag_ && frag_->active(lane)) {
      std::optional<P> finished = frag_->write_next(lane, wbuf_, ec);
      if (ec) report_unsent(lane, ec);
      if (finished) recycle(std::move(*finished));
      return true;
    }
    if (frag_ && !frag_->ready(lane)) return false;  // its buffer is still in the batch
    std::optional<P> frame = take_from(lane);
    if (!frame) return false;
    if (protocol_sees_frames_) protocol_->before_send(*frame);
    if (frag_) {
      std::optional<P> done = frag_->write(lane, std::move(*frame), wbuf_, ec);
      if (ec) report_unsent(lane, ec);
      if (done) recycle(std::move(*done));
      return true;
    }
    encode(*frame);
    recycle(std::move(*frame));
    return true;
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

  bool pushes_drained() const { return !push_work() && !(frag_ && frag_->active(Lane::response)); }

  std::optional<P> next_response_frame() {
    while (!out_.empty()) {
      if (auto* frame = std::get_if<P>(&out_.front())) {
        P taken = std::move(*frame);
        (void)out_.pop();
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
    auto ec = app_->codec.encode(n, wbuf_.bytes(), [&frame](std::span<std::byte> dst) { frame.encode_to(dst); });
    if (ec) {
      detail::log(LogLevel::error, "connection {}: dropped an outbound frame (message id {}, {} bytes): {}",
                  ctx_.id(), frame.id(), n, ec.message());
    }
  }

  // --- packet recycling ----------------------------------------------------------------------

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

  ByteBuffer rbuf_;
  GatherBuffer wbuf_;
  detail::RingQueue<P> requests_;
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

  std::unique_ptr<detail::ProtocolHooks<P, E>> protocol_;  // null without with_protocol()
  std::unique_ptr<detail::FragmentLayer<P>> frag_;         // null without with_fragmentation()
  asio::steady_timer reassembly_timer_;
  clock::time_point timer_deadline_ = clock::time_point::max();
  asio::cancellation_signal timer_cancel_;
  bool protocol_sees_frames_ = false;
  std::size_t high_in_a_row_ = 0;
  std::size_t pushes_in_a_row_ = 0;
  int live_tasks_ = 0;
  bool draining_ = false;
  bool closing_ = false;
  bool reader_done_ = false;
  bool socket_drained_ = false;
  bool dispatch_done_ = false;
  std::error_code reason_;
};

}  // namespace wireframe
