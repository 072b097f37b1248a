#pragma once
// ConnectionActor's reader: socket -> codec -> frame processors -> reassembly -> Packet, each
// request served inline or deferred to the dispatcher (impl/inline_dispatch.hpp). A loop that
// runs until it must wait, then starts one operation whose completion handler runs the loop
// again: an idle connection's reader is one pending wait for readability, in read_slot_.
// Included by actor/connection_actor.hpp only.

#include "wireframe/actor/connection_actor.hpp"  // the class these members belong to

namespace wireframe {

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::read_loop() {
  const std::size_t chunk = app_->settings.read_chunk_size;
  while (!draining_ && !closing_ && !stop_reading_) {
    const std::optional<std::size_t> frames = decode_buffered();
    if (!frames || draining_ || closing_) break;  // an inline handler may have ended it
    report_decoded(*frames);
    if (must_pause_reading()) {  // back-pressure: read no more until there is room (wake_reader)
      timeouts_.reader_paused(true, {});
      count_paused(detail::Direction::inbound, true);
      reader_waiting_ = true;
      return;
    }
    shrink_read_buffer();
    auto space = rbuf_.prepare(chunk);
    if (space.empty()) {  // only a codec understating max_overhead() gets here; never spin
      fail(make_error_code(errc::frame_too_large), "read buffer at its cap");
      break;
    }
    if (!rbuf_.empty()) {  // part of a frame is buffered anyway: wait for the rest with it
      reader_op_ = true;
      socket_.async_read_some(asio::buffer(space.data(), space.size()),
                              read_slot_.bind([self = keep(), asked = space.size()](asio::error_code ec, std::size_t n) {
                                self->reader_op_ = false;
                                self->guarded(Part::reader, [&] {
                                  if (self->after_read(ec, n, asked)) self->read_loop();
                                  else self->end_reader();
                                });
                              }));
      return;
    }
    // Nothing buffered. If the last read drained the socket, wait for readability first,
    // holding no buffer (it goes back to the worker's pool: an idle connection pins no read
    // buffer, nor a write buffer the reader's inline writes left), so that no read is spent on
    // EAGAIN; otherwise read what is there at once.
    if (socket_drained_) {
      rbuf_.release();
      if (!writer_busy_ && wbuf_.empty()) wbuf_.bytes().release();
      reader_op_ = true;
      socket_.async_wait(asio::socket_base::wait_read, read_slot_.bind([self = keep()](asio::error_code ec) {
        self->reader_op_ = false;
        self->socket_drained_ = false;
        self->guarded(Part::reader, [&] {
          if (!ec) return self->read_loop();
          self->on_read_error(ec);
          self->end_reader();
        });
      }));
      return;
    }
    asio::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(space.data(), space.size()), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      socket_drained_ = true;
      continue;
    }
    if (!after_read(ec, n, space.size())) break;
  }
  end_reader();
}

// A read returned: the bytes are committed (true), or the error is handled (false: the reader ends).
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::after_read(const asio::error_code& ec, std::size_t n, std::size_t asked) {
  if (ec) {
    on_read_error(ec);
    return false;
  }
  rbuf_.commit(n);
  count_read(n);
  read_at_ = clock::now();  // one clock read per socket read, for the timeouts (and metrics)
  socket_drained_ = n < asked;  // a short read took everything the kernel had
  return true;
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::end_reader() {
  if (!reader_active_) return;
  reader_active_ = false;
  reader_done_ = true;
  timeouts_.reader_done();
  timer_.cancel();  // the watchdog looks again: reassembly and read deadlines are over
  commands_maybe_done();
  maybe_finish();
}

// A reader paused for room runs again (posted: the caller is in the middle of a command or a
// write). Only when it waits: a wake per request would cost a post each.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::wake_reader() {
  if (!reader_waiting_) return;
  reader_waiting_ = false;
  post([self = keep()] {
    self->timeouts_.reader_paused(false, clock::now());
    self->count_paused(detail::Direction::inbound, false);
    self->guarded(Part::reader, [&] { self->read_loop(); });
  });
}

