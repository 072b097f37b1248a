#include "stateful/push_book.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <string_view>

#include <fmt/format.h>

namespace wireframe::stateful {

std::uint64_t PushBook::begin(PushPriority priority, PushCall call) {
  const std::lock_guard lock(mutex_);
  PushRecord r;
  r.tag = records_.size();
  r.priority = priority;
  r.call = call;
  r.started = clock_++;
  records_.push_back(r);
  return r.tag;
}

void PushBook::end(std::uint64_t tag, PushOutcome outcome) {
  const std::lock_guard lock(mutex_);
  records_.at(tag).finished = clock_++;
  records_.at(tag).outcome = outcome;
}

std::vector<PushRecord> PushBook::records() const {
  const std::lock_guard lock(mutex_);
  return records_;
}

std::size_t PushBook::pending() const {
  const std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(records_.begin(), records_.end(),
                    [](const PushRecord& r) { return r.outcome == PushOutcome::pending; }));
}

Envelope push_frame(std::uint64_t tag, PushPriority priority) {
  return Envelope(priority == PushPriority::high ? high_push_id : low_push_id, 0,
                  fmt::format("{}", tag));
}

std::optional<std::uint64_t> pushed_tag(const Envelope& e) {
  if (e.id() != high_push_id && e.id() != low_push_id) return std::nullopt;
  const std::string_view text = e.payload_text();
  std::uint64_t tag = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), tag);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return tag;
}

void push_now(PushHandle<Envelope>& handle, PushBook& book, PushPriority priority, PushCall call) {
  const std::uint64_t tag = book.begin(priority, call);
  Envelope frame = push_frame(tag, priority);
  PushResult<Envelope> result = call == PushCall::try_push
                                    ? handle.try_push(std::move(frame), priority)
                                    : handle.push_with_policy(std::move(frame), priority,
                                                              call == PushCall::policy_return
                                                                  ? PushPolicy::return_error_if_full
                                                                  : PushPolicy::drop_to_dlq);
  if (result.ok()) {
    return book.end(tag, call == PushCall::policy_dead_letter ? PushOutcome::queued_or_dead_lettered
                                                              : PushOutcome::accepted);
  }
  if (call == PushCall::policy_dead_letter)
    return book.end(tag, PushOutcome::dead_lettered_by_call);
  const std::optional<Envelope> back = result.take_frame();
  const bool handed_back = back && pushed_tag(*back) == tag;
  book.end(tag, handed_back ? PushOutcome::handed_back : PushOutcome::lost_by_call);
}

asio::awaitable<void> push_waiting(PushHandle<Envelope> handle, PushBook& book, std::uint64_t tag,
                                   PushPriority priority) {
  const std::error_code ec = co_await handle.push(push_frame(tag, priority), priority);
  book.end(tag, ec ? PushOutcome::dead_lettered_by_call : PushOutcome::accepted);
}

