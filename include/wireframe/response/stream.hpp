#pragma once
// Stream<F, E>: a multi-frame response written imperatively, the C++ counterpart of Rust's
// async-stream. The body is a coroutine that `co_yield`s frames and may `co_await` any
// asio::awaitable (timers, channels, sockets, other coroutines):
//
//   Stream<Envelope> countdown(int n) {
//     asio::steady_timer t(co_await asio::this_coro::executor);
//     for (int i = n; i > 0; --i) {
//       t.expires_after(10ms);
//       co_await t.async_wait(asio::use_awaitable);
//       co_yield Envelope::of(2, i);
//     }
//   }
//
// `co_yield WireframeError<E>` ends the stream with that error; an exception escaping the body
// ends it with errc::handler_failed (the exception is kept for the log). Either way the actor
// keeps the connection (see the app's error policy).
//
// The stream is lazy: nothing runs until the connection starts it (when the handler has
// returned it), and it produces one frame at a time: after a co_yield the body stays suspended
// until the writer has taken the frame. That is the back-pressure: a slow peer slows the
// generator down.
//
// Consumer side (the actor; single-threaded): start(), poll(), take(). Not for user code.

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "wireframe/detail/asio.hpp"
#include "wireframe/error/wireframe_error.hpp"

namespace wireframe {

template <class F, class E = NoProtocolError>
class Stream {
 public:
  enum class State { pending, item, done, failed };

  // Shared with in-flight awaits: lets a destroyed stream cancel its pending operation and makes
  // that operation's late completion a no-op instead of resuming a destroyed frame.
  struct Guard {
    bool alive = true;
    asio::cancellation_signal cancel;
  };

  struct promise_type {
    // Not an aggregate on purpose: C++20 constructs a coroutine's promise from the coroutine's
    // parameters when it can, and an aggregate would take a stream's first argument (say, the
    // request) as its first member, queuing it as a frame.
    promise_type() noexcept = default;

    std::optional<F> item;
    std::optional<WireframeError<E>> error;
    std::exception_ptr exception;
    bool finished = false;
    bool awaiting = false;
    asio::any_io_executor executor;
    void (*notify)(void*) = nullptr;  // rings the consumer's doorbell; no allocation
    void* notify_arg = nullptr;
    std::shared_ptr<Guard> guard;

    Stream get_return_object() { return Stream(handle::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }

    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        h.promise().finished = true;
        h.promise().ring();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }

    template <class U>
      requires std::convertible_to<U&&, F>
    std::suspend_always yield_value(U&& frame) {
      item.emplace(std::forward<U>(frame));
      ring();
      return {};
    }

    // Ends the stream with an error; the consumer never resumes the body again.
    std::suspend_always yield_value(WireframeError<E> err) {
      error.emplace(std::move(err));
      finished = true;
      ring();
      return {};
    }

    void return_void() noexcept {}

    void unhandled_exception() noexcept {
      exception = std::current_exception();
      error.emplace(WireframeError<E>::io(make_error_code(errc::handler_failed)));
    }

    template <class T, class Ex>
    auto await_transform(asio::awaitable<T, Ex> aw) {
      return AsioAwaiter<T, Ex>{this, std::move(aw)};
    }

    // `co_await asio::this_coro::executor` inside a stream gives the connection's executor.
    auto await_transform(asio::this_coro::executor_t) noexcept {
      struct Ready {
        asio::any_io_executor ex;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        asio::any_io_executor await_resume() const noexcept { return ex; }
      };
      return Ready{executor};
    }

    void ring() const {
      if (notify != nullptr) notify(notify_arg);
    }
  };

  using handle = std::coroutine_handle<promise_type>;

  Stream() = default;
  Stream(Stream&& other) noexcept
      : h_(std::exchange(other.h_, {})), failed_(std::move(other.failed_)) {}
  Stream& operator=(Stream&& other) noexcept {
    if (this != &other) {
      destroy();
      h_ = std::exchange(other.h_, {});
      failed_ = std::move(other.failed_);
    }
    return *this;
  }
  ~Stream() { destroy(); }

