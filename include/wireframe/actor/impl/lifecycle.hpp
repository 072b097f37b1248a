#pragma once
// ConnectionActor's life: start, graceful and hard close, the end (finish), the lingering close,
// teardown. Included by actor/connection_actor.hpp only.

#include "wireframe/actor/connection_actor.hpp"  // the class these members belong to

namespace wireframe {

// One allocation per connection: the actor and its push queues. PushHandles (and the session
// registry's weak references) point into the queues and may outlive the actor; the actor is
// destroyed in place when its last Ref goes (drop_ref), and the allocation is freed when the
// last of those goes too. Until then it holds no socket, buffer or user object, only memory.
template <class App, StreamSocket Socket>
struct ConnectionActor<App, Socket>::Block {
  Block() {}  // NOLINT: leaves `actor` uninitialised (launch constructs it)
  std::optional<detail::PushQueues<P>> pushes;  // emplaced by the actor's constructor
  alignas(ConnectionActor) std::byte actor[sizeof(ConnectionActor)];
};

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::launch(Socket socket, std::shared_ptr<const App> app, ConnectionId id,
                                  ConnectionTracker& tracker, detail::ConnectionPrelude prelude) {
  auto block = std::make_shared<Block>();
  void* place = block->actor;
  auto* actor = ::new (place) ConnectionActor(std::move(socket), std::move(app), id, tracker, std::move(block));
  const Keep self(*actor);  // for start(): whatever it leaves pending holds the actor from here on
  actor->ctx_.set_preamble(std::move(prelude.preamble));
  actor->start(prelude.leftover);
}

// The bytes the opening read after the preamble: the first the reader decodes.
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::take_leftover(const std::vector<std::byte>& bytes) {
  if (bytes.empty()) return true;
  if (rbuf_.append(bytes)) {
    read_at_ = clock::now();  // a partial frame's read timeout counts from here
    return true;
  }
  // Only a preamble decoder whose max_size() exceeds a frame and a read chunk gets here.
  fail(make_error_code(errc::frame_too_large), "the bytes after the preamble exceed the read buffer");
  return false;
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::drop_ref() noexcept {
  if (!refs_.drop()) return;
  const std::shared_ptr<Block> block = std::move(block_);  // freed below unless a PushHandle holds it
  this->~ConnectionActor();
}

// The queues as PushHandles hold them: sharing the Block's ownership.
template <class App, StreamSocket Socket>
auto ConnectionActor<App, Socket>::shared_pushes() const -> std::shared_ptr<detail::PushQueues<P>> {
  return {block_, &pushes_};
}

template <class App, StreamSocket Socket>
ConnectionActor<App, Socket>::ConnectionActor(Socket socket, std::shared_ptr<const App> app,
                                      ConnectionId id, ConnectionTracker& tracker, std::shared_ptr<Block> block)
    : block_(std::move(block)),
      socket_(std::move(socket)),
      app_(std::move(app)),
      tracker_(tracker),
      ctx_(id, socket_.get_executor(), detail::addresses_of(endpoint(true), endpoint(false)), app_->state),
      stack_(app_->codec, app_->stages, ctx_),
      rbuf_(saturating_add(saturating_add(app_->codec.max_frame_length(), app_->codec.max_overhead()),
                           app_->settings.read_chunk_size)),
      requests_(app_->settings.max_pipelined_requests),
      out_(app_->settings.max_queued_frames),
      pushes_(block_->pushes.emplace(
          *this, id, app_->settings.high_push_capacity, app_->settings.low_push_capacity,
          PushRateLimit{app_->settings.push_rate, app_->settings.push_burst}, app_->dead_letters,
          OutboundBudget{app_->settings.outbound_low_watermark, app_->settings.outbound_high_watermark,
                         app_->settings.max_outbound_bytes})),
      timer_(socket_.get_executor()),
      timeouts_(timeout_settings(app_->settings), clock::now()) {
  if constexpr (requires { socket_.session(); }) ctx_.set_tls(socket_.session().get());
  if constexpr (fragments) ctx_.set_reassembly_source(&frag());
  pushes_.set_metrics(app_->metrics);
  pushes_.events().open(app_->logger.resolve(), id, ctx_.peer_name());
  trace_opened();  // before any PushHandle exists: the queues learn the connection's span
  ctx_.set_events(&pushes_.events());
  ctx_.set_push_queues(shared_pushes());
  ctx_.set_usage_source(this);
  ctx_.set_control(this);
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::start(const std::vector<std::byte>& leftover) {
  tracker_.add(*this);  // may call shutdown() at once: the server is stopping
  count_opened();
  events().template emit<LogLevel::debug>(Event::connection_opened, "transport={}", transport_name());
  if (app_->registry) app_->registry->add(ctx_.id(), shared_pushes());
  if (make_non_blocking() && take_leftover(leftover) && run_setup_hook()) {
    if constexpr (Stack::has_protocol) stack_.protocol().on_connection_setup(ctx_.push_handle<P>());
    reader_active_ = true;
    guarded(Part::reader, [this] { read_loop(); });
    if (fragments || timeouts_.any()) guarded(Part::watchdog, [this] { watchdog(); });
  }
  guarded(Part::end, [this] { maybe_finish(); });  // a failed setup: nothing was started
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::shutdown() {
  if (draining_ || closing_) return;
  draining_ = true;
  timeouts_.draining();  // only a stalled write matters from here on
  pushes_.close();      // no new pushes; the queued ones are still written
  cancel_read();
  ring_dispatcher();
  commands_maybe_done();
  timer_.cancel();
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::force_close() {
  if (!reason_) reason_ = make_error_code(errc::shutting_down);
  close_now();
}

template <class App, StreamSocket Socket>
template <class F>
void ConnectionActor<App, Socket>::post(F&& f) {
  asio::post(socket_.get_executor(), std::forward<F>(f));
}

template <class App, StreamSocket Socket>
template <class F>
void ConnectionActor<App, Socket>::guarded(Part part, F&& f) noexcept {
  try {
    f();
  } catch (...) {
    on_fault(part, std::current_exception());
  }
}

// The part that threw stops as if it had ended, and the connection closes: nothing of it is
// left waiting for an operation that was never started.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::on_fault(Part part, const std::exception_ptr& e) noexcept {
  static constexpr const char* names[] = {"reader", "writer", "watchdog", "end"};
  try {
    events().template emit_noexcept<LogLevel::error>(Event::connection_fault, "part={} error=\"{}\"",
                                                     names[static_cast<int>(part)], detail::describe_exception(e));
    if (!reason_) reason_ = make_error_code(errc::handler_failed);
    close_now();
    switch (part) {
      case Part::reader:
        reader_waiting_ = false;
        if (!reader_op_) end_reader();
        break;
      case Part::writer:
        if (!writing_) writer_busy_ = false;
        maybe_finish();
        break;
      case Part::watchdog:
      case Part::end: maybe_finish(); break;
    }
  } catch (...) {  // out of memory while logging or closing: the socket is closed at least
    asio::error_code ignored;
    socket_.close(ignored);
  }
}

template <class App, StreamSocket Socket>
detail::ConnectionTimeouts::Settings ConnectionActor<App, Socket>::timeout_settings(const ConnectionSettings& s) noexcept {
  return {s.read_timeout, s.write_timeout, s.idle_timeout, s.handshake_timeout, s.read_idle_timeout};
}

// Non-blocking at user level too, so that the reader's speculative reads and the writer's first,
// inline write of a batch return would_block instead of blocking the worker.
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::make_non_blocking() {
  asio::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) fail(ec, "non_blocking");
  return !ec;
}

template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::run_setup_hook() {
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

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::run_teardown_hook() noexcept {
  if (!app_->teardown) return;
  try {
    app_->teardown(ctx_, reason_);
  } catch (...) {
    events().template emit_noexcept<LogLevel::error>(Event::hook_failed, "hook=on_connection_teardown error=\"{}\"",
                                                     detail::describe_exception(std::current_exception()));
  }
}

// Records the first error, logs it and closes the connection at once (I/O errors, stalled or
// trickling peers, faults in our own code).
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::fail(std::error_code ec, std::string_view what) {
  report(ec, what);
  close_now();
}

// Records the first error, logs it and ends the connection gracefully: no more reading, the
// command in flight finishes, what is queued is written, then the lingering close.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::end_with(std::error_code ec, std::string_view what) {
  report(ec, what);
  shutdown();
}

// The reader ends as at EOF (bad bytes from the peer): the requests already decoded are
// answered, then the connection closes.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::stop_reading() {
  stop_reading_ = true;
  cancel_read();
}

// The first error is the connection's reason to close; it and its detail go into the
// connection.closed event (report_closed). Later ones (a write failing after a read timeout)
// change nothing.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::report(std::error_code ec, std::string_view what) {
  const bool disconnect = detail::is_disconnect(ec);
  const bool requested = ec == errc::closed_by_request;  // the app's own decision, not an error
  if (!disconnect && !requested && !closing_) stack_.protocol().handle_error(WireframeError<E>::io(ec));
  if (reason_) return;
  reason_ = ec;
  reason_detail_ = what;
}

// connection.closed: why, after how long, at a level by why (a peer leaving is no news).
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::report_closed() const {
  const auto ms = std::chrono::duration<double, std::milli>(clock::now() - events().opened_at()).count();
  if (!reason_) return events().template emit<LogLevel::debug>(Event::connection_closed, "reason=clean duration_ms={:.3f}", ms);
  const auto level = detail::is_disconnect(reason_)        ? LogLevel::debug
                     : reason_ == errc::closed_by_request ? LogLevel::info
                                                          : LogLevel::warn;
  events().emit(level, Event::connection_closed, "reason={} duration_ms={:.3f} error=\"{}{}{}\"",
                detail::ConnectionMetrics::reason_name(reason_), ms, reason_.message(),
                reason_detail_.empty() ? "" : ": ", reason_detail_);
}

template <class App, StreamSocket Socket>
const char* ConnectionActor<App, Socket>::transport_name() const noexcept {
  if constexpr (requires { socket_.session(); }) return "tls";
  switch (ctx_.transport()) {
    case Transport::tcp: return "tcp";
    case Transport::unix_domain: return "unix";
    case Transport::memory: return "memory";
  }
  return "unknown";
}

// Everything pending completes at once (operation_aborted), the dispatcher's coroutine handler
// is cancelled, and the actor ends when the last of them has returned. Never ends the actor
// inline: the tracker may be iterating over its connections.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::close_now() {
  if (closing_) return;
  closing_ = true;
  dispatch_cancel_.emit(asio::cancellation_type::terminal);
  asio::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  ring_dispatcher();
  wake_reader();
  if (!finished_) post([self = keep()] { self->guarded(Part::end, [&] { self->maybe_finish(); }); });
}

