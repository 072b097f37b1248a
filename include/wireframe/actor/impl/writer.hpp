#pragma once
// ConnectionActor's writer: gathers what its sources have ready (impl/outbound_select.hpp) into
// one batch and writes it, until nothing is ready. It runs when woken (a posted run, so that
// whoever woke it can add more to the batch first) and is not a coroutine: a batch the kernel
// takes at once costs one system call and no suspension; the rest of one it does not take is
// written by asynchronous writes. Included by actor/connection_actor.hpp only.

#include "wireframe/actor/connection_actor.hpp"  // the class these members belong to

namespace wireframe {

// On the connection's thread: a run of the writer, unless one is posted, running or writing
// already (it looks at every source before it stops) or the writer is done.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::wake_writer() {
  if (writer_busy_ || writer_finished_ || closing_) return;
  writer_busy_ = true;
  post([self = keep()] { self->guarded(Part::writer, [&] { self->run_writer(); }); });
}

// From the push queues, on any thread. One post however many frames are pushed before it runs.
// Never keeps an actor whose last owner has gone: its destructor is about to close the queues
// (the producer rings under their lock, so it may be here meanwhile).
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::ring() noexcept {
  // Sequentially consistent with the close request's flag (push_queues.hpp): a request made
  // while a wake-up is posted is seen by that wake-up, or this exchange finds the flag cleared
  // and posts another.
  if (remote_wake_.exchange(true, std::memory_order_seq_cst)) return;
  auto owner = Keep::try_take(*this);
  if (!owner) return;
  try {
    post([self = std::move(*owner)] {
      self->remote_wake_.store(false, std::memory_order_seq_cst);
      if (const auto mode = self->pushes_.take_close_request()) {
        self->guarded(Part::watchdog, [&] { self->close_on_request(*mode); });
      }
      if (self->writer_busy_ || self->writer_finished_ || self->closing_) return;
      self->writer_busy_ = true;
      self->guarded(Part::writer, [&] { self->run_writer(); });
    });
  } catch (...) {  // out of memory: the frame stays queued for the next wake
    remote_wake_.store(false, std::memory_order_release);
  }
}

// Writes batches until there is nothing to write (then the writer is idle), a batch needs an
// asynchronous write (write_rest), or it has written max_inline_writes batches in a row: with
// sources that never run out (pushes from other threads, a hook that pushes as it sends) and a
// peer that reads as fast, it would never stop, so it lets the worker's other connections run.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::run_writer() {
  for (int round = 0; round < max_inline_writes; ++round) {
    if (closing_) {  // 1. shutdown signal (hard)
      if (!wbuf_.empty()) {  // flush_inline's batch, part-written: abandoned
        batch_written_ = std::exchange(batch_sent_, 0);
        after_write(false);
      }
      break;
    }
    gather();
    if (wbuf_.empty()) {
      wbuf_.bytes().release();  // an idle writer holds no write buffer (it is pooled)
      if (batch_pushes_.capacity() > kept_batch_pushes) decltype(batch_pushes_)().swap(batch_pushes_);
      // Everything sent: the orderly end (unless the transport still has bytes to write).
      if (commands_done_ && out_.empty() && pushes_drained() && !finish_writing()) return;
      break;
    }
    publish_outbound_bytes();
    std::error_code ec;
    // The reader may have written the start of this batch already (flush_inline).
    std::size_t done = std::exchange(batch_sent_, 0);
    if (done == 0) done = write_at_once(ec);
    if (!ec && done < wbuf_.size()) return write_rest(done);  // stays busy (on_written counts `done`)
    batch_written_ = done;
    after_write(!ec);
    if (ec) {
      if (!closing_) fail(ec, "write");
      break;
    }
    if (round + 1 == max_inline_writes) {
      return post([self = keep()] { self->guarded(Part::writer, [&] { self->run_writer(); }); });
    }
  }
  writer_busy_ = false;
  maybe_finish();
}