// Ends the reader's pending wait or read (operation_aborted; the reader then ends, seeing
// draining_, closing_ or stop_reading_), or the pause it is in. Cancelling the socket also
// cancels a write, so while the writer awaits one the cancel waits for its end.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::cancel_read() {
  if (!reader_op_) return wake_reader();
  if (writing_) {
    cancel_read_after_write_ = true;
    return;
  }
  asio::error_code ignored;
  socket_.cancel(ignored);
}

// Tells the timeouts what the last decode did (after a read, or from bytes already buffered).
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::report_decoded(std::size_t frames) {
  const bool partial = !rbuf_.empty();
  if (read_at_) timeouts_.on_read(*read_at_, frames, partial);
  else if (frames > 0) timeouts_.on_decoded(clock::now(), frames, partial);
  read_at_.reset();
}

// The request ring is full, the inbound byte budget is used up (or the next frame does not fit
// it), or the outbound bytes are above the high watermark: reading more would only buffer more.
// So a connection holds one large request's bytes at a time, not the next one's too.
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::must_pause_reading() const noexcept {
  return requests_.full() || inbound_blocked_ || inbound_bytes_ >= app_->settings.max_inbound_bytes ||
         responses_paused();
}

// Responses (and so reading) wait above the high watermark, and also while the writer is
// splitting a response larger than it: one large response at a time, not one in the lane and
// more queued behind it. Pushes only see the watermark (publish_outbound_bytes).
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::responses_paused() const noexcept {
  return pushes_.paused() || large_response_in_lane();
}

template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::large_response_in_lane() const noexcept {
  return frag().held_bytes(Lane::response) > app_->settings.outbound_high_watermark;
}

// After a large frame the read buffer may have grown far past a read chunk. Once the bytes in it
// are few again, it goes back (to the pool or the allocator) so that one large request does not
// pin its size for the connection's life.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::shrink_read_buffer() {
  if (rbuf_.empty() && rbuf_.capacity() > 2 * detail::BlockPool::max_block) rbuf_.release();
}

// Decodes every complete frame in the read buffer while the request ring and the inbound budget
// have room, serving each inline or queueing it for the dispatcher, then wakes whoever has new
// work. Returns how many frames it took, or nullopt when the bytes are bad: the reader then ends
// as at EOF, so the requests before the bad bytes are still answered, and the connection closes
// after them (lingering: the peer may still be sending).
template <class App, StreamSocket Socket>
std::optional<std::size_t> ConnectionActor<App, Socket>::decode_buffered() {
  batch_started_ = batch_start();
  const std::optional<std::size_t> frames = decode_frames();
  ring_pending_bells();
  count_decoded(batch_started_);  // bad bytes too: the frames before them were decoded
  return frames;
}

