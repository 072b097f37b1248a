#pragma once
// ConnectionActor: one per connection; owns the socket and everything of that connection, all
// on the connection's executor (one thread, so no locks). docs/architecture.md draws it; read
// that first. Its parts, each in a file of actor/impl/:
//   reader      socket -> codec -> frame processors -> Packet -> a plain handler inline when
//               nothing is ahead of it (its frames straight into the write batch), else the
//               request ring (bounded). A chain of completion handlers, not a coroutine.
//   dispatcher  request ring -> router -> handler -> outbound ring, one command at a time. A
//               coroutine, started when a request must wait (a coroutine handler, a stream, no
//               room) and ended when the ring is empty.
//   writer      biased select over its sources -> one gathered write at a time. Runs when
//               woken and stops when it has nothing to write (the reader writes a batch itself
//               when the writer is idle); a write the kernel does not take at once continues as
//               an asynchronous write.
//   watchdog    one timer for the read, write, idle and handshake timeouts and the reassembly
//               deadlines (when the app fragments).
//   lifecycle   start, graceful and hard close, the lingering close, teardown.
//   metrics     what the connection counts into the app's Metrics, if it has one: per read and
//               write batch, not per frame (docs/observability.md).
//   spans       the connection's and its requests' spans, if the app has a tracer.
// So an idle connection runs no coroutine: it is this object, its push queues, one pending
// wait for readability and (with timeouts on) one pending timer. Actor and push queues share
// one allocation (Block), and both pending operations live in slots inside the actor
// (HandlerSlot). Every completion handler holds a Ref to the actor; the actor ends (finish())
// once its reader, writer, dispatcher and watchdog have all stopped, and is destroyed when the
// last handler lets go. The Block is freed when the last PushHandle lets go too.
//
// The app's processor stack (stack_, fixed at compile time) sits between codec and Packet: its
// frame processors on every frame, its fragment layer in the reader and per source ("lane") in
// the writer, so a high push can go out between two fragments of a large response, and its
// protocol hooks. Every byte the connection holds is budgeted (ConnectionSettings).

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "wireframe/actor/connection_timeouts.hpp"
#include "wireframe/actor/doorbell.hpp"
#include "wireframe/actor/handler_slot.hpp"
#include "wireframe/actor/packet_pool.hpp"
#include "wireframe/actor/ref_count.hpp"
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
#include "wireframe/preamble/preamble_runner.hpp"
#include "wireframe/processor/frame_processor.hpp"
#include "wireframe/processor/inbound_path.hpp"
#include "wireframe/push/push_queues.hpp"
#include "wireframe/server/connection_tracker.hpp"
#include "wireframe/transport/stream_socket.hpp"