// The end, once nothing of the connection runs any more: no reader, no dispatcher, no writer
// (it finished writing, or the connection is closing hard) and no watchdog.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::maybe_finish() {
  if (finished_ || reader_active_ || writer_busy_ || dispatcher_running_ || timer_pending_) return;
  if (!closing_ && !writer_finished_) return;  // it still has frames to write: it was woken for them
  finished_ = true;
  stream_.reset();  // a stream cut off by a hard close: cancels its pending await
  cancel_queued_spans();  // requests never run: a hard close, or queued behind a drain
  if (app_->registry) app_->registry->remove(ctx_.id());
  report_lost_pushes();
  if (!should_linger()) return final_close();
  asio::co_spawn(socket_.get_executor(), linger(), [self = keep()](const std::exception_ptr&) {
    self->guarded(Part::end, [&] { self->final_close(); });
  });
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::final_close() {
  asio::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  count_closed();
  try {
    report_closed();
  } catch (...) {  // a user's logger threw: the connection ends all the same
  }
  trace_closed();
  run_teardown_hook();
  tracker_.remove(*this);
}

// --- lingering close ---------------------------------------------------------------------------

// Closing a socket with unread input makes the kernel send a reset, which destroys replies the
// peer has not read yet. So when the peer may still be sending, the actor has shut down its
// sending side (after its last frame) and now reads and discards until the peer closes too, for
// at most linger_timeout (nginx's lingering close).
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::should_linger() const {
  return !closing_ && !peer_eof_ && writer_finished_ && app_->settings.linger_timeout.count() > 0;
}

