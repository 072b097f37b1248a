#pragma once
// What the explored scenarios share: one connection actor on a MemorySocket run by an
// Explorer, a peer on the other end, push producers, and a ledger that says where every pushed
// frame ended up. A scenario is a function of (Schedule, seed) that returns what went wrong.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include <wireframe/wireframe.hpp>

#include "explore/explorer.hpp"

namespace wireframe::explore {

using Resp = Response<Envelope>;

// Message ids of what the server sends that is a push, by priority.
inline constexpr std::uint32_t high_push_id = 100;
inline constexpr std::uint32_t low_push_id = 101;

// Yields `n` times: a task that acts "later", by as many steps as the schedule lets others run.
inline asio::awaitable<void> yield_n(std::size_t n) {
  const auto ex = co_await asio::this_coro::executor;
  for (std::size_t i = 0; i < n; ++i) co_await asio::post(ex, asio::use_awaitable);
}

// The frames a byte stream holds, cut by the default codec; `whole` is false when it ends in
// the middle of one or holds something that is not an envelope.
struct Parsed {
  std::vector<Envelope> frames;
  bool whole = true;
};
Parsed parse_frames(std::span<const std::byte> bytes);

// Appends the wire bytes of a default frame.
void append_frame(std::vector<std::byte>& wire, const Envelope& e);

// The peer: reads in `chunk`-byte pieces until EOF or an error, optionally stopping (for good)
// once it has `stop_after` bytes, then closes its end.
struct Peer {
  std::vector<std::byte> received;
  std::error_code ended_with;
  bool done = false;
};
asio::awaitable<void> read_all(MemorySocket& socket, Peer& peer, std::size_t chunk,
                               std::optional<std::size_t> stop_after = std::nullopt);
// Writes `wire`, then half-closes when `half_close` (the peer's clean end).
asio::awaitable<void> send_all(MemorySocket& socket, std::vector<std::byte> wire, bool half_close);

// A pushed frame's tag: its payload, the tag in decimal (the connection sends pushes with
// correlation id 0, so the tag cannot go there).
std::uint64_t tag_of(const Envelope& pushed);

// Where each pushed frame went, by tag.
class Ledger {
 public:
  enum class Fate { attempted, accepted, handed_back, dead_lettered, delivered };
  void record(std::uint64_t tag, Fate fate) { fates_[tag].push_back(fate); }
  // Every frame pushed once and ending up exactly once: delivered, handed back to its caller,
  // or dead-lettered; an accepted frame never handed back, a refused one never delivered.
  // Appends violations.
  void check(std::vector<std::string>& problems) const;

 private:
  std::map<std::uint64_t, std::vector<Fate>> fates_;
};

// The dead letter queue outlives every explorer: its channel's io_context is this one.
struct Survivors {
  asio::io_context dlq_io;
  std::shared_ptr<DeadLetterQueue<Envelope>> dlq = std::make_shared<DeadLetterQueue<Envelope>>(dlq_io.get_executor(), 4096);
  std::shared_ptr<SessionRegistry<Envelope>> registry = std::make_shared<SessionRegistry<Envelope>>();

  void drain_dead_letters(Ledger& ledger) {
    while (auto letter = dlq->try_receive()) ledger.record(tag_of(letter->frame), Ledger::Fate::dead_lettered);
  }
};

// How one connection ended, set by the app's teardown hook.
struct Ending {
  bool ended = false;
  std::error_code reason;
};

// A connection reason the library documents: the peer's clean end (none), one of wireframe's
// codes (a hard close is errc::shutting_down), or a disconnect.
bool documented(const std::error_code& ec);

// How a producer pushes its frames: the three calls, and the policies that lose nothing silently.
enum class PushCall { push, try_push, policy_return, policy_dead_letter };

// Pushes `count` frames of `priority`, tagged tag_base + i, each with a call picked by `rng`,
// yielding between them; records every refusal (handed back or dead-lettered) and acceptance.
asio::awaitable<void> produce(PushHandle<Envelope> handle, PushPriority priority, std::uint64_t tag_base,
                              std::size_t count, std::uint64_t seed, Ledger& ledger, bool& done);

// The pushes the peer received, into the ledger; returns false if one came twice or a
// producer's frames of one priority came out of their order.
bool record_deliveries(const std::vector<Envelope>& frames, Ledger& ledger, std::vector<std::string>& problems);

// "seed 1234: what" lines, for a failure message.
std::string describe(std::uint64_t seed, const std::vector<std::string>& problems);

// Schedules per scenario: WIREFRAME_EXPLORE_SCHEDULES, else `fallback` (CI's share).
std::size_t schedules_to_run(std::size_t fallback);
// The first seed: WIREFRAME_EXPLORE_SEED (to replay one failure), else 1.
std::uint64_t first_seed();
// The exhaustive scenarios' bound on deviations: WIREFRAME_EXPLORE_DEVIATIONS, else `fallback`.
std::size_t deviation_bound(std::size_t fallback);

}  // namespace wireframe::explore
