#pragma once
// ConnectionActor's inline dispatch: a request whose plain handler answers at once is served in
// the reader's turn, its frames encoded straight into the write batch, and the batch written by
// the reader itself when the writer is idle. Anything else is deferred to the dispatcher.
// Included by actor/connection_actor.hpp only.

#include "wireframe/actor/connection_actor.hpp"  // the class these members belong to

namespace wireframe {

// Runs a plain handler at once and hands its frames to the writer (ring_pending_bells writes
// them, or wakes the writer, once per read). A coroutine handler, an unknown id, a failure, a
// stream, or no room for the answer: the request goes to the dispatcher instead, which can wait.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::serve_inline(P&& packet, std::size_t bytes) {
  if (tracer_ == nullptr) [[likely]] serve_inline_as<false>(std::move(packet), bytes);
  else serve_inline_as<true>(std::move(packet), bytes);
}

// An untraced app's requests hold no span at all: one kept across the handler's call cost
// every request 6 instructions.
template <class App, StreamSocket Socket>
template <bool traced>
void ConnectionActor<App, Socket>::serve_inline_as(P&& packet, std::size_t bytes) {
  const std::uint64_t correlation = packet.correlation_id();
  const auto* route = app_->find(packet.id());
  detail::SpanTimer span = traced ? request_span(packet, correlation) : detail::SpanTimer();  // made in place
  if (route == nullptr || !route->sync) {
    return defer(Request{correlation, std::move(packet), bytes, std::nullopt, nullptr}, span);
  }
  std::exception_ptr failure;
  response_type response = call_sync(*route, packet, failure);
  if (failure) return defer(Request{correlation, std::move(packet), bytes, std::nullopt, std::move(failure)}, span);
  if (!try_queue_response(response, correlation)) {
    return defer(Request{correlation, std::move(packet), bytes, std::move(response), nullptr}, span);
  }
  count_inline_request(*route);
  if constexpr (traced) span.end("ok");
  end_command(std::move(packet));
}

// The plain handler's answer, built in place (no move of the response), or what it threw.
template <class App, StreamSocket Socket>
auto ConnectionActor<App, Socket>::call_sync(const typename App::Route& route, P& packet, std::exception_ptr& failure) noexcept
    -> response_type {
  try {
    return route.sync(packet, ctx_);
  } catch (...) {
    failure = std::current_exception();
    return response_type{};
  }
}

// `span`: the request's, if traced: the dispatcher ends it.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::defer(Request request, const detail::SpanTimer& span) {
  request.started = batch_started_;
  if (span.active()) {
    request.span = span.span().id;
    request.message_id = span.span().message_id;
  }
  inbound_bytes_ += request.bytes;
  requests_.push(std::move(request));
  dispatch_pending_ = true;
}

// Once per read (or per command the dispatcher ran), not per frame. After a read, an idle writer
// gets the new batch written for it, at once (flush_inline); otherwise it is woken. The
// dispatcher only wakes it: it may run the next queued request before the writer runs, so their
// answers share one write. The dispatcher is started (or rung) for the requests deferred to it.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::ring_pending_bells(bool may_write) {
  if (may_write && writer_pending_ && !writer_busy_ && !closing_) flush_inline();
  if (dispatch_pending_) start_dispatcher();
  if (writer_pending_) wake_writer();
  dispatch_pending_ = writer_pending_ = false;
}

// Queues a Single or Vec response at once when the outbound ring and budget have room for all of
// it (false, and nothing queued, otherwise: the caller waits). Empty needs nothing; a stream
// always goes through the dispatcher.
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::try_queue_response(response_type& response, std::uint64_t correlation) {
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
  pushes_.pause_if_above_high();
  writer_pending_ = true;
  return true;
}

// Encodes a response frame straight into the write batch when the writer's biased select would
// take it next anyway: no response queued before it, no push waiting (pushes go first), the
// response lane free (fragmentation: no message of it part-way through its fragments, nor its
// buffer still in the batch), no write in progress on the batch, room in the batch, and not a
// large payload (those are borrowed: encode_borrowed). Saves the outbound ring's move in and
// out and keeps the frame's storage warm for the next request. With fragmentation the frame
// goes through the lane as the writer would send it: a frame that needs several fragments
// leaves the rest in the lane for the writer (woken: writer_pending_).
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::encode_directly(P& frame) {
  if (writing_ || !out_.empty() || push_work() || wbuf_.size() >= app_->settings.max_write_batch ||
      frame.encoded_size() >= borrow_threshold) {
    return false;
  }
  if constexpr (fragments) {
    if (frag().active(Lane::response) || !frag().ready(Lane::response)) return false;
  }
  if constexpr (Stack::protocol_sees_frames) stack_.protocol().before_send(frame);
  pushes_in_a_row_ = 0;  // as counted(Lane::response)
  ++frames_out_;
  if constexpr (fragments) {
    std::error_code ec;
    std::optional<P> done = frag().write(Lane::response, std::move(frame), wbuf_, ec);
    if (ec) report_unsent(Lane::response, ec);
    if (done) recycle(std::move(*done));
  } else {
    encode(frame);  // a response the codec refuses is logged and dropped
    recycle(std::move(frame));
  }
  return true;
}

// The writer is idle, so this turn writes the batch itself: one non-blocking write, no wake-up,
// no task switch. What the kernel does not take is left to the writer (batch_sent_ says how much
// went), which is then woken.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::flush_inline() {
  if (batch_sent_ != 0 || writer_finished_) return;  // the writer, woken already, owns the rest
  gather();  // what else is ready, in the select's order
  if (wbuf_.empty()) return;
  publish_outbound_bytes();
  std::error_code ec;
  const std::size_t done = write_at_once(ec);
  if (ec) {
    after_write(false);
    fail(ec, "write");
    return;
  }
  if (done < wbuf_.size()) {
    batch_sent_ = done;
    return;  // writer_pending_ stays set: the writer is woken for the rest
  }
  after_write(true);
  // A batch at its size limit, or a large message part-way through its fragments, leaves work
  // behind: the writer is woken for it.
  writer_pending_ = !out_.empty() || push_work() || frag().active(Lane::response);
}

// Room for all of `frames` without waiting: what enqueue() would find for each in turn, with the
// bytes of those before it queued (the first on an empty connection always fits; past the high
// watermark the rest would wait; past max_outbound_bytes it would close the connection, which
// the dispatcher's path does).
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::room_now(std::span<const P> frames) const noexcept {
  if (out_.capacity() - out_.size() < frames.size() || large_response_in_lane()) return false;
  std::size_t held = pushes_.outbound_bytes();
  bool paused = pushes_.paused();
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
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::end_command(P&& packet) {
  stack_.protocol().on_command_end();
  recycle(std::move(packet));
  if (ctx_.close_requested()) shutdown();
}

}  // namespace wireframe
