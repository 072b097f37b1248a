#pragma once
// WireframeClient: the client side of a wireframe protocol, over the same codec and packet
// types as the server. Used by the tests and examples; good for tools and simple clients.
//
//   WireframeClient<> client(co_await asio::this_coro::executor);
//   if (auto ec = co_await client.connect(endpoint)) ...;      // or connect_unix(path)
//   auto [ec, reply] = co_await client.call(Envelope(1, 0, "ping"));  // matched by correlation
//
// Over TLS: wireframe::connect_tls(client, host, port, context) (tls/tls_client.hpp).
//
// One coroutine at a time may use a client (it reads the socket itself when it waits; frames
// that arrive for someone else, such as pushes or other correlation ids, are kept in an inbox
// for a later receive()). Errors are returned, never thrown.
//
// Frame processors (processor/frame_processor.hpp) are the client's last template parameters,
// in the server's order (nearest the codec first): WireframeClient<C, P, Crc32c> speaks to an app
// built with .with_processor(Crc32c{}). They run through the same code as on the server
// (detail::FrameStages), and every frame received takes the server's decoding path
// (processor/inbound_path.hpp). Fragmentation is set at run time (with_fragmentation): a client is not
// on a hot path, so its fragment layer is reached through a small virtual interface.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/buffer/gather_buffer.hpp"
#include "wireframe/client/client_stream.hpp"
#include "wireframe/codec/frame_codec.hpp"
#include "wireframe/codec/length_delimited.hpp"
#include "wireframe/detail/asio.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/fragment/fragment_adapter.hpp"
#include "wireframe/fragment/fragment_layer.hpp"
#include "wireframe/packet/envelope.hpp"
#include "wireframe/packet/message.hpp"
#include "wireframe/packet/packet.hpp"
#include "wireframe/processor/frame_processor.hpp"
#include "wireframe/processor/frame_stages.hpp"
#include "wireframe/processor/inbound_path.hpp"
#include "wireframe/transport/stream_socket.hpp"

namespace wireframe {

template <FrameCodec C = LengthDelimitedCodec, Packet P = Envelope, FrameProcessor... T>
class WireframeClient {
  using Sealing = detail::SealingCodec<C, T...>;

 public:
  using Result = std::tuple<std::error_code, P>;

  // The frame processors default-constructed, or as given.
  explicit WireframeClient(asio::any_io_executor ex, C codec = {})
      : WireframeClient(std::move(ex), std::move(codec), std::tuple<T...>{}) {}
  // (A template of its own: with no processors, clang 14 mangles a constrained non-template
  // overload like the constructor above and refuses the library's explicit instantiation.)
  template <class First, class... Rest>
    requires(sizeof...(T) == 1 + sizeof...(Rest))
  WireframeClient(asio::any_io_executor ex, C codec, First first, Rest... rest)
      : WireframeClient(std::move(ex), std::move(codec), std::tuple<T...>(std::move(first), std::move(rest)...)) {}

  // The fragment layer and the codec it writes through point into the client: it stays put.
  WireframeClient(const WireframeClient&) = delete;
  WireframeClient& operator=(const WireframeClient&) = delete;

  // Fragments like a server built with WireframeApp::with_fragmentation(strategy, limits):
  // frames sent are split, frames received reassembled (docs/fragmentation.md). A reassembly
  // error is returned by the receive call that met it; messages older than the limits'
  // reassembly_timeout are dropped (and reported) when the client next reads.
  template <class Strategy>
    requires FragmentStrategy<Strategy, P>
  WireframeClient& with_fragmentation(Strategy strategy, ReassemblyLimits limits = {}) {
    frag_ = std::make_unique<FragmentAdapter<Strategy, Sealing, P>>(sealed_, strategy, limits);
    return *this;
  }

  asio::awaitable<std::error_code> connect(const asio::ip::tcp::endpoint& endpoint) {
    auto [ec] = co_await socket_.async_connect(endpoint, detail::use_nothrow);
    if (!ec) socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    co_return ec;
  }

  // To a server's Unix domain socket (WireframeServer::bind_unix).
  asio::awaitable<std::error_code> connect_unix(const std::string& path) {
    auto [ec] = co_await socket_.async_connect(asio::local::stream_protocol::endpoint(path), detail::use_nothrow);
    co_return ec;
  }

  asio::awaitable<std::error_code> connect(const std::string& host, std::uint16_t port) {
    asio::ip::tcp::resolver resolver(socket_.get_executor());
    auto [ec, results] =
        co_await resolver.async_resolve(host, std::to_string(port), detail::use_nothrow);
    if (ec) co_return ec;
    // Each address in turn (the socket holds any address family, so asio::async_connect's
    // range form, which wants the resolver's own socket type, does not apply).
    std::error_code cec = asio::error::host_not_found;
    for (const auto& entry : results) {
      asio::error_code ignored;
      socket_.close(ignored);
      cec = co_await connect(entry.endpoint());
      if (!cec) break;
    }
    co_return cec;
  }