namespace wireframe {

namespace detail {
std::string describe_exception(const std::exception_ptr& e);
bool is_disconnect(const std::error_code& ec) noexcept;
}  // namespace detail

template <class App, StreamSocket Socket = GenericSocket>
class ConnectionActor final : public TrackedConnection,
                              public detail::UsageSource,
                              public detail::ConnectionControl,
                              public detail::Wake {
  using C = typename App::codec_type;
  using P = typename App::packet_type;
  using E = typename App::error_type;
  using response_type = typename App::response_type;
  using Stack = typename App::stack_type;
  static constexpr bool fragments = Stack::has_fragments;  // with_fragmentation(): lanes, reassembly

  using clock = std::chrono::steady_clock;
  struct StreamMarker {};  // "the current Stream goes here" in the outbound ring
  using OutItem = std::variant<P, StreamMarker>;
  struct Request {  // a decoded request waiting for the dispatcher
    // Read before the handler runs: a handler may move the packet into its answer, and a
    // moved-from packet need not keep its correlation id.
    std::uint64_t correlation = 0;
    P packet;
    std::size_t bytes = 0;                  // what it counts against max_inbound_bytes
    std::optional<response_type> response;  // a plain handler already ran (inline): its answer,
    std::exception_ptr failure;              // or what it threw
    clock::time_point started{};             // with metrics or a tracer: when the read that completed it ended
    std::uint64_t span = 0;                  // with a tracer: its span's id,
    std::uint32_t message_id = 0;            // and its message id (the packet may be moved out)
  };
  using Lane = detail::Lane;
  // Room for the largest operation each slot holds (checked at compile time: handler_slot.hpp;
  // with g++ 12 and Asio 1.22 the reader's read is 232 bytes, its wait 176, the timer's 192;
  // a socket type with larger operations says so: detail::operation_slot_size).
  using ReadSlot = detail::HandlerSlot<detail::operation_slot_size<Socket>>;
  using TimerSlot = detail::HandlerSlot<232>;

 public:
  // Creates the actor of `socket` and starts it: hooks, then the reader and the watchdog. Called
  // on the socket's executor. Returns at once; the actor keeps itself alive through its pending
  // operations until it has ended (teardown hook run, removed from its tracker). May throw (the
  // constructor copies user objects): nothing of the connection is left then. `prelude`: what
  // the connection's opening read before it (server/connection_opening.hpp), if anything.
  static void launch(Socket socket, std::shared_ptr<const App> app, ConnectionId id,
                     ConnectionTracker& tracker, detail::ConnectionPrelude prelude = {});

  ConnectionActor(const ConnectionActor&) = delete;
  ConnectionActor& operator=(const ConnectionActor&) = delete;

  [[nodiscard]] asio::any_io_executor executor() { return socket_.get_executor(); }

  // Graceful: stop reading, let the command in flight finish and its frames be written.
  void shutdown() override;
  // Hard: cancel everything now (the server's shutdown deadline expired).
  void force_close() override;

  [[nodiscard]] ConnectionUsage usage() const noexcept override {
    return {inbound_bytes_, pushes_.outbound_bytes(), pushes_.paused()};
  }

  // From the push queues, on any thread: frames were pushed, or PushHandle::close() was
  // called (detail::Wake).
  void ring() noexcept override;

  // From a handler or hook of this connection, through its ConnectionContext.
  void set_idle_timeout(std::chrono::milliseconds t) noexcept override;
  void set_read_idle_timeout(std::chrono::milliseconds t) noexcept override;

 private:
  struct Block;  // the one allocation: push queues and actor (impl/lifecycle.hpp)
  friend class detail::Ref<ConnectionActor>;
  using Keep = detail::Ref<ConnectionActor>;

  ConnectionActor(Socket socket, std::shared_ptr<const App> app, ConnectionId id,
                  ConnectionTracker& tracker, std::shared_ptr<Block> block);
  // The queues are closed at the end (finish); this covers an actor freed without one (its
  // io_context destroyed with its operations pending): no producer may wake it afterwards.
  ~ConnectionActor() { pushes_.close(); }
  void start(const std::vector<std::byte>& leftover);
  bool take_leftover(const std::vector<std::byte>& bytes);

  Keep keep() noexcept { return Keep(*this); }
  void add_ref() noexcept { refs_.add(); }
  bool try_add_ref() noexcept { return refs_.try_add(); }
  void drop_ref() noexcept;
  std::shared_ptr<detail::PushQueues<P>> shared_pushes() const;
  template <class F>
  void post(F&& f);
  // Every entry into the actor from Asio (a completion handler, a posted run) goes through
  // this: user code the actor calls directly (a codec, a packet type, a frame processor, a dead
  // letter queue) may throw, and that must end this connection, logged, never the worker.
  enum class Part { reader, writer, watchdog, end };
  template <class F>
  void guarded(Part part, F&& f) noexcept;
  void on_fault(Part part, const std::exception_ptr& e) noexcept;

  // --- lifecycle (impl/lifecycle.hpp) ---------------------------------------------------------
  static detail::ConnectionTimeouts::Settings timeout_settings(const ConnectionSettings& s) noexcept;
  bool make_non_blocking();
  bool run_setup_hook();
  void run_teardown_hook() noexcept;
  void fail(std::error_code ec, std::string_view what = {});
  void end_with(std::error_code ec, std::string_view what = {});
  void stop_reading();
  void report(std::error_code ec, std::string_view what);
  void report_closed() const;
  const char* transport_name() const noexcept;
  const detail::EventLog& events() const noexcept { return pushes_.events(); }
  void close_now();
  void maybe_finish();
  void final_close();
  bool should_linger() const;
  bool input_pending() const;
  asio::awaitable<void> linger();
  asio::awaitable<void> discard_input();
  void report_lost_pushes();
  typename Socket::endpoint_type endpoint(bool remote) const;

  // --- reader (impl/reader.hpp) -----------------------------------------------------------------
  void read_loop();
  bool after_read(const asio::error_code& ec, std::size_t n, std::size_t asked);
  void end_reader();
  void wake_reader();
  void cancel_read();
  void report_decoded(std::size_t frames);
  bool must_pause_reading() const noexcept;
  bool responses_paused() const noexcept;
  bool large_response_in_lane() const noexcept;
  void shrink_read_buffer();
  std::optional<std::size_t> decode_buffered();
  std::optional<std::size_t> decode_frames();
  bool inbound_admits(std::size_t size) const noexcept;
  bool on_fragment_error(const ReassemblyResult& r);
  void on_read_error(const asio::error_code& ec);

  // --- inline dispatch (impl/inline_dispatch.hpp) -------------------------------------------------
  bool serves_inline() const noexcept { return !command_in_flight_ && requests_.empty(); }
  void serve_inline(P&& packet, std::size_t bytes);
  template <bool traced>
  void serve_inline_as(P&& packet, std::size_t bytes);
  response_type call_sync(const typename App::Route& route, P& packet, std::exception_ptr& failure) noexcept;
  void defer(Request request, const detail::SpanTimer& span);
  void ring_pending_bells(bool may_write = true);
  bool try_queue_response(response_type& response, std::uint64_t correlation);
  bool encode_directly(P& frame);
  void flush_inline();
  bool room_now(std::span<const P> frames) const noexcept;
  void end_command(P&& packet);

  // --- dispatcher (impl/dispatcher.hpp) -------------------------------------------------------
  void start_dispatcher();
  void ring_dispatcher() {
    if (dispatch_bell_ != nullptr) dispatch_bell_->ring();
  }
  void commands_maybe_done();
  asio::awaitable<void> dispatcher();
  asio::awaitable<void> handle(Request& request);
  asio::awaitable<void> send_response(response_type response, P& request, std::uint64_t correlation);
  asio::awaitable<bool> wait_for_room(std::size_t size);
  asio::awaitable<void> enqueue(P frame, std::uint64_t correlation);
  asio::awaitable<void> run_stream(typename response_type::Stream stream, P& request, std::uint64_t correlation);
  static void ring_writer(void* self) { static_cast<ConnectionActor*>(self)->wake_writer(); }
  asio::awaitable<void> on_unknown_id(P& request);
  asio::awaitable<void> on_handler_failure(P& request, std::uint64_t correlation, WireframeError<E> error,
                                           std::string_view what);
  asio::awaitable<void> send_error_frame(P& request, std::uint64_t correlation, const WireframeError<E>& error);

  // --- writer (impl/writer.hpp) ---------------------------------------------------------------
  void wake_writer();
  void run_writer();
  bool finish_writing();
  void flush_transport();
  void after_write(bool complete);
  void settle_batch_pushes(bool complete);
  void settle_push(Lane lane, P&& frame, bool written);
  void unsent_push(P&& frame);
  std::size_t write_at_once(std::error_code& error);
  void write_rest(std::size_t done);
  void continue_write();
  void on_written(const asio::error_code& ec, std::size_t n);
  void publish_outbound_bytes() { pushes_.set_actor_bytes(queued_response_bytes_ + wbuf_.size()); }

  // --- outbound select (impl/outbound_select.hpp) -----------------------------------------------
  void gather();
  bool write_next_frame();
  bool counted(Lane lane);
  bool push_work() const;
  bool write_from(Lane lane);
  bool encode_borrowed(P& frame, Lane lane);
  void keep_until_written(Lane lane, P&& frame);
  void unsendable(Lane lane, P&& frame, const std::error_code& ec);
  std::optional<P> take_from(Lane lane);
  void report_unsent(Lane lane, const std::error_code& ec);
  bool pushes_drained() const { return !push_work() && !frag().active(Lane::response); }
  std::optional<P> next_response_frame();
  bool encode(const P& frame);
  [[gnu::noinline, gnu::cold]] void encode_refused(std::uint32_t id, std::size_t bytes, const std::error_code& ec);
  void frag_written(bool complete);
  void release_borrowed(bool complete = true);

  // --- metrics (impl/metrics.hpp): nothing runs when the app has none ----------------------------
  void count_opened();
  void count_closed();
  void count_read(std::size_t bytes) { read_bytes_ += bytes; }  // added per decoded batch
  clock::time_point batch_start();
  void count_decoded(clock::time_point started);
  // Per request answered inline: one increment while the route stays the same (most reads carry
  // requests of one route); a change of route, the rare rest, out of line.
  void count_inline_request(const typename App::Route& route) {
    if (metrics_ == nullptr) return;
    if (&route == inline_route_) ++inline_requests_;
    else count_inline_route(route);
  }
  [[gnu::noinline]] void count_inline_route(const typename App::Route& route);
  void flush_inline_times(clock::time_point started, std::atomic<std::uint64_t>* block);
  void count_request(const typename App::Route* route, detail::RequestOutcome outcome, clock::time_point started);
  void count_written(std::size_t bytes);
  void add_written(std::atomic<std::uint64_t>* block);
  void count_queued_bytes(std::atomic<std::uint64_t>* block);
  void count_paused(detail::Direction d, bool paused);

  // --- spans (impl/spans.hpp): nothing runs when the app has no tracer ---------------------------
  void trace_opened();
  void trace_closed();
  detail::SpanTimer request_span(const P& packet, std::uint64_t correlation);
  void end_request_span(std::uint64_t id, std::uint32_t message_id, std::uint64_t correlation,
                        clock::time_point started, std::string_view outcome);
  void end_request_span(const Request& r, std::string_view outcome) {
    if (tracer_ != nullptr && r.span != 0) end_request_span(r.span, r.message_id, r.correlation, r.started, outcome);
  }
  void cancel_queued_spans();

  // --- watchdog (impl/watchdog.hpp) -------------------------------------------------------------
  void watchdog();
  clock::time_point next_watchdog_check(clock::time_point now) const;
  void rearm_reassembly_timer();
  void rearm_watchdog();
  void on_timeout(errc which);
  void close_on_request(CloseMode mode);

  typename Stack::fragments_type& frag() noexcept { return stack_.fragments(); }
  const typename Stack::fragments_type& frag() const noexcept { return stack_.fragments(); }
  P take_pooled() { return detail::PacketPool<P>::local().take(); }
  void recycle(P&& p) { detail::PacketPool<P>::local().give(std::move(p)); }

  detail::RefCount refs_;         // owners of the actor: the handlers of its pending work
  std::shared_ptr<Block> block_;  // keeps the allocation while the actor lives
  Socket socket_;
  std::shared_ptr<const App> app_;
  ConnectionTracker& tracker_;
  ConnectionContext ctx_;
  Stack stack_;  // this connection's processor stages (after ctx_: the protocol's hooks see it)

  ByteBuffer rbuf_;
  GatherBuffer wbuf_;
  detail::RingQueue<Request> requests_;
  detail::RingQueue<OutItem> out_;
  // In the Block, shared with every PushHandle of this connection: they may outlive the actor.
  detail::PushQueues<P>& pushes_;

  std::optional<Stream<P, E>> stream_;
  std::uint64_t stream_correlation_ = 0;
  std::optional<std::pair<WireframeError<E>, std::string>> stream_error_;

  // Memory of the operations an idle connection keeps pending (handler_slot.hpp): the reader's
  // wait or read and the watchdog's timer wait. (A write is pending only on a busy connection:
  // its memory comes from Asio's per-thread recycling cache, and a slot here would cost every
  // idle connection its size.)
  ReadSlot read_slot_;
  TimerSlot timer_slot_;
  asio::steady_timer timer_;  // the watchdog's, then the lingering close's
  clock::time_point timer_deadline_ = clock::time_point::max();
  detail::ConnectionTimeouts timeouts_;
  std::optional<clock::time_point> read_at_;  // when the bytes not yet decoded were read
  // Rung for the dispatcher: room, a stream's end, new requests (see start_dispatcher).
  std::unique_ptr<detail::Doorbell> dispatch_bell_;
  asio::cancellation_signal dispatch_cancel_;  // cancels a suspended coroutine handler
  std::atomic<bool> remote_wake_{false};       // a wake from the push queues is posted
  std::vector<asio::const_buffer> write_seq_;  // the part of the batch not yet written
  std::size_t write_first_ = 0;                // its first buffer not yet written
  static constexpr int max_inline_writes = 16;  // batches written without yielding, at most
  std::optional<P> borrowed_;  // the packet whose payload the batch borrows (encode_borrowed)
  // Why encode() last refused a frame: set only then, so the per-frame path builds no
  // std::error_code (each default construction is a call into libstdc++).
  std::error_code encode_refusal_;
  Lane borrowed_lane_ = Lane::response;  // whose frame borrowed_ is
  // Pushed frames whose last byte is in the batch being written, with the offset just past it:
  // kept (not recycled) until the batch is out, so that a batch the connection cannot finish
  // (a hard close, a failed write) hands them to the dead letter queue instead of losing them.
  // An idle writer keeps room for a few (a burst's worth is freed), so that pushing at a low
  // rate allocates nothing, and a burst pins nothing afterwards.
  struct BatchPush {
    P frame;
    std::size_t end;  // offset in the batch just past its last byte
    Lane lane;
  };
  std::vector<BatchPush> batch_pushes_;
  static constexpr std::size_t kept_batch_pushes = 16;
  std::size_t batch_written_ = 0;  // bytes of the batch written so far
  std::size_t unsent_pushes_ = 0;  // pushed frames of the last unfinished batch, for its log line
  static constexpr std::size_t borrow_threshold = 64 * 1024;
  std::size_t inbound_bytes_ = 0;           // requests decoded and not yet done with
  std::size_t queued_response_bytes_ = 0;   // response frames in out_
  std::size_t high_in_a_row_ = 0;
  std::size_t pushes_in_a_row_ = 0;
  std::size_t batch_sent_ = 0;              // bytes of the batch flush_inline already wrote
  // Metrics (impl/metrics.hpp): the app's, or null. Frames are counted here as they go into a
  // batch and added to the shared figures once per batch.
  const detail::ConnectionMetrics* metrics_ = nullptr;
  std::uint32_t frames_in_ = 0;  // decoded since the last count_decoded
  std::uint32_t frames_out_ = 0;
  std::size_t read_bytes_ = 0;
  std::size_t written_bytes_ = 0;
  bool decoding_ = false;  // between batch_start() and count_decoded(): a read's batch is written
  std::array<std::uint32_t, 2> pushes_sent_{};                  // high, low: written, to count
  std::array<std::int64_t, 2> reported_queued_{};               // in the queued_bytes gauges
  std::array<clock::time_point, 2> paused_since_{};             // back-pressure, in and out
  const typename App::Route* inline_route_ = nullptr;  // the last route count_inline_request saw,
  const Histogram* inline_histogram_ = nullptr;       // its latency histogram,
  std::uint64_t inline_requests_ = 0;                 // and its requests of this read, not timed yet
  bool command_failed_ = false;             // the dispatcher's command reported a failure
  clock::time_point batch_started_{};       // batch_start() of the read being decoded
  // Spans (impl/spans.hpp): the app's tracer, or null; the connection's span; the outcome of
  // the command the dispatcher ran (handle()).
  Tracer* tracer_ = nullptr;
  detail::SpanTimer connection_span_;
  const char* command_outcome_ = "ok";
  std::error_code reason_;
  std::string reason_detail_;  // what report() said about reason_, for connection.closed
  // Who is running. The actor ends when none of the four is.
  bool reader_active_ = false;              // started, not yet ended
  bool writer_busy_ = false;                // a run is posted, running, or awaiting a write
  bool dispatcher_running_ = false;
  bool timer_pending_ = false;              // the watchdog's wait is pending
  bool watchdog_posted_ = false;            // a first run of the watchdog is posted (rearm_watchdog)
  bool finished_ = false;
  // The reader's state.
  bool reader_op_ = false;                  // a wait or read of the reader's is pending
  bool reader_waiting_ = false;             // paused for room (back-pressure)
  bool socket_drained_ = false;
  bool inbound_blocked_ = false;            // the next frame waits for inbound budget
  bool peer_eof_ = false;
  bool stop_reading_ = false;               // bad bytes: read no more, answer what was read
  bool reader_done_ = false;
  bool cancel_read_after_write_ = false;    // the read is cancelled once the write in flight ends
  // The dispatcher's and writer's.
  bool command_in_flight_ = false;          // the dispatcher runs a command (inline waits)
  bool commands_done_ = false;              // no request will be run any more
  bool dispatch_pending_ = false;           // requests deferred since the last ring
  bool writer_pending_ = false;             // frames queued since the writer was last woken
  bool writing_ = false;                    // an asynchronous write of the batch is pending
  bool lane_was_big_ = false;               // large_response_in_lane() after the last write
  bool writer_finished_ = false;
  bool draining_ = false;
  bool closing_ = false;
};

}  // namespace wireframe

#include "wireframe/actor/impl/dispatcher.hpp"
#include "wireframe/actor/impl/inline_dispatch.hpp"
#include "wireframe/actor/impl/lifecycle.hpp"
#include "wireframe/actor/impl/metrics.hpp"
#include "wireframe/actor/impl/outbound_select.hpp"
#include "wireframe/actor/impl/reader.hpp"
#include "wireframe/actor/impl/spans.hpp"
#include "wireframe/actor/impl/watchdog.hpp"
#include "wireframe/actor/impl/writer.hpp"
