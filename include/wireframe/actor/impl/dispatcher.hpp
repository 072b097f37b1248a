#pragma once
// ConnectionActor's dispatcher: the requests that could not be served inline (a coroutine
// handler, a stream, an unknown id, a failure, no room for the answer), one command at a time,
// in order. A coroutine that runs only while such requests wait: started by the reader when it
// defers one, ended when the request ring is empty. Included by actor/connection_actor.hpp only.

#include "wireframe/actor/connection_actor.hpp"  // the class these members belong to

namespace wireframe {

template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::start_dispatcher() {
  if (dispatcher_running_) return ring_dispatcher();
  if (closing_ || draining_ || requests_.empty()) return;
  dispatcher_running_ = true;
  // Created by the first request that waits, then kept: a connection that never defers one
  // never pays for it.
  if (!dispatch_bell_) dispatch_bell_ = std::make_unique<detail::Doorbell>(socket_.get_executor());
  // Posted, as a rung bell would be: co_spawn on this thread would run the dispatcher inline,
  // inside the reader's decode loop, which must see the request ring fill and pause first (and
  // the requests of one read answered in one write).
  post([self = keep()] {
    auto done = [self](const std::exception_ptr& e) {
      self->dispatcher_running_ = false;
      if (e && !self->closing_) {
        self->fail(make_error_code(errc::handler_failed), detail::describe_exception(e));
      }
      self->guarded(Part::end, [&] {
        self->start_dispatcher();  // a request deferred after its last look, if any
        self->commands_maybe_done();
        self->maybe_finish();
      });
    };
    asio::co_spawn(self->socket_.get_executor(), self->dispatcher(),
                   asio::bind_cancellation_slot(self->dispatch_cancel_.slot(), std::move(done)));
  });
}

// No request will run any more (the reader has ended and the ring is empty, or the connection is
// draining): the push queues close, and the writer ends once everything queued is written.
template <class App, StreamSocket Socket>
void ConnectionActor<App, Socket>::commands_maybe_done() {
  if (commands_done_ || dispatcher_running_) return;
  if (!draining_ && !closing_ && !(reader_done_ && requests_.empty())) return;
  commands_done_ = true;
  pushes_.close();
  wake_writer();
}

template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::dispatcher() {
  co_await asio::this_coro::throw_if_cancelled(false);
  while (!closing_ && !draining_ && !requests_.empty()) {
    Request request = requests_.pop();
    command_in_flight_ = true;
    wake_reader();
    command_outcome_ = "ok";
    co_await handle(request);
    end_request_span(request, closing_ ? "cancelled" : command_outcome_);
    inbound_bytes_ -= request.bytes;  // held until its handler is done with it
    end_command(std::move(request.packet));
    command_in_flight_ = false;
    wake_reader();  // the budget may let it go on
  }
}

// Runs the request's handler (unless it ran inline already) and queues its answer, waiting for
// room when there is none. Two coroutine frames per request at most: this and a coroutine
// handler's, which Asio's per-thread cache recycles.
template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::handle(Request& request) {
  P& packet = request.packet;
  const auto* route = app_->find(packet.id());
  command_failed_ = false;
  if (!request.response && !request.failure) {
    if (route == nullptr) {
      co_await on_unknown_id(packet);
      command_outcome_ = "unknown_id";
      if (!closing_) count_request(nullptr, detail::RequestOutcome::error, request.started);
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
    co_await on_handler_failure(packet, request.correlation, WireframeError<E>::io(make_error_code(errc::handler_failed)),
                                detail::describe_exception(request.failure));
  } else if (try_queue_response(*request.response, request.correlation)) {
    ring_pending_bells(false);
  } else {
    co_await send_response(std::move(*request.response), packet, request.correlation);
  }
  // A request cut off by a hard close is not counted: it has no outcome.
  if (command_failed_) command_outcome_ = "error";
  if (!closing_) {
    count_request(route, command_failed_ ? detail::RequestOutcome::error : detail::RequestOutcome::ok, request.started);
  }
}

template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::send_response(response_type response, P& request, std::uint64_t correlation) {
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
template <class App, StreamSocket Socket>
asio::awaitable<bool> ConnectionActor<App, Socket>::wait_for_room(std::size_t size) {
  while (!closing_ &&
         (out_.full() || (pushes_.paused() && pushes_.outbound_bytes() != 0) || large_response_in_lane())) {
    co_await dispatch_bell_->wait();
  }
  if (closing_) co_return false;
  const std::size_t held = pushes_.outbound_bytes();
  const std::size_t hard = app_->settings.max_outbound_bytes;
  if (held != 0 && (held > hard || size > hard - held)) {
    fail(make_error_code(errc::output_limit_exceeded),
         fmt::format("a {}-byte response on top of {} queued bytes", size, held));
    co_return false;
  }
  co_return true;
}

template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::enqueue(P frame, std::uint64_t correlation) {
  frame.set_correlation_id(correlation);
  const std::size_t size = frame.encoded_size();
  // g++ 12 miscompiles `if (!co_await ...)` here (ud2): keep the result in a local.
  const bool room = co_await wait_for_room(size);
  if (!room) co_return;  // closing: the frame is dropped with the connection
  out_.push(OutItem(std::in_place_type<P>, std::move(frame)));
  queued_response_bytes_ += size;
  publish_outbound_bytes();
  pushes_.pause_if_above_high();
  wake_writer();
}

// Hands the stream to the writer and waits for its end: commands run one at a time, so the next
// request is dispatched only after the whole stream was written.
template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::run_stream(typename response_type::Stream stream, P& request,
                                                       std::uint64_t correlation) {
  const bool room = co_await wait_for_room(0);
  if (!room) co_return;
  stream_.emplace(std::move(stream));
  stream_correlation_ = correlation;
  stream_error_.reset();
  out_.push(OutItem(std::in_place_type<StreamMarker>));
  stream_->start(socket_.get_executor(), &ring_writer, this);
  wake_writer();
  while (stream_ && !closing_) co_await dispatch_bell_->wait();
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

template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::on_unknown_id(P& request) {
  events().template emit<LogLevel::debug>(Event::request_unknown_id, "id={} correlation={}", request.id(),
                                          request.correlation_id());
  if (app_->unknown_policy == UnknownIdPolicy::error_frame) {
    co_await send_error_frame(request, request.correlation_id(),
                              WireframeError<E>::io(make_error_code(errc::unknown_message_id)));
  }
}

template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::on_handler_failure(P& request, std::uint64_t correlation,
                                                               WireframeError<E> error, std::string_view what) {
  command_failed_ = true;
  stack_.protocol().handle_error(error);
  events().template emit<LogLevel::warn>(Event::request_failed, "id={} correlation={} error=\"{}{}{}\"", request.id(),
                                         correlation, error, what.empty() ? "" : ": ", what);
  switch (app_->error_policy) {
    case HandlerErrorPolicy::log: break;
    case HandlerErrorPolicy::error_frame: co_await send_error_frame(request, correlation, error); break;
    case HandlerErrorPolicy::close:
      if (!reason_) reason_ = make_error_code(errc::handler_failed);
      shutdown();
      break;
  }
}

template <class App, StreamSocket Socket>
asio::awaitable<void> ConnectionActor<App, Socket>::send_error_frame(P& request, std::uint64_t correlation,
                                                             const WireframeError<E>& error) {
  std::optional<P> frame = app_->error_frame(request, error);
  if (frame) co_await enqueue(std::move(*frame), correlation);
}

}  // namespace wireframe
