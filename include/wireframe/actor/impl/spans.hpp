#pragma once
// ConnectionActor's spans (observe/tracer.hpp): the connection's, from start() to its end, and
// each request's, from the end of the read that completed it to its answer queued (inline) or
// its command done (the dispatcher; a stream to its last frame). Requests that never ran (a hard
// close, or queued behind a graceful drain) end "cancelled". Every function returns at once
// when the app has no tracer. Included by actor/connection_actor.hpp only.

#include "wireframe/actor/connection_actor.hpp"  // the class these members belong to

namespace wireframe {

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::trace_opened() {
  tracer_ = app_->tracer.get();
  if (tracer_ == nullptr) return;
  connection_span_ = detail::SpanTimer(tracer_, SpanKind::connection, 0, ctx_.id(), 0);
  pushes_.set_tracer(app_->tracer, connection_span_.span().id);
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::trace_closed() {
  connection_span_.end(detail::ConnectionMetrics::reason_name(reason_));
}

// Started when the read that completed the request ended (batch_start()), as its latency is.
template <class App, StreamSocket Socket>
detail::SpanTimer ConnectionActor<App, Socket>::request_span(const P& packet, std::uint64_t correlation) {
  if (tracer_ == nullptr) return {};
  return detail::SpanTimer(tracer_, SpanKind::request, connection_span_.span().id, ctx_.id(), packet.id(),
                           correlation, batch_started_);
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::end_request_span(std::uint64_t id, std::uint32_t message_id,
                                                    std::uint64_t correlation, clock::time_point started,
                                                    std::string_view outcome) {
  const Span span{SpanKind::request, id, connection_span_.span().id, ctx_.id(), message_id, correlation, started};
  detail::SpanTimer(tracer_, span).end(outcome);
}

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::cancel_queued_spans() {
  if (tracer_ == nullptr) return;
  while (!requests_.empty()) {
    Request r = requests_.pop();
    inbound_bytes_ -= r.bytes;
    end_request_span(r, "cancelled");
  }
}

}  // namespace wireframe
