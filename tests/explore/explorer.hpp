#pragma once
// The interleaving explorer: wireframe's counterpart of Rust's loom, for the connection actor.
//
// Everything a scenario runs (the actor's completion handlers and coroutines, push producers,
// the peer, a shutdown) is posted to one Explorer::Executor. Instead of running handlers in
// the order they were posted, the explorer keeps them in a ready set and asks a Schedule which
// one runs next, one at a time. A seeded Schedule explores random interleavings, reproducibly;
// an exhaustive one enumerates every interleaving of a small scenario, depth first.
//
// I/O is in memory (MemorySocket): a socket operation that cannot complete parks on a timer of
// the explorer's io_context, and whatever wakes it (a write, a close) makes its completion
// ready here, through the same executor. The io_context is only polled, between steps, to pass
// such wake-ups on; it runs no scenario code of its own. So a schedule is a pure function of
// the choices: replaying a seed replays the run, step for step. Real time plays no part unless
// a scenario waits for a timer to expire (none of ours do: their timeouts are off or far away).
//
// Thread model: one thread, the test's. That is the point (a schedule is the order of steps),
// and is what the actor itself guarantees: every part of a connection runs on its executor.
// Threads that push from elsewhere are modelled as tasks whose steps interleave with the
// actor's; the lock-free parts under them are tested with real threads under TSan elsewhere.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <wireframe/detail/asio.hpp>

namespace wireframe::explore {

// Which ready handler runs next.
class Schedule {
 public:
  virtual ~Schedule() = default;
  // One of `n` (> 1) ready handlers, by index in the order they became ready.
  virtual std::size_t choose(std::size_t n) = 0;
};

// Random choices from a seed: the same seed, the same run.
class RandomSchedule final : public Schedule {
 public:
  explicit RandomSchedule(std::uint64_t seed) : rng_(seed) {}
  std::size_t choose(std::size_t n) override { return static_cast<std::size_t>(rng_() % n); }

 private:
  std::mt19937_64 rng_;
};

// Every sequence of choices, depth first: run the scenario, then next(), until it says false.
// `max_deviations` bounds how many choices may differ from the first ready handler (the order
// an io_context would run them in), as CHESS bounds preemptions: the schedules grow
// exponentially with the steps, but races that need few deviations from the usual order, most
// of them, are all found with a small bound.
class ExhaustiveSchedule final : public Schedule {
 public:
  explicit ExhaustiveSchedule(std::size_t max_deviations = static_cast<std::size_t>(-1))
      : max_deviations_(max_deviations) {}
  std::size_t choose(std::size_t n) override;
  // Moves to the next unexplored sequence; false when all have been run.
  bool next();
  // A scenario made a different number of handlers ready at the same point in two runs: its
  // runs are not a function of the choices, and exploring it proves nothing.
  [[nodiscard]] bool diverged() const noexcept { return diverged_; }
  [[nodiscard]] std::string trace() const;  // "1/3 0/2 ...": the current sequence

 private:
  struct Choice {
    std::size_t taken;
    std::size_t of;     // handlers ready
    std::size_t limit;  // alternatives to explore: `of`, or 1 when the bound is reached
  };
  std::vector<Choice> path_;
  std::size_t depth_ = 0;
  std::size_t max_deviations_;
  bool diverged_ = false;
};

class Explorer {
 public:
  // A handler the explorer holds until it is chosen (move-only, type-erased).
  class Task {
   public:
    template <class F>
    explicit Task(F&& f) : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}
    void operator()() { impl_->run(); }

   private:
    struct Base {
      virtual ~Base() = default;
      virtual void run() = 0;
    };
    template <class F>
    struct Impl final : Base {
      template <class G>
      explicit Impl(G&& g) : fn(std::forward<G>(g)) {}
      void run() override { fn(); }
      F fn;
    };
    std::unique_ptr<Base> impl_;
  };

  // A standard executor (what asio::any_io_executor wraps): execute() hands the function to
  // the explorer, never runs it inline. Its context is the explorer's io_context, so timers and
  // services work as usual.
  class Executor {
   public:
    explicit Executor(Explorer& e) noexcept : e_(&e) {}
    asio::execution_context& query(asio::execution::context_t) const noexcept { return e_->io_; }
    static constexpr asio::execution::blocking_t query(asio::execution::blocking_t) noexcept {
      return asio::execution::blocking.never;
    }
    Executor require(asio::execution::blocking_t::never_t) const noexcept { return *this; }
    template <class F>
    void execute(F&& f) const {
      if (e_->closing_) {  // the explorer is being destroyed: drop it, as io_context's shutdown does
        [[maybe_unused]] std::decay_t<F> dropped(std::forward<F>(f));
        return;
      }
      e_->ready_.emplace_back(std::forward<F>(f));
    }
    friend bool operator==(const Executor& a, const Executor& b) noexcept { return a.e_ == b.e_; }
    friend bool operator!=(const Executor& a, const Executor& b) noexcept { return a.e_ != b.e_; }

   private:
    Explorer* e_;
  };

  Explorer() = default;
  Explorer(const Explorer&) = delete;
  Explorer& operator=(const Explorer&) = delete;
  // Drops what is still ready without running it (a scenario that ended early), then the
  // io_context with its pending operations; what they post meanwhile is dropped too.
  ~Explorer();

  [[nodiscard]] asio::any_io_executor executor() { return asio::any_io_executor(Executor(*this)); }
  [[nodiscard]] asio::io_context& io() noexcept { return io_; }

  // Runs ready handlers, one at a time, as `schedule` chooses, until none is ready, or
  // `max_steps` ran. Returns the steps run.
  std::size_t run(Schedule& schedule, std::size_t max_steps);
  [[nodiscard]] bool idle() noexcept;  // nothing ready, nothing to pass on from the io_context

 private:
  void pump();  // the io_context's completions (woken operations) into the ready set

  asio::io_context io_;
  std::vector<Task> ready_;
  bool closing_ = false;
};

}  // namespace wireframe::explore