  // A stream that fails at once without running anything (Response::error builds on it).
  static Stream failed(WireframeError<E> err) {
    Stream s;
    s.failed_.emplace(std::move(err));
    return s;
  }

  // --- consumer side -------------------------------------------------------------------------

  // Runs the body up to its first suspension. `notify(arg)` is called (on this executor) each
  // time the stream makes progress the consumer could not see otherwise: a frame was yielded,
  // or the stream finished.
  void start(asio::any_io_executor ex, void (*notify)(void*), void* arg) {
    if (!h_) return;
    auto& p = h_.promise();
    p.executor = std::move(ex);
    p.notify = notify;
    p.notify_arg = arg;
    p.guard = std::make_shared<Guard>();
    h_.resume();
  }

  [[nodiscard]] State poll() const noexcept {
    if (!h_) return failed_ ? State::failed : State::done;
    const auto& p = h_.promise();
    if (p.error) return State::failed;
    if (p.item) return State::item;
    return p.finished ? State::done : State::pending;
  }

  // Precondition: poll() == State::item. Takes the frame and lets the body run on to its next
  // suspension point (it runs inline, on the caller's thread).
  F take() {
    auto& p = h_.promise();
    F frame = std::move(*p.item);
    p.item.reset();
    h_.resume();
    return frame;
  }

  // Precondition: poll() == State::failed.
  [[nodiscard]] const WireframeError<E>& error() const {
    return h_ ? *h_.promise().error : *failed_;
  }
  // The exception that ended the body, if one did (for logging).
  [[nodiscard]] std::exception_ptr exception() const noexcept {
    return h_ ? h_.promise().exception : nullptr;
  }

 private:
  template <class T, class Ex>
  struct AsioAwaiter {
    promise_type* promise;
    asio::awaitable<T, Ex> aw;
    std::exception_ptr ex{};
    std::optional<T> value{};

    bool await_ready() const noexcept { return false; }

    void await_suspend(handle h) {
      auto guard = promise->guard;
      promise->awaiting = true;
      auto done = [this, guard, h](std::exception_ptr e, T v) {
        if (!guard->alive) return;  // the stream was destroyed meanwhile
        ex = e;
        if (!e) value.emplace(std::move(v));
        promise->awaiting = false;
        h.resume();
      };
      asio::co_spawn(promise->executor, std::move(aw),
                     asio::bind_cancellation_slot(guard->cancel.slot(), std::move(done)));
    }

    T await_resume() {
      if (ex) std::rethrow_exception(ex);
      return std::move(*value);
    }
  };

  template <class Ex>
  struct AsioAwaiter<void, Ex> {
    promise_type* promise;
    asio::awaitable<void, Ex> aw;
    std::exception_ptr ex{};

    bool await_ready() const noexcept { return false; }

    void await_suspend(handle h) {
      auto guard = promise->guard;
      promise->awaiting = true;
      auto done = [this, guard, h](std::exception_ptr e) {
        if (!guard->alive) return;
        ex = e;
        promise->awaiting = false;
        h.resume();
      };
      asio::co_spawn(promise->executor, std::move(aw),
                     asio::bind_cancellation_slot(guard->cancel.slot(), std::move(done)));
    }

    void await_resume() {
      if (ex) std::rethrow_exception(ex);
    }
  };

  explicit Stream(handle h) noexcept : h_(h) {}

  void destroy() noexcept {
    if (!h_) return;
    auto& p = h_.promise();
    if (p.guard) {
      p.guard->alive = false;
      if (p.awaiting) p.guard->cancel.emit(asio::cancellation_type::terminal);
    }
    h_.destroy();
    h_ = {};
  }

  handle h_{};
  std::optional<WireframeError<E>> failed_;
};

}  // namespace wireframe
