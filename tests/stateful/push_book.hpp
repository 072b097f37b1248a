#pragma once
// Every push the stateful model makes, with when it started and returned on one clock shared
// by all threads, and what the call said; and the checks of what the peer received against
// that record: exactly once, FIFO per priority, the fairness bound.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <wireframe/wireframe.hpp>

namespace wireframe::stateful {

// Message ids of pushed frames, by priority; a pushed frame's payload is its tag in decimal.
inline constexpr std::uint32_t high_push_id = 100;
inline constexpr std::uint32_t low_push_id = 101;

enum class PushCall { push, try_push, policy_return, policy_dead_letter };
// What a push call said. drop_to_dlq reports success for a frame it dead-lettered because the
// queue was full (push_handle.hpp), so its success is "queued or dead-lettered".
enum class PushOutcome {
  pending,
  accepted,
  queued_or_dead_lettered,
  handed_back,
  dead_lettered_by_call,
  lost_by_call
};

struct PushRecord {
  std::uint64_t tag = 0;
  PushPriority priority = PushPriority::low;
  PushCall call = PushCall::try_push;
  std::uint64_t started = 0;   // the clock before the call
  std::uint64_t finished = 0;  // the clock after it returned
  PushOutcome outcome = PushOutcome::pending;
};

class PushBook {
 public:
  // Records the start of a push and returns its tag.
  std::uint64_t begin(PushPriority priority, PushCall call);
  void end(std::uint64_t tag, PushOutcome outcome);
  [[nodiscard]] std::vector<PushRecord> records() const;
  [[nodiscard]] std::size_t pending() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t clock_ = 0;
  std::vector<PushRecord> records_;  // by tag
};

Envelope push_frame(std::uint64_t tag, PushPriority priority);
std::optional<std::uint64_t> pushed_tag(const Envelope& e);  // nullopt: not a pushed frame

// One non-waiting push (try_push or push_with_policy), recorded.
void push_now(PushHandle<Envelope>& handle, PushBook& book, PushPriority priority, PushCall call);
// One waiting push (`co_await push`) of the frame `book.begin()` gave `tag` (begun by the
// caller, so that the book knows of it before the coroutine first runs), recorded when it returns.
asio::awaitable<void> push_waiting(PushHandle<Envelope> handle, PushBook& book, std::uint64_t tag,
                                   PushPriority priority);

struct PushChecks {
  bool graceful = false;  // the connection ended cleanly: nothing accepted is lost
  // A hard close reset a TCP connection: the reset discarded what the server's kernel had not
  // transmitted yet, so a frame it took (sent, by the library's definition) may never be read.
  bool sent_may_be_lost = false;
  std::optional<std::size_t> max_high_before_low;  // check the fairness bound (unfragmented only)
};

struct DeadLettered {
  std::uint64_t tag = 0;
  std::error_code reason;
};

// Checks every pushed frame against what the peer received (`received`, in order) and what the
// dead letter queue holds. Appends violations to `problems`.
void check_pushes(const std::vector<PushRecord>& records, const std::vector<Envelope>& received,
                  const std::vector<DeadLettered>& dead_lettered, const PushChecks& how,
                  std::vector<std::string>& problems);

}  // namespace wireframe::stateful
