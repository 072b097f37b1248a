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
  metrics_->closed(reason_);
  for (int d = 0; d < 2; ++d) metrics_->queued_bytes[d].sub(std::exchange(reported_queued_[d], 0));
}

// When the requests decoded now started: at the end of the read that delivered their bytes (the
// clock read the timeouts take anyway), else now (bytes already buffered).
template <class App, StreamSocket Socket>
auto ConnectionActor<App, Socket>::batch_start() -> clock::time_point {
  if (metrics_ == nullptr && tracer_ == nullptr) return {};
  detail::InlineRequestTimes::clear();
  return read_at_ ? *read_at_ : clock::now();
}

// After a read's frames were decoded, answered inline and their batch written (or handed to the
// writer): one clock read times every request answered inline.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_decoded(clock::time_point started) {
  if (metrics_ == nullptr) return;
  std::atomic<std::uint64_t>* block = metrics_->local();
  metrics_->bytes_in.add(block, std::exchange(read_bytes_, 0));
  metrics_->frames_in.add(block, std::exchange(frames_in_, 0));
  if (!detail::InlineRequestTimes::empty()) flush_inline_times(started, block);
  count_queued_bytes(block);
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::flush_inline_times(clock::time_point started, std::atomic<std::uint64_t>* block) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started);
  detail::InlineRequestTimes::flush(static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed.count(), 0)), block);
}

// Requests of more routes in one read than InlineRequestTimes has room for: those so far are
// timed now.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_many_inline_routes(const Histogram* h) {
  flush_inline_times(batch_started_, metrics_->local());
  detail::InlineRequestTimes::note(h);
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

// A batch was written (or abandoned): its bytes, frames and pushes.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::count_written(bool complete) {
  // Queued responses took the outbound bytes past the high watermark since the last batch (seen
  // here, once per batch, rather than at every response; after_write sees the resume).
  const auto out = static_cast<std::size_t>(detail::Direction::outbound);
  if (paused_since_[out] == clock::time_point{} && pushes_.paused()) count_paused(detail::Direction::outbound, true);
  if (metrics_ == nullptr) return;
  std::atomic<std::uint64_t>* block = metrics_->local();
  metrics_->bytes_out.add(block, complete ? wbuf_.size() : batch_written_);
  metrics_->frames_out.add(block, std::exchange(frames_out_, 0));
  for (int p = 0; p < 2; ++p) {
    if (pushes_sent_[p] != 0) metrics_->push(p == 0, detail::PushOutcome::sent).add(block, std::exchange(pushes_sent_[p], 0));
  }
  count_queued_bytes(block);
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
