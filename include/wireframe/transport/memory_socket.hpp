#pragma once
// MemorySocket: the two ends of a connected in-memory byte stream, a StreamSocket
// (transport/stream_socket.hpp) without a kernel. For tests and tools that want a real
// connection actor without file descriptors: the fuzz target that feeds a whole connection,
// the interleaving explorer (every completion goes through the socket's executor, so whoever
// runs that executor decides the order of everything), property tests that need a peer which
// stops reading at an exact byte count.
//
//   auto [server_end, client_end] = MemorySocket::pair(io.get_executor(), 64 * 1024);
//   ConnectionActor<App, MemorySocket>::launch(std::move(server_end), app, id, tracker);
//
// Semantics, as a stream socket's:
//  - Each direction holds at most `capacity` bytes (the "kernel buffers"): a writer that finds
//    it full would block (write_some: would_block; async ops wait), so a peer that stops
//    reading stalls its writer at an exact byte count.
//  - shutdown(shutdown_send) is a half-close: the peer reads what is left, then EOF. close()
//    (or the destructor) does the same for the peer's reads and fails its writes with
//    broken_pipe; this end's pending operations complete with operation_aborted.
//  - cancel() completes this end's pending operations with operation_aborted; per-operation
//    cancellation (cancellation slots: the awaitable operators) does the same for one.
//  - Completions never run inside the initiating call: an operation that could complete at
//    once is posted to the executor first.
// Not thread-safe: both ends belong to one executor and are used from the thread running it
// (one io_context thread, or the explorer). One read-side and one write-side operation may be
// pending per end at a time (what the actor and any Asio stream user does). A pending
// operation is parked on a steady_timer of the pair (an event that wakes it by cancel), which
// brings Asio's own cancellation, executor and work tracking: a pending wait keeps
// io_context::run() running, as a socket's would. One allocation per pair, none per operation.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "wireframe/detail/asio.hpp"
#include "wireframe/transport/stream_socket.hpp"

#include <asio/compose.hpp>

namespace wireframe {

class MemorySocket {
 public:
  using endpoint_type = MemoryEndpoint;
  using executor_type = asio::any_io_executor;

  // Two connected ends on `executor`, each direction holding at most `capacity` bytes (> 0).
  static std::pair<MemorySocket, MemorySocket> pair(const executor_type& executor, std::size_t capacity = 64 * 1024) {
    auto shared = std::make_shared<Shared>(executor, std::max<std::size_t>(capacity, 1));
    return {MemorySocket(shared, 0), MemorySocket(shared, 1)};
  }

  MemorySocket(MemorySocket&& other) noexcept = default;
  MemorySocket& operator=(MemorySocket&& other) noexcept {
    if (this != &other) {
      asio::error_code ignored;
      close(ignored);
      shared_ = std::move(other.shared_);
      side_ = other.side_;
    }
    return *this;
  }
  MemorySocket(const MemorySocket&) = delete;
  MemorySocket& operator=(const MemorySocket&) = delete;
  ~MemorySocket() {
    asio::error_code ignored;
    close(ignored);
  }