  // Sends one frame as it is (its correlation id untouched).
  asio::awaitable<std::error_code> send(const P& frame) {
    wbuf_.clear();
    if (auto ec = encode(frame)) co_return ec;
    co_return co_await flush();
  }

  // Sends several frames in one write (pipelining).
  template <class Range>
  asio::awaitable<std::error_code> send_all(const Range& frames) {
    wbuf_.clear();
    for (const P& f : frames) {
      if (auto ec = encode(f)) co_return ec;
    }
    co_return co_await flush();
  }

  // Bytes as they are, outside the framing: a preamble before the first frame (the server's
  // WireframeApp::with_preamble), or whatever a protocol sends before its codec starts.
  asio::awaitable<std::error_code> send_bytes(std::span<const std::byte> bytes) {
    const asio::const_buffer buffer(bytes.data(), bytes.size());
    asio::error_code ec;
    if (stream_) {
      ec = co_await stream_->write(std::span<const asio::const_buffer>(&buffer, 1));
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(socket_, buffer, detail::use_nothrow);
    }
    co_return ec;
  }

  // Exactly `into.size()` bytes, outside the framing (a preamble's reply). Bytes that arrived
  // after them stay buffered for receive().
  asio::awaitable<std::error_code> receive_bytes(std::span<std::byte> into) {
    std::size_t got = 0;
    while (got < into.size()) {
      if (rbuf_.empty()) {
        if (auto ec = co_await read_more()) co_return ec;
        continue;
      }
      const auto readable = rbuf_.readable();
      const std::size_t n = std::min(readable.size(), into.size() - got);
      std::memcpy(into.data() + got, readable.data(), n);
      rbuf_.consume(n);
      got += n;
    }
    co_return std::error_code{};
  }

  // Sends `request` with a fresh correlation id (unless it has one) and returns the first frame
  // that carries it. Other frames are kept for receive().
  asio::awaitable<Result> call(P request) {
    if (request.correlation_id() == 0) request.set_correlation_id(next_correlation_id());
    const std::uint64_t correlation = request.correlation_id();
    if (auto ec = co_await send(request)) co_return Result{ec, P{}};
    co_return co_await receive_for(correlation);
  }

  // Typed request/reply over Envelope-like packets: encodes `message` as the payload of a frame
  // with `id`, decodes the reply's payload as Rep.
  template <Message Rep, Message Req>
    requires std::constructible_from<P, std::uint32_t, std::uint64_t, std::vector<std::byte>>
  asio::awaitable<std::tuple<std::error_code, Rep>> request(std::uint32_t id, const Req& message) {
    std::vector<std::byte> bytes;
    encode_message(message, bytes);
    auto [ec, reply] = co_await call(P(id, 0, std::move(bytes)));
    Rep value{};
    if (!ec) ec = decode_message(std::span<const std::byte>(reply.payload()), value);
    co_return std::tuple<std::error_code, Rep>{ec, std::move(value)};
  }

  // The next frame, in arrival order (frames kept earlier come first).
  asio::awaitable<Result> receive() {
    if (!inbox_.empty()) {
      P frame = std::move(inbox_.front());
      inbox_.pop_front();
      co_return Result{std::error_code{}, std::move(frame)};
    }
    co_return co_await read_frame();
  }

  // The next frame carrying `correlation` (e.g. each frame of a multi-frame response).
  asio::awaitable<Result> receive_for(std::uint64_t correlation) {
    for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
      if (it->correlation_id() == correlation) {
        P frame = std::move(*it);
        inbox_.erase(it);
        co_return Result{std::error_code{}, std::move(frame)};
      }
    }
    for (;;) {
      auto [ec, frame] = co_await read_frame();
      if (ec) co_return Result{ec, P{}};
      if (frame.correlation_id() == correlation) co_return Result{ec, std::move(frame)};
      inbox_.push_back(std::move(frame));
    }
  }

  std::uint64_t next_correlation_id() noexcept { return ++last_correlation_; }

  // Half-closes the sending side: the server sees EOF, answers what it has, then closes.
  void shutdown_send() {
    if (stream_) return stream_->shutdown_send();
    asio::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  }

  void close() {
    if (stream_) return stream_->close();
    asio::error_code ignored;
    socket_.close(ignored);
  }

  [[nodiscard]] bool is_open() const { return stream_ ? stream_->is_open() : socket_.is_open(); }
  // A TCP or Unix domain socket (transport/stream_socket.hpp), as connected. A transport
  // layered over it (use_stream) takes it over.
  [[nodiscard]] GenericSocket& socket() noexcept { return socket_; }