template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::input_pending() const {
  asio::error_code ec;
  return !rbuf_.empty() || !requests_.empty() || socket_.available(ec) > 0;
}

// A peer with input pending (or that sends within a short grace, a round trip or so: one caught
// between two writes) is still sending: read and discard until it closes, for at most
// linger_timeout. A quiet peer's connection closes at once.
template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::linger() {
  using namespace asio::experimental::awaitable_operators;
  constexpr std::chrono::milliseconds linger_grace{50};
  if (!input_pending()) {
    timer_.expires_after(std::min<std::chrono::milliseconds>(linger_grace, app_->settings.linger_timeout));
    const auto first = co_await (socket_.async_wait(asio::socket_base::wait_read, detail::use_nothrow) ||
                                 timer_.async_wait(detail::use_nothrow));
    if (first.index() != 0) co_return;               // the grace passed: a quiet peer
    if (std::get<0>(std::get<0>(first))) co_return;  // the socket failed
  }
  timer_.expires_after(app_->settings.linger_timeout);
  (void)co_await (discard_input() || timer_.async_wait(detail::use_nothrow));
}

template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::discard_input() {
  std::array<std::byte, 4096> sink;  // in this coroutine's frame: only while lingering
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(sink), detail::use_nothrow);
    if (ec) co_return;  // EOF (the peer closed), an error, or the timer won
  }
}

// Frames pushed but never written (hard close, or pushed while the connection ended) go to the
// dead letter queue, if any, and are logged.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::report_lost_pushes() {
  auto lost = pushes_.close_and_take();
  for (Lane lane : {Lane::high, Lane::low}) {  // pushes cut off part-way through their fragments
    if (auto frame = frag().abandon(lane)) lost.push_back(std::move(*frame));
  }
  if (lost.empty()) return;
  events().template emit<LogLevel::warn>(Event::push_dead_lettered, "count={} reason=connection_closed", lost.size());
  for (auto& frame : lost) pushes_.dead_letter(std::move(frame), make_error_code(errc::connection_closed));
}

template <class App, StreamSocket Socket>
auto ConnectionActor<App, Socket>::endpoint(bool remote) const -> typename Socket::endpoint_type {
  asio::error_code ec;
  auto ep = remote ? socket_.remote_endpoint(ec) : socket_.local_endpoint(ec);
  return ec ? typename Socket::endpoint_type{} : ep;
}

}  // namespace wireframe