  executor_type get_executor() const noexcept { return shared_->executor; }
  [[nodiscard]] bool is_open() const noexcept { return shared_ && !me().closed; }
  // Bytes written by this end that its peer has not read yet (a test's "send queue").
  [[nodiscard]] std::size_t unread_by_peer() const noexcept { return out().size; }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, asio::error_code& ec) {
    return shared_->read(side_, buffers, ec);
  }

  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, asio::error_code& ec) {
    return shared_->write(side_, buffers, ec);
  }

  template <class Token>
  auto async_wait(asio::socket_base::wait_type what, Token&& token) {
    const Direction d = what == asio::socket_base::wait_write ? Direction::write : Direction::read;
    return asio::async_compose<Token, void(asio::error_code)>(
        Op<asio::mutable_buffer, OpKind::wait>{shared_, side_, d, {}}, token, shared_->executor);
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(asio::error_code, std::size_t)>(
        Op<MutableBuffers, OpKind::read>{shared_, side_, Direction::read, buffers}, token, shared_->executor);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(asio::error_code, std::size_t)>(
        Op<ConstBuffers, OpKind::write>{shared_, side_, Direction::write, buffers}, token, shared_->executor);
  }

  void non_blocking(bool, asio::error_code& ec) { ec = {}; }  // it never blocks

  void shutdown(asio::socket_base::shutdown_type what, asio::error_code& ec) {
    ec = {};
    if (!is_open()) return (void)(ec = asio::error::not_connected);
    if (what == asio::socket_base::shutdown_receive) return;  // as TCP: nothing the peer sees
    out().write_ended = true;
    shared_->wake(1 - side_, Direction::read);  // EOF to read
  }

  void cancel(asio::error_code& ec) {
    ec = {};
    if (!is_open()) return (void)(ec = asio::error::bad_descriptor);
    shared_->abort(side_);
  }

  void close(asio::error_code& ec) {
    ec = {};
    if (!is_open()) return;
    me().closed = true;
    out().write_ended = true;
    in().reset();
    shared_->abort(side_);
    shared_->wake(1 - side_, Direction::read);   // EOF
    shared_->wake(1 - side_, Direction::write);  // broken_pipe
  }

  [[nodiscard]] std::size_t available(asio::error_code& ec) const {
    ec = is_open() ? asio::error_code{} : asio::error_code(asio::error::bad_descriptor);
    return is_open() ? in().size : 0;
  }
  [[nodiscard]] endpoint_type remote_endpoint(asio::error_code& ec) const {
    ec = is_open() ? asio::error_code{} : asio::error_code(asio::error::bad_descriptor);
    return {};
  }
  [[nodiscard]] endpoint_type local_endpoint(asio::error_code& ec) const { return remote_endpoint(ec); }

 private:
  enum class Direction { read = 0, write = 1 };
  enum class OpKind { wait, read, write };

  // One direction's bytes: a ring of `capacity` bytes.
  struct Pipe {
    std::vector<std::byte> bytes;
    std::size_t head = 0;
    std::size_t size = 0;
    bool write_ended = false;  // the writer half-closed or closed: EOF after the last byte

    template <class Buffers>
    std::size_t take(const Buffers& buffers) {
      std::size_t done = 0;
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers) && size > 0; ++it) {
        const asio::mutable_buffer b(*it);
        auto* to = static_cast<std::byte*>(b.data());
        std::size_t want = std::min(b.size(), size);
        for (std::size_t i = 0; i < want;) {  // at most two pieces: up to the ring's end, then from 0
          const std::size_t piece = std::min(want - i, bytes.size() - head);
          std::copy_n(bytes.data() + head, piece, to + i);
          head = (head + piece) % bytes.size();
          size -= piece;
          i += piece;
        }
        done += want;
      }
      return done;
    }

    template <class Buffers>
    std::size_t put(const Buffers& buffers) {
      std::size_t done = 0;
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
        const asio::const_buffer b(*it);
        const auto* from = static_cast<const std::byte*>(b.data());
        const std::size_t want = std::min(b.size(), bytes.size() - size);
        for (std::size_t i = 0; i < want;) {
          const std::size_t tail = (head + size) % bytes.size();
          const std::size_t piece = std::min(want - i, bytes.size() - tail);
          std::copy_n(from + i, piece, bytes.data() + tail);
          size += piece;
          i += piece;
        }
        done += want;
        if (want < b.size()) break;
      }
      return done;
    }

    void reset() noexcept { head = size = 0; }  // its reader closed: unread bytes are gone
  };

  // Where one end's pending operation of one direction waits: a timer that never expires,
  // cancelled to wake it. `woken` tells a wake from a cancellation.
  struct Parking {
    explicit Parking(const executor_type& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool woken = false;
  };

  struct End {
    explicit End(const executor_type& ex) : parking{Parking(ex), Parking(ex)} {}
    std::array<Parking, 2> parking;  // by Direction
    bool closed = false;
  };

  struct Shared {
    Shared(const executor_type& ex, std::size_t capacity)
        : executor(ex), ends{End(ex), End(ex)}, pipes{Pipe{std::vector<std::byte>(capacity)}, Pipe{std::vector<std::byte>(capacity)}} {}
    executor_type executor;
    std::array<End, 2> ends;
    std::array<Pipe, 2> pipes;  // pipes[i]: written by end i, read by end 1 - i

    template <class MutableBuffers>
    std::size_t read(int side, const MutableBuffers& buffers, asio::error_code& ec) {
      ec = {};
      if (ends[side].closed) return ec = asio::error::bad_descriptor, 0;
      Pipe& pipe = pipes[1 - side];
      if (asio::buffer_size(buffers) == 0) return 0;
      if (pipe.size == 0) {
        if (pipe.write_ended) ec = asio::error::eof;
        else ec = asio::error::would_block;
        return 0;
      }
      const std::size_t n = pipe.take(buffers);
      wake(1 - side, Direction::write);  // room for the peer's writes
      return n;
    }

    template <class ConstBuffers>
    std::size_t write(int side, const ConstBuffers& buffers, asio::error_code& ec) {
      ec = {};
      if (ends[side].closed) return ec = asio::error::bad_descriptor, 0;
      Pipe& pipe = pipes[side];
      if (pipe.write_ended || ends[1 - side].closed) return ec = asio::error::broken_pipe, 0;
      if (asio::buffer_size(buffers) == 0) return 0;
      if (pipe.size == pipe.bytes.size()) return ec = asio::error::would_block, 0;
      const std::size_t n = pipe.put(buffers);
      wake(1 - side, Direction::read);  // something to read for the peer
      return n;
    }

    // Readiness as poll() reports it: something to read (or EOF, or an error), room to write
    // (or an error).
    [[nodiscard]] bool ready(int side, Direction d) const noexcept {
      if (ends[side].closed) return true;
      if (d == Direction::read) return pipes[1 - side].size > 0 || pipes[1 - side].write_ended;
      const Pipe& out = pipes[side];
      return out.size < out.bytes.size() || out.write_ended || ends[1 - side].closed;
    }

    void wake(int side, Direction d) {
      Parking& p = ends[side].parking[static_cast<int>(d)];
      p.woken = true;
      p.timer.cancel();
    }
    void abort(int side) {
      for (Parking& p : ends[side].parking) {
        p.woken = false;
        p.timer.cancel();
      }
    }
  };

  // Every asynchronous operation: try it; when it would block, park until woken, and again.
  template <class Buffers, OpKind kind>
  struct Op {
    std::shared_ptr<Shared> shared;
    int side;
    Direction direction;
    Buffers buffers;
    enum class Stage { start, posted, parked } stage = Stage::start;

    template <class Self>
    void operator()(Self& self, asio::error_code ec = {}) {
      Parking& parking = shared->ends[side].parking[static_cast<int>(direction)];
      if (stage == Stage::start) {  // never complete inside the initiating call
        stage = Stage::posted;
        return asio::post(shared->executor, std::move(self));
      }
      if (stage == Stage::parked && !std::exchange(parking.woken, false)) {
        return finish(self, ec ? ec : asio::error::operation_aborted, 0);
      }
      if (shared->ends[side].closed) return finish(self, asio::error::operation_aborted, 0);
      std::size_t n = 0;
      ec = {};
      if constexpr (kind == OpKind::read) n = shared->read(side, buffers, ec);
      else if constexpr (kind == OpKind::write) n = shared->write(side, buffers, ec);
      else if (!shared->ready(side, direction)) ec = asio::error::would_block;
      if (ec == asio::error::would_block) {
        stage = Stage::parked;
        parking.woken = false;
        return parking.timer.async_wait(std::move(self));
      }
      finish(self, ec, n);
    }

    template <class Self>
    static void finish(Self& self, asio::error_code ec, std::size_t n) {
      if constexpr (kind == OpKind::wait) self.complete(ec);
      else self.complete(ec, n);
    }
  };

  MemorySocket(std::shared_ptr<Shared> shared, int side) : shared_(std::move(shared)), side_(side) {}

  End& me() const noexcept { return shared_->ends[side_]; }
  Pipe& in() const noexcept { return shared_->pipes[1 - side_]; }
  Pipe& out() const noexcept { return shared_->pipes[side_]; }

  std::shared_ptr<Shared> shared_;
  int side_ = 0;
};

namespace detail {
// A MemorySocket operation is a composed operation parked on a timer: the reader's slot is larger.
template <>
inline constexpr std::size_t operation_slot_size<MemorySocket> = 320;
}  // namespace detail

}  // namespace wireframe