  // From now on the client reads and writes `stream` (which took over socket(), typically):
  // how connect_tls installs TLS.
  void use_stream(std::unique_ptr<ClientStream> stream) noexcept { stream_ = std::move(stream); }
  [[nodiscard]] ClientStream* stream() noexcept { return stream_.get(); }

 private:
  static constexpr std::size_t read_chunk = 16 * 1024;

  WireframeClient(asio::any_io_executor ex, C codec, std::tuple<T...> processors)
      : socket_(std::move(ex)),
        codec_(std::move(codec)),
        stages_(std::move(processors)),
        sealed_(codec_, stages_),
        rbuf_(saturating_add(saturating_add(codec_.max_frame_length(), codec_.max_overhead()), read_chunk)) {}

  std::error_code encode(const P& frame) {
    if (frag_) return frag_->write_all(frame, wbuf_);
    return sealed_.encode(frame.encoded_size(), wbuf_.bytes(),
                          [&frame](std::span<std::byte> dst) { frame.encode_to(dst); });
  }

  asio::awaitable<std::error_code> flush() {
    asio::error_code ec;
    if (stream_) {
      ec = co_await stream_->write(wbuf_.buffers());
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(socket_, wbuf_.buffers(), detail::use_nothrow);
    }
    wbuf_.clear();
    if (frag_) frag_->written();
    co_return ec;
  }

  // The next frame, decoded by the same path as the server's (processor/inbound_path.hpp),
  // reading the socket whenever the buffered bytes hold no whole message.
  asio::awaitable<Result> read_frame() {
    using Kind = detail::InboundStep::Kind;
    detail::InboundStep step;
    for (;;) {
      if (auto ec = expire_partials()) co_return Result{ec, P{}};
      const FrameContext ctx{0, last_read_};
      if (frag_) {
        detail::next_inbound(codec_, stages_, rbuf_.readable(), ctx, detail::admit_all,
                             detail::reassemble_into(*frag_, last_read_), step);
      } else {
        detail::next_inbound(codec_, stages_, rbuf_.readable(), ctx, detail::admit_all, detail::whole_message(), step);
      }
      if (step.kind == Kind::need_more) {
        if (auto ec = co_await read_more()) co_return Result{ec, P{}};
        continue;
      }
      if (step.kind == Kind::error) co_return Result{step.error, P{}};
      P frame;
      std::error_code ec = step.kind == Kind::fragment_error ? step.fragment.error : std::error_code{};
      if (step.kind == Kind::message) ec = frame.decode_from(step.message);  // before the consume
      rbuf_.consume(step.consumed);
      if (frag_) frag_->release();
      if (step.kind == Kind::message || step.kind == Kind::fragment_error) co_return Result{ec, std::move(frame)};
    }
  }

  // Messages older than the reassembly timeout are dropped; the first such error is returned.
  // The clock is the one of the last socket read, not read per frame.
  std::error_code expire_partials() {
    std::error_code ec;
    if (frag_ && frag_->partials() > 0) frag_->expire(last_read_, [&ec](const ReassemblyResult& r) {
      if (!ec) ec = r.error;
    });
    return ec;
  }

  asio::awaitable<std::error_code> read_more() {
    auto space = rbuf_.prepare(read_chunk);
    if (space.empty()) co_return make_error_code(errc::frame_too_large);
    const asio::mutable_buffer into(space.data(), space.size());
    asio::error_code ec;
    std::size_t n = 0;
    if (stream_) {  // if/else, not `?:` around co_await (development.md, compiler traps)
      std::tie(ec, n) = co_await stream_->read_some(into);
    } else {
      std::tie(ec, n) = co_await socket_.async_read_some(into, detail::use_nothrow);
    }
    if (ec == asio::error::eof) {
      co_return rbuf_.empty() ? make_error_code(errc::connection_closed) : make_error_code(errc::truncated_frame);
    }
    if (ec) co_return ec;
    rbuf_.commit(n);
    if (frag_ || !detail::FrameStages<T...>::empty) last_read_ = std::chrono::steady_clock::now();
    co_return std::error_code{};
  }

  GenericSocket socket_;
  std::unique_ptr<ClientStream> stream_;  // null: the client reads and writes socket_
  C codec_;
  detail::FrameStages<T...> stages_;
  Sealing sealed_;  // codec_ under stages_: what the client writes through
  ByteBuffer rbuf_;
  GatherBuffer wbuf_;
  std::unique_ptr<detail::FragmentLayer<P>> frag_;  // null unless with_fragmentation()
  std::chrono::steady_clock::time_point last_read_{};
  std::deque<P> inbox_;
  std::uint64_t last_correlation_ = 0;
};

// Compiled once into the library (src/client/default_client.cpp), like the default actor.
extern template class WireframeClient<LengthDelimitedCodec, Envelope>;

}  // namespace wireframe
