#pragma once
// ConnectionActor's outbound select: which frame goes into the write batch next (the biased
// select: shutdown > high pushes > low pushes > responses, with the fairness setting), and how
// a frame is encoded into it (whole, with a borrowed payload, or fragment by fragment per
// lane). Used by the writer and by the reader's inline flush. Included by
// actor/connection_actor.hpp only.

#include "wireframe/actor/connection_actor.hpp"  // the class these members belong to

namespace wireframe {

// The biased select: one frame (or fragment) at a time from the highest-priority source that
// has one, so priority is re-evaluated after every frame; stops when the batch is full or all
// sources are empty.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::gather() {
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
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::write_next_frame() {
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
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::counted(Lane lane) {
  ++frames_out_;
  if (lane == Lane::response) {
    pushes_in_a_row_ = 0;
  } else {
    high_in_a_row_ = lane == Lane::high ? high_in_a_row_ + 1 : 0;
    ++pushes_in_a_row_;
  }
  return true;
}

template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::push_work() const {
  return pushes_.maybe_nonempty() || frag().active(Lane::high) || frag().active(Lane::low);
}

// Writes one frame, or the next fragment of the lane's message, from `lane`'s source into
// the batch. False when that source has nothing to write now.
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::write_from(Lane lane) {
  std::error_code ec;
  if constexpr (fragments) {
    if (frag().active(lane)) {
      std::optional<P> finished = frag().write_next(lane, wbuf_, ec);
      if (ec) report_unsent(lane, ec);
      if (finished && ec) unsendable(lane, std::move(*finished), ec);
      else if (finished) keep_until_written(lane, std::move(*finished));
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
    if (done && ec) unsendable(lane, std::move(*done), ec);
    else if (done) keep_until_written(lane, std::move(*done));
    return true;
  }
  if (!encode_borrowed(*frame, lane)) {
    if (encode(*frame)) keep_until_written(lane, std::move(*frame));
    else unsendable(lane, std::move(*frame), encode_refusal_);
  }
  return true;
}

// A frame that cannot be sent at all: the codec (or the fragmenter) refused it, typically as
// larger than the codec's max_frame_length(). The caller has logged it. A response is dropped
// (the handler has returned; nobody could take it back); a pushed frame was accepted, so it is
// reported to the dead letter queue with the refusal, like every pushed frame that is not sent.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::unsendable(Lane lane, P&& frame, const std::error_code& ec) {
  if (lane == Lane::response) return recycle(std::move(frame));
  pushes_.dead_letter(std::move(frame), ec);
}

// A frame whose last byte is now in the batch: a response is done with (recycled), a push is
// kept until the batch is written (settle_batch_pushes).
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::keep_until_written(Lane lane, P&& frame) {
  if (lane == Lane::response) return recycle(std::move(frame));
  batch_pushes_.push_back(BatchPush{std::move(frame), wbuf_.size(), lane});
}

// A large payload goes out from the packet itself: codec prefix and packet header into the
// write buffer, the payload as a borrowed slice, the packet kept until the write is done. So
// a large reply is never copied, nor held twice. One such packet per batch (a batch is full
// after it anyway). False when the packet or codec cannot, or the payload is small.
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::encode_borrowed(P& frame, Lane lane) {
  if constexpr (SplitEncodablePacket<P> && PrefixFrameCodec<typename Stack::codec_type>) {
    if (borrowed_ || frame.payload().size() < borrow_threshold) return false;
    borrowed_.emplace(std::move(frame));  // a moved vector keeps its buffer: the span holds
    borrowed_lane_ = lane;
    const auto payload = borrowed_->payload();
    const std::size_t header = borrowed_->encoded_header_size();
    ByteBuffer& out = wbuf_.bytes();
    if (auto ec = stack_.codec().encode_prefix(header + payload.size(), out)) {  // appends nothing
      events().template emit<LogLevel::error>(Event::frame_dropped, "id={} bytes={} error=\"{}\"", borrowed_->id(),
                                              header + payload.size(), ec.message());
      P dropped = std::move(*borrowed_);
      borrowed_.reset();
      unsendable(lane, std::move(dropped), ec);
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
    (void)lane;
    return false;
  }
}

template <class App, StreamSocket Socket>
auto ConnectionActor<App, Socket>::take_from(Lane lane) -> std::optional<P> {
  if (lane == Lane::response) return next_response_frame();
  std::optional<P> frame = pushes_.try_pop(lane == Lane::high ? PushPriority::high : PushPriority::low);
  if (frame) frame->set_correlation_id(0);  // server-initiated: answers no request
  return frame;
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::report_unsent(Lane lane, const std::error_code& ec) {
  events().template emit<LogLevel::error>(Event::frame_dropped, "source={} error=\"{}\"",
                                          lane == Lane::response ? "response" : "push", ec.message());
}

template <class App, StreamSocket Socket>
auto ConnectionActor<App, Socket>::next_response_frame() -> std::optional<P> {
  while (!out_.empty()) {
    if (auto* frame = std::get_if<P>(&out_.front())) {
      P taken = std::move(*frame);
      (void)out_.pop();
      queued_response_bytes_ -= taken.encoded_size();  // now in the batch (wbuf_), still counted
      ring_dispatcher();  // room in the ring again
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
        ring_dispatcher();  // the dispatcher waits for the stream's end
        break;
    }
  }
  return std::nullopt;
}

template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::encode(const P& frame) {
  const std::size_t n = frame.encoded_size();
  auto ec = stack_.codec().encode(n, wbuf_.bytes(), [&frame](std::span<std::byte> dst) { frame.encode_to(dst); });
  if (ec) [[unlikely]] encode_refused(frame.id(), n, ec);
  return !ec;
}

// Out of line: the event's formatting inlined into encode() cost every frame 3 instructions.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::encode_refused(std::uint32_t id, std::size_t bytes, const std::error_code& ec) {
  events().template emit<LogLevel::error>(Event::frame_dropped, "id={} bytes={} error=\"{}\"", id, bytes, ec.message());
  encode_refusal_ = ec;
}

// The batch is out (or abandoned: `complete` false): the fragment lanes' slices are free, and
// the messages whose last fragments it carried come back, for recycling or, pushes of an
// abandoned batch, for the dead letter queue.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::frag_written(bool complete) {
  if constexpr (fragments) {
    frag().written();
    for (Lane lane : {Lane::high, Lane::low, Lane::response}) {
      auto done = frag().reclaim(lane);
      if (!done) continue;
      if (lane == Lane::response) recycle(std::move(*done));
      else settle_push(lane, std::move(*done), complete);
    }
  } else {
    (void)complete;
  }
}

// A borrowed payload is the batch's last: an abandoned batch never wrote all of it.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::release_borrowed(bool complete) {
  if (!borrowed_) return;
  if (borrowed_lane_ == Lane::response) recycle(std::move(*borrowed_));
  else settle_push(borrowed_lane_, std::move(*borrowed_), complete);
  borrowed_.reset();
}

}  // namespace wireframe