template <class App, StreamSocket Socket>
std::optional<std::size_t> ConnectionActor<App, Socket>::decode_frames() {
  using Kind = detail::InboundStep::Kind;
  // Once per read, for the stages that want the time (reassembly deadlines, processors).
  constexpr bool timed = fragments || !Stack::frames_type::empty;
  const clock::time_point now = timed ? clock::now() : clock::time_point{};
  const FrameContext frame_ctx{ctx_.id(), now};
  const auto admit = [this](std::size_t size) { return inbound_admits(size); };
  std::size_t frames = 0;
  inbound_blocked_ = false;
  detail::InboundStep step;  // filled in by each frame (inbound_path.hpp)
  while (!requests_.full()) {
    if constexpr (fragments) {
      detail::next_inbound(app_->codec, stack_.frames(), rbuf_.readable(), frame_ctx, admit,
                           detail::reassemble_into(frag(), now), step);
    } else {
      detail::next_inbound(app_->codec, stack_.frames(), rbuf_.readable(), frame_ctx, admit, detail::whole_message(),
                           step);
    }
    if (step.kind == Kind::need_more) break;
    if (step.kind == Kind::refused) {
      inbound_blocked_ = true;  // the dispatcher wakes the reader when a request is done
      break;
    }
    if (step.kind == Kind::error) {
      report(step.error, step.where);
      return std::nullopt;
    }
    ++frames;
    ++frames_in_;
    if (step.kind != Kind::message) {  // held by a processor or the reassembly, or dropped by it
      rbuf_.consume(step.consumed);
      // Only an app that fragments has this path (and g++ 12 at -O1 warns, falsely, that the
      // never-assigned step.fragment may be read uninitialised where it cannot be reached).
      if constexpr (fragments) {
        if (step.kind == Kind::fragment_error && !on_fragment_error(step.fragment)) return std::nullopt;
      }
      continue;
    }
    P packet = take_pooled();
    if (auto ec = packet.decode_from(step.message)) {  // the message may view the frame itself:
      report(ec, "while decoding a packet");           // consumed only after decoding
      return std::nullopt;
    }
    rbuf_.consume(step.consumed);
    if constexpr (fragments) frag().release();  // the reassembled bytes are in the packet now
    if constexpr (fragments) {
      if (metrics_ != nullptr) {
        metrics_->reassembled_messages.add(1);
        metrics_->reassembled_bytes.add(step.message.size());
      }
    }
    if (serves_inline()) {
      serve_inline(std::move(packet), step.message.size());
      if (draining_ || closing_) break;  // the handler asked to close, or failed with `close`
    } else {
      const std::uint64_t correlation = packet.correlation_id();
      const detail::SpanTimer span = request_span(packet, correlation);  // inactive without a tracer
      defer(Request{correlation, std::move(packet), step.message.size(), std::nullopt, nullptr}, span);
    }
  }
  if constexpr (fragments) rearm_reassembly_timer();
  return frames;
}

// A frame of `size` bytes may become a request: within max_inbound_bytes, or alone (a budget
// never blocks a legal frame). With fragmentation the check is on the fragment; the message it
// completes is counted in full and bounded by the ReassemblyLimits.
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::inbound_admits(std::size_t size) const noexcept {
  const std::size_t budget = app_->settings.max_inbound_bytes;
  return inbound_bytes_ == 0 || (inbound_bytes_ <= budget && size <= budget - inbound_bytes_);
}

// A reassembly error: reported through the protocol hook and the log; then, as the app's
// FragmentErrorPolicy says, the message is dropped (true: carry on) or the connection closes.
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::on_fragment_error(const ReassemblyResult& r) {
  if (metrics_ != nullptr) metrics_->reassembly_error(r.error);
  const bool closes = fragment_error_closes(r.error, app_->fragment_policy);
  events().template emit<LogLevel::warn>(
      r.error == fragment_errc::reassembly_timeout ? Event::reassembly_timeout : Event::reassembly_error,
      "reason={} message_id={} dropped_bytes={} action={}", detail::ConnectionMetrics::reason_name(r.error),
      r.message_id ? fmt::to_string(*r.message_id) : "none", r.dropped_bytes, closes ? "close" : "drop");
  if (closes) {
    report(r.error, "fragmented message");
    stop_reading();
    return false;
  }
  stack_.protocol().handle_error(WireframeError<E>::io(r.error));
  return true;
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::on_read_error(const asio::error_code& ec) {
  if (ec == asio::error::eof) {
    // The peer finished sending. Answer what it sent, then close; bytes of an unfinished frame
    // can never complete.
    peer_eof_ = true;
    stack_.protocol().on_eof(rbuf_.readable());
    if (!rbuf_.empty()) report(make_error_code(errc::truncated_frame), "peer closed mid-frame");
  } else if (!(ec == asio::error::operation_aborted && (draining_ || closing_ || stop_reading_))) {
    fail(ec, "read");
  }
}

}  // namespace wireframe