namespace {

// The tag of a pushed frame this book recorded (a stray tag is reported by check_exactly_once).
std::optional<std::uint64_t> known_tag(const std::vector<PushRecord>& records, const Envelope& e) {
  const auto tag = pushed_tag(e);
  return tag && *tag < records.size() ? tag : std::nullopt;
}

void check_exactly_once(const std::vector<PushRecord>& records,
                        const std::map<std::uint64_t, int>& delivered,
                        const std::map<std::uint64_t, int>& dead,
                        const std::map<std::uint64_t, int>& closed_on, const PushChecks& how,
                        std::vector<std::string>& problems) {
  const bool graceful = how.graceful;
  // One place at most, or exactly one.
  const auto placed = [&](int n) { return how.sent_may_be_lost ? n <= 1 : n == 1; };
  const auto count = [](const std::map<std::uint64_t, int>& m, std::uint64_t tag) {
    const auto it = m.find(tag);
    return it == m.end() ? 0 : it->second;
  };
  for (const PushRecord& r : records) {
    const int d = count(delivered, r.tag);
    const int q = count(dead, r.tag);
    switch (r.outcome) {
      case PushOutcome::pending:
        problems.push_back(fmt::format("push {}: the call never returned", r.tag));
        break;
      case PushOutcome::accepted:
        if (!placed(d + q)) {
          problems.push_back(fmt::format(
              "push {} ({}, {}): accepted, then delivered {}x and dead-lettered {}x", r.tag,
              r.priority == PushPriority::high ? "high" : "low", static_cast<int>(r.call), d, q));
        }
        if (graceful && q != 0)
          problems.push_back(
              fmt::format("push {}: accepted, then dead-lettered on a clean end", r.tag));
        break;
      case PushOutcome::queued_or_dead_lettered:  // dead-lettered by the call (full) or queued
        if (!placed(d + q))
          problems.push_back(fmt::format(
              "push {}: queued or dead-lettered, then delivered {}x and dead-lettered {}x", r.tag,
              d, q));
        if (graceful && count(closed_on, r.tag) != 0) {
          problems.push_back(fmt::format(
              "push {}: queued, then dead-lettered by the close on a clean end", r.tag));
        }
        break;
      case PushOutcome::handed_back:
        if (d + q != 0)
          problems.push_back(fmt::format(
              "push {}: handed back, yet delivered {}x, dead-lettered {}x", r.tag, d, q));
        break;
      case PushOutcome::dead_lettered_by_call:
        if (d != 0 || q != 1)
          problems.push_back(fmt::format(
              "push {}: refused to the DLQ, yet delivered {}x, dead-lettered {}x", r.tag, d, q));
        break;
      case PushOutcome::lost_by_call:
        problems.push_back(
            fmt::format("push {}: refused, neither handed back nor dead-lettered", r.tag));
        break;
    }
  }
  for (const auto& [tag, n] : delivered) {
    if (tag >= records.size())
      problems.push_back(fmt::format("a push {} that was never made was delivered", tag));
  }
}

// Per priority: a frame whose push returned before another's began is delivered first.
void check_fifo(const std::vector<PushRecord>& records, const std::vector<std::uint64_t>& order,
                std::vector<std::string>& problems) {
  for (const PushPriority p : {PushPriority::high, PushPriority::low}) {
    const PushRecord* latest_start = nullptr;  // the delivered frame of p that started last so far
    for (const std::uint64_t tag : order) {
      const PushRecord& r = records[tag];
      if (r.priority != p) continue;
      if (latest_start && r.finished < latest_start->started) {
        problems.push_back(
            fmt::format("push {} was delivered after push {}, which began after it had returned",
                        r.tag, latest_start->tag));
      }
      if (!latest_start || r.started > latest_start->started) latest_start = &r;
    }
  }
}

// The fairness bound n: while a low frame waits, at most n high frames go out in a row. In the
// output, n + 1 consecutive high frames (nothing between them) break it if a low frame that is
// delivered after them was already queued (its push had returned) before the first of them was
// pushed: it waited through all n + 1 selections.
void check_fairness(const std::vector<PushRecord>& records, const std::vector<Envelope>& received,
                    std::size_t n, std::vector<std::string>& problems) {
  std::vector<std::optional<std::uint64_t>> next_low(received.size() + 1);
  for (std::size_t i = received.size(); i-- > 0;) {
    const auto tag = known_tag(records, received[i]);
    next_low[i] = tag && records[*tag].priority == PushPriority::low ? tag : next_low[i + 1];
  }
  std::vector<std::uint64_t> run;
  for (std::size_t i = 0; i <= received.size(); ++i) {
    const auto tag = i < received.size() ? known_tag(records, received[i]) : std::nullopt;
    if (tag && records[*tag].priority == PushPriority::high) {
      run.push_back(*tag);
      continue;
    }
    if (run.size() > n && next_low[i]) {
      const PushRecord& low = records[*next_low[i]];
      for (std::size_t a = 0; a + n < run.size(); ++a) {
        if (low.finished < records[run[a]].started) {
          problems.push_back(fmt::format(
              "low push {} waited while {} high pushes went out in a row from push {} (bound {})",
              low.tag, run.size() - a, run[a], n));
          break;
        }
      }
    }
    run.clear();
  }
}

}  // namespace

void check_pushes(const std::vector<PushRecord>& records, const std::vector<Envelope>& received,
                  const std::vector<DeadLettered>& dead_lettered, const PushChecks& how,
                  std::vector<std::string>& problems) {
  std::map<std::uint64_t, int> delivered;
  std::map<std::uint64_t, int> dead;
  std::map<std::uint64_t, int> closed_on;  // dead-lettered because the connection closed
  std::vector<std::uint64_t> order;
  for (const Envelope& e : received) {
    if (const auto tag = pushed_tag(e)) {
      ++delivered[*tag];
      if (*tag < records.size()) order.push_back(*tag);
    }
  }
  for (const DeadLettered& d : dead_lettered) {
    ++dead[d.tag];
    if (d.reason == errc::connection_closed) ++closed_on[d.tag];
  }
  check_exactly_once(records, delivered, dead, closed_on, how, problems);
  check_fifo(records, order, problems);
  if (how.max_high_before_low)
    check_fairness(records, received, *how.max_high_before_low, problems);
}

}  // namespace wireframe::stateful
