// A whole connection fed arbitrary inbound bytes: the real ConnectionActor on one end of an
// in-memory stream (MemorySocket: no file descriptors, no kernel, so thousands of connections a
// second), a peer on the other that writes the input (in pieces of a size the input picks),
// half-closes, and reads everything the server sends until it closes.
//
// Input: byte 0 picks the app (bit 0: with LenFlag32K fragmentation), the peer's write size
// (bits 1-3) and the stream's capacity each way (bits 4-5: from 1 byte, so every read and
// write of the actor can come up short, to 64 KiB); the rest is written to the server as it is. Routes, by message id:
//   1 echo (plain)   2 a Vec of payload[0] % 4 copies (coroutine)   3 a Stream of payload[0] % 4
//   frames, suspending between them   4 Empty   5 throws   6 echo after a suspension
// Unknown ids and failures are answered with the error frame (policies error_frame).
//
// Properties (a violation traps, so libFuzzer keeps the input):
//   - the connection ends: within a bounded run of its io_context, its tracker is empty (no
//     hang, no leaked actor). The bound is 5 s of this thread's CPU time, not of the clock: a
//     campaign starved by other work (a nice level on a busy machine) once saw a 110 ms input
//     take over 5 s of wall time and reported it as a hang. The clock bounds only a run that
//     waits for nothing (60 s);
//   - it ends for a documented reason: none (the peer's clean end), or one of wireframe's own
//     error codes, or a disconnect;
//   - the server writes whole frames only, and (unfragmented app) every frame is an envelope
//     answering a request that was sent: an echo carries exactly its request's payload, echoes
//     come back in request order, and after a clean end every echo request was answered.
// ASan and UBSan (the fuzz preset) check the rest: no invalid access, no leak, no UB.

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include <time.h>

#include <wireframe/wireframe.hpp>

#include "fuzz/fuzz_check.hpp"

namespace {

using fuzz::check;

using namespace wireframe;
using namespace std::chrono_literals;
using Resp = Response<Envelope>;

LengthDelimitedCodec small_codec() {
  LengthDelimitedCodec::Options o;
  o.max_frame_length = 4096;
  return LengthDelimitedCodec(o);
}

int count_of(const Envelope& e) {
  return e.payload().empty() ? 1 : std::to_integer<int>(e.payload()[0]) % 4;
}

Stream<Envelope> counted_stream(Envelope request) {
  for (int i = 0; i < count_of(request); ++i) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_yield Envelope(request.id(), request.correlation_id(), request.payload());
  }
}

// Teardown reasons seen, per connection (one at a time here).
std::error_code g_reason;
bool g_ended = false;

template <class App>
App with_routes(App app) {
  app.route(1, [](Envelope& r) -> Resp { return std::move(r); })
      .route(2, [](Envelope& r) -> asio::awaitable<Resp> {
        std::vector<Envelope> copies(static_cast<std::size_t>(count_of(r)), r);
        co_return copies;
      })
      .route(3, [](Envelope& r) -> Resp { return Resp(counted_stream(r)); })
      .route(4, [](Envelope&) -> Resp { return Resp(); })
      .route(5, [](Envelope&) -> Resp { throw std::runtime_error("handler 5 throws"); })
      .route(6, [](Envelope& r) -> asio::awaitable<Resp> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        co_return std::move(r);
      })
      .unknown_id_policy(UnknownIdPolicy::error_frame)
      .handler_error_policy(HandlerErrorPolicy::error_frame)
      .max_inbound_bytes(16 * 1024)
      .outbound_watermarks(8 * 1024, 32 * 1024)
      .max_outbound_bytes(64 * 1024)
      .linger_timeout(std::chrono::milliseconds(50))
      .on_connection_teardown([](ConnectionContext&, std::error_code ec) {
        g_reason = ec;
        g_ended = true;
      });
  return app;
}

const auto& plain_app() {
  static const auto app = with_routes(WireframeApp<>().with_codec(small_codec())).build();
  return app;
}

const auto& fragmented_app() {
  static const auto app =
      with_routes(WireframeApp<>().with_codec(small_codec())).with_fragmentation(LenFlag32K(64)).build();
  return app;
}

struct Request {
  std::uint32_t id;
  std::uint64_t correlation;
  std::vector<std::byte> payload;
};

// The requests the input holds, as the server's codec cuts them, up to the first bad frame.
std::vector<Request> requests_in(std::span<const std::byte> in) {
  const LengthDelimitedCodec codec = small_codec();
  std::vector<Request> out;
  while (true) {
    const DecodeResult r = codec.decode(in);
    if (r.status != DecodeStatus::frame) break;
    Envelope e;
    if (e.decode_from(r.frame)) break;
    out.push_back({e.id(), e.correlation_id(), {e.payload().begin(), e.payload().end()}});
    in = in.subspan(r.consumed);
  }
  return out;
}