// The orderly end: the peer reads EOF after our last frame. Over TLS the shutdown writes a
// close_notify first; if the socket cannot take it at once, the writer stays busy until it is
// written (flush_transport), bounded by the write timeout. False then.
template <class App, StreamSocket Socket>
bool ConnectionActor<App, Socket>::finish_writing() {
  asio::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  if constexpr (requires { socket_.output_pending(); }) {
    if (socket_.output_pending()) {
      flush_transport();
      return false;
    }
  }
  writer_finished_ = true;
  timer_.cancel();  // the watchdog's work ends with the writer's
  return true;
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::flush_transport() {
  writing_ = true;
  timeouts_.write_started(clock::now());
  socket_.async_write_some(asio::const_buffer{}, [self = keep()](asio::error_code ec, std::size_t) {
    self->writing_ = false;
    self->guarded(Part::writer, [&] {
      if (std::exchange(self->cancel_read_after_write_, false)) self->cancel_read();
      if (ec && !self->closing_) self->fail(ec, "write");
      if (!ec) {
        self->timeouts_.write_finished(clock::now());
        self->writer_finished_ = true;
        self->timer_.cancel();
      }
      self->writer_busy_ = false;
      self->maybe_finish();
    });
  });
}

// A batch went out (or failed, or was abandoned: `complete` false): the buffer is free, the
// budget shrinks, and whoever waited for room is woken.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::after_write(bool complete) {
  const std::size_t written = complete ? wbuf_.size() : batch_written_;
  settle_batch_pushes(complete);
  wbuf_.clear();
  publish_outbound_bytes();
  count_written(written);  // the queued bytes it reports no longer hold this batch
  const bool lane_was_big = lane_was_big_;
  lane_was_big_ = large_response_in_lane();
  const bool lane_freed = lane_was_big && !lane_was_big_;
  const bool resumed = pushes_.resume_if_below_low();
  if (resumed) count_paused(detail::Direction::outbound, false);
  if (resumed || lane_freed) {  // everything (else) resumes
    wake_reader();
    ring_dispatcher();
  }
}

// The batch's pushed frames: recycled when it went out; when it did not, the ones whose last
// byte was not written go to the dead letter queue (the peer cannot have them: a frame cut
// short is no frame). A push counts as sent once the batch carrying its last byte is written.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::settle_batch_pushes(bool complete) {
  for (BatchPush& push : batch_pushes_) {
    settle_push(push.lane, std::move(push.frame), complete || push.end <= batch_written_);
  }
  batch_pushes_.clear();
  release_borrowed(complete);
  if constexpr (fragments) frag_written(complete);
  batch_written_ = 0;
  if (unsent_pushes_ == 0) return;
  events().template emit<LogLevel::warn>(Event::push_dead_lettered, "count={} reason=write_unfinished",
                                         std::exchange(unsent_pushes_, 0));
}

// A pushed frame whose batch is settled: sent (counted with the batch, count_written) once its
// last byte is written, else dead-lettered. So every accepted push is counted once, as sent or
// as dead-lettered, never both.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::settle_push(Lane lane, P&& frame, bool written) {
  if (!written) return unsent_push(std::move(frame));
  ++pushes_sent_[lane == Lane::high ? 0 : 1];
  recycle(std::move(frame));
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::unsent_push(P&& frame) {
  ++unsent_pushes_;
  pushes_.dead_letter(std::move(frame), make_error_code(errc::connection_closed));
}

// The batch's first write: one non-blocking write, inline, so that a batch the kernel takes at
// once (the usual case) costs one system call. Returns the bytes written; what the kernel did not
// take is for write_rest().
template <class App, StreamSocket Socket>
std::size_t ConnectionActor<App, Socket>::write_at_once(std::error_code& error) {
  asio::error_code ec;
  const std::size_t n = socket_.write_some(wbuf_.buffers(), ec);  // non-blocking: see start()
  if (ec == asio::error::would_block || ec == asio::error::try_again) return 0;
  error = ec;
  if (!ec && n == wbuf_.size()) timeouts_.write_finished(clock::now());
  return n;
}

// The rest of a batch after its first `done` bytes (in write_seq_), each step of progress
// reported to the timeouts: a peer that reads slowly but steadily is not a stalled one.
// (async_write would hide the partial progress.)
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::write_rest(std::size_t done) {
  writing_ = true;  // the batch is not to be touched (encode_directly) until written
  const std::span<const asio::const_buffer> batch = wbuf_.buffers();
  write_seq_.assign(batch.begin(), batch.end());
  write_first_ = 0;
  timeouts_.write_started(clock::now());
  on_written({}, done);
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::continue_write() {
  const std::span<const asio::const_buffer> rest(write_seq_.data() + write_first_, write_seq_.size() - write_first_);
  socket_.async_write_some(rest, [self = keep()](asio::error_code ec, std::size_t n) {
    if (!ec) self->timeouts_.write_progress(clock::now());
    self->guarded(Part::writer, [&] { self->on_written(ec, n); });
  });
}

// `n` more bytes of the batch are written: the next write of the rest, or the batch is done and
// the writer goes on.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::on_written(const asio::error_code& ec, std::size_t n) {
  batch_written_ += n;
  if (!ec) {
    for (; write_first_ < write_seq_.size() && n >= write_seq_[write_first_].size(); ++write_first_) {
      n -= write_seq_[write_first_].size();
    }
    if (write_first_ < write_seq_.size()) {
      write_seq_[write_first_] += n;
      return continue_write();
    }
    timeouts_.write_finished(clock::now());
  }
  writing_ = false;
  if (std::exchange(cancel_read_after_write_, false)) cancel_read();
  after_write(!ec);
  if (ec) {
    if (!closing_) fail(ec, "write");
    writer_busy_ = false;
    return maybe_finish();
  }
  run_writer();
}

}  // namespace wireframe
