#pragma once
// ConnectionActor's metrics: what a connection counts into its app's Metrics
// (observe/connection_metrics.hpp, docs/observability.md). Every function returns at once when
// the app has none. Counted once per read or write batch where the figure allows it (frames,
// bytes, queued bytes, the latency of requests answered inline), per request otherwise, and on
// the rare transitions (back-pressure, close). Included by actor/connection_actor.hpp only.

#include "wireframe/actor/connection_actor.hpp"  // the class these members belong to

namespace wireframe {

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_opened() {
  metrics_ = app_->metrics.get();
  if (metrics_ != nullptr) metrics_->open.add(1);
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_closed() {
  count_paused(detail::Direction::inbound, false);  // a pause the close ended: its time too
  count_paused(detail::Direction::outbound, false);
  if (metrics_ == nullptr) return;
  metrics_->open.sub(1);
  metrics_->bytes_in.add(std::exchange(read_bytes_, 0));  // read after the last decode, if any
  add_written(metrics_->local());  // a read that user code cut short (guarded) left them
  metrics_->closed(reason_);
  for (int d = 0; d < 2; ++d) metrics_->queued_bytes[d].sub(std::exchange(reported_queued_[d], 0));
}

// When the requests decoded now started: at the end of the read that delivered their bytes (the
// clock read the timeouts take anyway), else now (bytes already buffered).
template <class App, StreamSocket Socket>
auto ConnectionActor<App, Socket>::batch_start() -> clock::time_point {
  if (metrics_ == nullptr && tracer_ == nullptr) return {};
  decoding_ = true;
  detail::InlineRequestTimes::clear();
  inline_requests_ = 0;
  return read_at_ ? *read_at_ : clock::now();
}

// After a read's frames were decoded, answered inline and their batch written (or handed to the
// writer): one clock read times every request answered inline, and one lookup of this thread's
// cells adds the read's figures and those of the batch it wrote (count_written left them).
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_decoded(clock::time_point started) {
  decoding_ = false;
  // A pass that decoded nothing and wrote nothing (the reader's turn after a wake-up, before its
  // read) has nothing to add: a part-frame's bytes wait for the pass that decodes its frame.
  if (metrics_ == nullptr || (frames_in_ == 0 && written_bytes_ == 0)) return;
  std::atomic<std::uint64_t>* block = metrics_->local();
  metrics_->bytes_in.add(block, std::exchange(read_bytes_, 0));
  metrics_->frames_in.add(block, std::exchange(frames_in_, 0));
  if (inline_requests_ != 0 || !detail::InlineRequestTimes::empty()) flush_inline_times(started, block);
  add_written(block);
  count_queued_bytes(block);
}

// Every request of this read answered inline so far, the current route's run among them, is
// timed as taking from `started` to now.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::flush_inline_times(clock::time_point started, std::atomic<std::uint64_t>* block) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started);
  const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed.count(), 0));
  const std::uint64_t run = std::exchange(inline_requests_, 0);
  if (detail::InlineRequestTimes::empty()) {  // the usual read: requests of one route
    if (run != 0) inline_histogram_->record_in_bucket(block, inline_histogram_->bucket_of(ns), ns, run);
    return;
  }
  if (run != 0 && !detail::InlineRequestTimes::note(inline_histogram_, run)) {  // full: those first
    detail::InlineRequestTimes::flush(ns, block);
    detail::InlineRequestTimes::note(inline_histogram_, run);
  }
  detail::InlineRequestTimes::flush(ns, block);
}

// An inline request of another route than the last one: the last route's run goes into
// InlineRequestTimes (the read's requests of several routes, timed together at its end), and
// the new route's histogram is looked up once.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_inline_route(const typename App::Route& route) {
  // More routes in one read than the table has room for: time those now.
  if (inline_requests_ != 0 && !detail::InlineRequestTimes::note(inline_histogram_, inline_requests_)) {
    flush_inline_times(batch_started_, metrics_->local());
  }
  inline_route_ = &route;
  inline_histogram_ = &metrics_->request(app_->position_of(&route), detail::RequestOutcome::ok);
  inline_requests_ = 1;
}

// A request the dispatcher finished (route null: no route for its id).
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_request(const typename App::Route* route, detail::RequestOutcome outcome,
                                                 clock::time_point started) {
  if (metrics_ == nullptr) return;
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started);
  const Histogram& h = route == nullptr ? metrics_->unknown_id() : metrics_->request(app_->position_of(route), outcome);
  h.observe(elapsed);
}

// A batch was written (or abandoned): its bytes (those written), frames and pushes. Called once
// the batch's buffer is free, so that the outbound queued bytes are back to what is still
// waiting (most often nothing: no change to the gauge).
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_written(std::size_t bytes) {
  // Queued responses took the outbound bytes past the high watermark since the last batch (seen
  // here, once per batch, rather than at every response; after_write sees the resume).
  const auto out = static_cast<std::size_t>(detail::Direction::outbound);
  if (paused_since_[out] == clock::time_point{} && pushes_.paused()) count_paused(detail::Direction::outbound, true);
  if (metrics_ == nullptr) return;
  written_bytes_ += bytes;
  if (decoding_) return;  // a batch the read wrote itself: count_decoded adds it with the read's figures
  std::atomic<std::uint64_t>* block = metrics_->local();
  add_written(block);
  count_queued_bytes(block);
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::add_written(std::atomic<std::uint64_t>* block) {
  metrics_->bytes_out.add(block, std::exchange(written_bytes_, 0));
  metrics_->frames_out.add(block, std::exchange(frames_out_, 0));
  for (int p = 0; p < 2; ++p) {
    if (pushes_sent_[p] != 0) metrics_->push(p == 0, detail::PushOutcome::sent).add(block, std::exchange(pushes_sent_[p], 0));
  }
}

// The queued_bytes gauges hold every connection's bytes: each adds the change since it last did.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_queued_bytes(std::atomic<std::uint64_t>* block) {
  const std::array<std::int64_t, 2> now{static_cast<std::int64_t>(inbound_bytes_),
                                        static_cast<std::int64_t>(pushes_.outbound_bytes())};
  for (int d = 0; d < 2; ++d) {
    if (now[d] != reported_queued_[d]) metrics_->queued_bytes[d].add(block, now[d] - std::exchange(reported_queued_[d], now[d]));
  }
}

// Back-pressure applied (paused) or lifted, in one direction: the backpressure.on and .off
// events and, with metrics, the count and the time. Rare (a transition), so it reads the clock.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_paused(detail::Direction d, bool paused) {
  const auto i = static_cast<std::size_t>(d);
  static constexpr const char* names[] = {"inbound", "outbound"};
  if (paused) {
    if (paused_since_[i] != clock::time_point{}) return;
    paused_since_[i] = clock::now();
    if (metrics_ != nullptr) metrics_->backpressure[i].add(1);
    events().template emit<LogLevel::debug>(Event::backpressure_on, "direction={}", names[i]);
  } else if (paused_since_[i] != clock::time_point{}) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - paused_since_[i]).count();
    const auto elapsed = static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0));
    paused_since_[i] = {};
    if (metrics_ != nullptr) metrics_->backpressure_ns[i].add(elapsed);
    events().template emit<LogLevel::debug>(Event::backpressure_off, "direction={} paused_ms={:.3f}", names[i],
                                            static_cast<double>(elapsed) / 1e6);
  }
}

}  // namespace wireframe