bool documented(const std::error_code& ec) {
  return !ec || ec.category() == wireframe_category() || ec.category() == fragment_category() ||
         ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

// The server's replies against the requests (unfragmented app).
void check_replies(std::span<const std::byte> out, const std::vector<Request>& requests, bool clean_end) {
  const LengthDelimitedCodec codec = small_codec();
  std::size_t next_echo = 0;  // index into requests: echoes come back in request order
  while (!out.empty()) {
    const DecodeResult r = codec.decode(out);
    check(r.status == DecodeStatus::frame, "the server wrote a partial or invalid frame");
    Envelope e;
    check(!e.decode_from(r.frame), "the server wrote a frame that is not an envelope");
    if (e.id() == 1) {
      while (next_echo < requests.size() &&
             (requests[next_echo].id != 1 || requests[next_echo].correlation != e.correlation_id())) {
        ++next_echo;
      }
      check(next_echo < requests.size(), "an echo answers no request, or came out of order");
      const auto& payload = requests[next_echo].payload;
      check(std::equal(payload.begin(), payload.end(), e.payload().begin(), e.payload().end()),
            "an echo's payload differs from its request's");
      ++next_echo;
    }
    out = out.subspan(r.consumed);
  }
  if (!clean_end) return;
  for (std::size_t i = next_echo; i < requests.size(); ++i) {
    check(requests[i].id != 1, "a clean end left an echo request unanswered");
  }
}

// The server's output cut into frames by the codec alone (fragmented app: fragments).
void check_frames(std::span<const std::byte> out) {
  const LengthDelimitedCodec codec = small_codec();
  while (!out.empty()) {
    const DecodeResult r = codec.decode(out);
    check(r.status == DecodeStatus::frame, "the server wrote a partial or invalid frame");
    out = out.subspan(r.consumed);
  }
}

asio::awaitable<void> peer(MemorySocket& s, std::span<const std::byte> input, std::size_t piece,
                           std::vector<std::byte>& received) {
  // Reads everything while writing, so that the server never stalls on a full socket.
  auto reader = [&]() -> asio::awaitable<void> {
    std::byte buf[4096];
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), detail::use_nothrow);
      received.insert(received.end(), buf, buf + n);
      if (ec) break;
    }
    // The server ended: closing at once ends its lingering close now, not at its timeout.
    asio::error_code ignored;
    s.close(ignored);
  };
  asio::co_spawn(s.get_executor(), reader, asio::detached);
  while (!input.empty()) {
    const std::size_t n = std::min(piece, input.size());
    auto [ec, written] = co_await asio::async_write(s, asio::buffer(input.data(), n), detail::use_nothrow);
    if (ec) break;
    input = input.subspan(n);
  }
  asio::error_code ignored;
  s.shutdown(asio::socket_base::shutdown_send, ignored);
}

std::chrono::nanoseconds thread_cpu_time() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Runs `io` until it has no work left (the connection and the peer ended), for at most 5 s of
// CPU time or 60 s of the clock (see the header comment).
void run_bounded(asio::io_context& io) {
  const auto cpu_start = thread_cpu_time();
  const auto wall_start = std::chrono::steady_clock::now();
  while (!io.stopped() && thread_cpu_time() - cpu_start < 5s &&
         std::chrono::steady_clock::now() - wall_start < 60s) {
    io.run_for(100ms);
  }
}

template <class App>
void run_one(const std::shared_ptr<const App>& app, std::span<const std::byte> input, std::size_t piece,
             std::size_t capacity, bool check_envelopes) {
  asio::io_context io;
  auto [server_side, client_side] = MemorySocket::pair(io.get_executor(), capacity);
  ConnectionTracker tracker;
  g_ended = false;
  g_reason = {};
  ConnectionActor<App, MemorySocket>::launch(std::move(server_side), app, 1, tracker);
  std::vector<std::byte> received;
  asio::co_spawn(io, peer(client_side, input, piece, received), asio::detached);
  run_bounded(io);  // a connection that has not ended by then is a hang: checked below
  check(g_ended && tracker.size() == 0, "the connection did not end");
  if (!documented(g_reason)) {
    std::fprintf(stderr, "reason: %s (%s)\n", g_reason.message().c_str(), g_reason.category().name());
  }
  check(documented(g_reason), "the connection ended for an undocumented reason");
  if (check_envelopes) check_replies(received, requests_in(input), !g_reason);
  else check_frames(received);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::signal(SIGPIPE, SIG_IGN);
  set_log_level(LogLevel::off);  // a refused frame logs a warning: not what is measured here
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t config = data[0];
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  static constexpr std::size_t pieces[] = {1 << 20, 1, 2, 3, 7, 16, 100, 1000};
  const std::size_t piece = pieces[(config >> 1) & 7];
  static constexpr std::size_t capacities[] = {64 * 1024, 1, 7, 300};
  const std::size_t capacity = capacities[(config >> 4) & 3];
  if (config & 1) run_one(fragmented_app(), input, piece, capacity, false);
  else run_one(plain_app(), input, piece, capacity, true);
  return 0;
}
