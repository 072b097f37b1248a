// A stateful property test of one connection (rapidcheck's rc::state): random sequences of
// commands (requests answered by every kind of Response or a fault, pushes of both priorities
// by every call from three threads, a peer that reads fast, slowly or not at all, and a
// graceful shutdown, a hard close or the peer's half-close at any point) run against a real
// connection, and a model predicts what the peer must receive:
//   - every reply with its correlation id and contents, in request order: all of them after a
//     clean end, whole requests' worth after a graceful shutdown, a prefix after a hard close;
//   - every pushed frame delivered, handed back or dead-lettered exactly once, and on a clean
//     end every accepted one delivered (after a hard close that reset a TCP connection, at most
//     once: the peer's kernel drops what it had not read, and the library counts what its
//     kernel took as sent; the memory pipe keeps it all and is checked exactly);
//   - per priority, a frame whose push returned before another's began arrives first;
//   - the fairness bound (unfragmented transport): no low frame waits through more than
//     max_high_before_low high frames in a row;
//   - every message whole and byte-exact, read by the peer's own decoder (wire_oracle.hpp).
// The replies so far are also checked after every command that lets them arrive.
// A failure shrinks to a short command sequence and prints the seed; replay it with
// RC_PARAMS="seed=N" (docs/development.md, "Stateful model").

#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <rapidcheck/state.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "stateful/connection_under_test.hpp"

using namespace wireframe;
using namespace wireframe::stateful;

namespace test_connection_model_cpp {  // this file's names, apart from the other files of a unity build

namespace {

struct ExpectedReply {
  std::uint32_t id = 0;
  std::uint64_t correlation_id = 0;
  std::vector<std::byte> payload;  // not compared for an error frame (its text is the library's)
};

struct Model {
  std::uint64_t next_correlation_id = 1;
  std::vector<ExpectedReply> replies;  // every reply frame the requests so far must get, in order
  std::vector<std::size_t> request_ends{0};  // replies.size() after each request's answer
  ReaderMode reader = ReaderMode::fast;
  EndBy end = EndBy::none;
  bool all_answered = true;  // no request sent while the reader was stopped since it last ran
};

template <class T>
using Cmd = rc::state::Command<Model, ConnectionUnderTest<T>>;

std::vector<std::byte> seeded_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

const char* name_of(RequestKind k) {
  constexpr const char* names[] = {"?", "Single", "Vec", "Stream", "Empty", "throws", "push burst"};
  return names[static_cast<std::size_t>(k)];
}
const char* name_of(ReaderMode m) {
  constexpr const char* names[] = {"reads fast", "reads slowly", "stops reading"};
  return names[static_cast<std::size_t>(m)];
}
const char* name_of(EndBy e) {
  constexpr const char* names[] = {"none", "the peer half-closes", "graceful shutdown",
                                   "hard close"};
  return names[static_cast<std::size_t>(e)];
}
const char* name_of(PushCall c) {
  constexpr const char* names[] = {"push", "try_push", "push_with_policy(return_error_if_full)",
                                   "push_with_policy(drop_to_dlq)"};
  return names[static_cast<std::size_t>(c)];
}

// The frames the model's handlers (routes.hpp) answer `request` with.
std::vector<ExpectedReply> answer_to(const Envelope& request) {
  const std::uint64_t cid = request.correlation_id();
  const auto payload = request.payload();
  const std::size_t count =
      payload.empty() ? 0 : std::to_integer<std::size_t>(payload[0]) % max_frames_per_request;
  std::vector<ExpectedReply> out;
  switch (static_cast<RequestKind>(request.id())) {
    case RequestKind::single:
      out.push_back({request.id(), cid, {payload.begin(), payload.end()}});
      break;
    case RequestKind::vec:
    case RequestKind::stream:
      for (std::size_t i = 0; i < count; ++i) {
        ExpectedReply r{request.id(), cid, {payload.begin(), payload.end()}};
        r.payload[0] = static_cast<std::byte>(i);
        out.push_back(std::move(r));
      }
      break;
    case RequestKind::empty: break;
    case RequestKind::fails: out.push_back({error_message_id, cid, {}}); break;
    case RequestKind::push_burst: out.push_back({request.id(), cid, {}}); break;
  }
  return out;
}

bool matches(const ExpectedReply& want, const Envelope& got) {
  if (want.id != got.id() || want.correlation_id != got.correlation_id()) return false;
  return want.id == error_message_id || std::equal(want.payload.begin(), want.payload.end(),
                                                   got.payload().begin(), got.payload().end());
}

std::vector<Envelope> replies_in(const std::vector<Envelope>& messages) {
  std::vector<Envelope> out;
  for (const Envelope& e : messages) {
    if (!pushed_tag(e)) out.push_back(e);
  }
  return out;
}

// The first reply that differs from the model's, described; nullopt when `got` is a prefix of
// what the model expects.
std::optional<std::string> first_difference(const std::vector<ExpectedReply>& want,
                                            const std::vector<Envelope>& got) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (i >= want.size()) {
      return fmt::format("reply {} (id {}, correlation id {}) was never asked for", i, got[i].id(),
                         got[i].correlation_id());
    }
    if (!matches(want[i], got[i])) {
      return fmt::format(
          "reply {}: expected id {} correlation id {} ({} bytes), got id {} correlation id {} ({} "
          "bytes)",
          i, want[i].id, want[i].correlation_id, want[i].payload.size(), got[i].id(),
          got[i].correlation_id(), got[i].payload().size());
    }
  }
  return std::nullopt;
}

// Fails the case. Printed as well: a failure that depends on timing may not repeat when
// rapidcheck runs the shrunk case again, and then its message would be lost.
[[noreturn]] void fail(const std::string& what) {
  fmt::print(stderr, "stateful model: {}\n", what);
  RC_FAIL(what);
}

// After a command: when the reader runs and every request can be answered, all the replies
// the model expects must arrive, exactly.
template <class T>
void settle(const Model& m, ConnectionUnderTest<T>& sut) {
  if (m.reader == ReaderMode::stopped || m.end != EndBy::none || !m.all_answered) return;
  const bool arrived = sut.wait_for_replies(m.replies.size(), std::chrono::seconds(20));
  const auto got = replies_in(sut.messages());
  const auto diff = first_difference(m.replies, got);
  if (diff) fail("while running: " + *diff);
  if (!arrived)
    fail(fmt::format("{} of {} replies arrived within 20 s", got.size(), m.replies.size()));
}

// A request the peer sends; the model appends the replies it must get.
template <class T>
struct RequestCommand : Cmd<T> {
  virtual Envelope request(std::uint64_t correlation_id) const = 0;

  void checkPreconditions(const Model& m) const override { RC_PRE(m.end == EndBy::none); }
  void apply(Model& m) const override {
    for (auto& r : answer_to(request(m.next_correlation_id))) m.replies.push_back(std::move(r));
    m.request_ends.push_back(m.replies.size());
    ++m.next_correlation_id;
    if (m.reader == ReaderMode::stopped) m.all_answered = false;
  }
  void run(const Model& m, ConnectionUnderTest<T>& sut) const override {
    sut.send(request(m.next_correlation_id));
    settle(this->nextState(m), sut);
  }
};

template <class T>
struct SendRequest : RequestCommand<T> {
  RequestKind kind = *rc::gen::element(RequestKind::single, RequestKind::single, RequestKind::vec,
                                       RequestKind::stream, RequestKind::empty, RequestKind::fails);
  std::size_t size =
      *rc::gen::weightedOneOf<std::size_t>({{8, rc::gen::inRange<std::size_t>(0, 300)},
                                            {3, rc::gen::inRange<std::size_t>(300, 5000)},
                                            {1, rc::gen::inRange<std::size_t>(5000, 100'000)}});
  std::uint32_t seed = *rc::gen::arbitrary<std::uint32_t>();

  Envelope request(std::uint64_t cid) const override {
    return Envelope(static_cast<std::uint32_t>(kind), cid, seeded_bytes(size, seed));
  }
  void show(std::ostream& os) const override {
    os << "request: " << name_of(kind) << ", " << size << " bytes";
  }
};

template <class T>
struct SendPushBurst : RequestCommand<T> {
  std::uint8_t lows = *rc::gen::inRange<std::uint8_t>(0, 7);
  std::uint8_t highs = *rc::gen::inRange<std::uint8_t>(0, 7);
  std::uint8_t seed = *rc::gen::arbitrary<std::uint8_t>();

  Envelope request(std::uint64_t cid) const override {
    return Envelope(static_cast<std::uint32_t>(RequestKind::push_burst), cid,
                    std::vector<std::byte>{std::byte{lows}, std::byte{highs}, std::byte{seed}});
  }
  void show(std::ostream& os) const override {
    os << "request: its handler pushes " << int(lows) << " low, then " << int(highs) << " high";
  }
};

// Pushes from the test thread (not an Asio thread), without waiting.
template <class T>
struct PushNow : Cmd<T> {
  PushPriority priority = *rc::gen::element(PushPriority::high, PushPriority::low);
  PushCall call =
      *rc::gen::element(PushCall::try_push, PushCall::policy_return, PushCall::policy_dead_letter);
  int count = *rc::gen::inRange(1, 7);

  void run(const Model&, ConnectionUnderTest<T>& sut) const override {
    for (int i = 0; i < count; ++i) sut.push_now(priority, call);
  }
  void show(std::ostream& os) const override {
    os << count << "x " << name_of(call) << ", "
       << (priority == PushPriority::high ? "high" : "low");
  }
};

// Waiting pushes (`co_await push`) on the producer thread: they return when there is room, or
// fail (to the DLQ) when the connection closes; the command does not wait for them.
template <class T>
struct PushWaiting : Cmd<T> {
  PushPriority priority = *rc::gen::element(PushPriority::high, PushPriority::low);
  int count = *rc::gen::inRange(1, 4);

  void run(const Model&, ConnectionUnderTest<T>& sut) const override {
    for (int i = 0; i < count; ++i) sut.push_waiting(priority);
  }
  void show(std::ostream& os) const override {
    os << count << "x co_await push, " << (priority == PushPriority::high ? "high" : "low");
  }
};

template <class T>
struct SetReader : Cmd<T> {
  ReaderMode mode = *rc::gen::element(ReaderMode::fast, ReaderMode::slow, ReaderMode::stopped);

  void checkPreconditions(const Model& m) const override { RC_PRE(m.reader != mode); }
  void apply(Model& m) const override {
    m.reader = mode;
    if (mode != ReaderMode::stopped) m.all_answered = true;
  }
  void run(const Model& m, ConnectionUnderTest<T>& sut) const override {
    sut.set_reader(mode);
    settle(this->nextState(m), sut);
  }
  void show(std::ostream& os) const override { os << "the peer " << name_of(mode); }
};

template <class T>
struct End : Cmd<T> {
  EndBy how =
      *rc::gen::element(EndBy::peer_half_close, EndBy::graceful_shutdown, EndBy::hard_close);

  void checkPreconditions(const Model& m) const override { RC_PRE(m.end == EndBy::none); }
  void apply(Model& m) const override { m.end = how; }
  void run(const Model&, ConnectionUnderTest<T>& sut) const override { sut.end(how); }
  void show(std::ostream& os) const override { os << "end: " << name_of(how); }
};

// Every push's record, every dead letter and every message the peer decoded, for a failure
// (WIREFRAME_STATEFUL_VERBOSE=1).
std::string describe_all(const Finished& f) {
  std::string text;
  for (const PushRecord& r : f.pushes) {
    text += fmt::format("  push {}: {} {}, outcome {}, clock {}..{}\n", r.tag,
                        r.priority == PushPriority::high ? "high" : "low", name_of(r.call),
                        static_cast<int>(r.outcome), r.started, r.finished);
  }
  for (const DeadLettered& d : f.dead_lettered)
    text += fmt::format("  dead letter: push {} ({})\n", d.tag, d.reason.message());
  for (const Envelope& e : f.messages) {
    const auto tag = pushed_tag(e);
    text += tag ? fmt::format("  received push {}\n", *tag)
                : fmt::format("  received id {} correlation id {}, {} bytes\n", e.id(),
                              e.correlation_id(), e.payload().size());
  }
  return text;
}

// What the peer received, against the model, once the connection is over.
template <class T>
void check_end(const Model& m, const Finished& f) {
  if (!f.in_time) fail("the connection, its peer or a push did not finish within 30 s");
  if (!f.decode_error.empty())
    fail("the peer could not decode what it received: " + f.decode_error);
  const auto replies = replies_in(f.messages);
  const auto diff = first_difference(m.replies, replies);
  if (diff) fail(*diff);
  switch (m.end) {
    case EndBy::none:
    case EndBy::peer_half_close:  // every request answered, the connection's end is clean
      if (replies.size() != m.replies.size())
        fail(fmt::format("{} of {} replies after a clean end", replies.size(), m.replies.size()));
      if (f.incomplete_bytes != 0)
        fail(fmt::format("{} bytes of a cut message after a clean end", f.incomplete_bytes));
      if (f.reason) fail("a clean end reported " + f.reason.message());
      break;
    case EndBy::graceful_shutdown: {  // the request in flight finished: whole requests only
      const bool whole_requests = std::find(m.request_ends.begin(), m.request_ends.end(),
                                            replies.size()) != m.request_ends.end();
      if (!whole_requests)
        fail(fmt::format("a graceful shutdown cut a request's answer: {} replies", replies.size()));
      if (f.incomplete_bytes != 0)
        fail(
            fmt::format("{} bytes of a cut message after a graceful shutdown", f.incomplete_bytes));
      break;
    }
    case EndBy::hard_close: break;  // a prefix, possibly cut mid-frame
  }
  if (f.reason && f.reason.category() != wireframe_category()) {
    fail("the connection ended for an undocumented reason: " + f.reason.message());
  }
  if (f.dead_letters_lost != 0) fail(fmt::format("the dead letter queue refused {} frames", f.dead_letters_lost));
  std::vector<std::string> problems;
  PushChecks how;
  how.graceful = m.end != EndBy::hard_close;
  // The reset shows in the peer's reads, or in its writes: a write after it takes the socket's
  // pending error, and the reads that follow end with EOF (Linux).
  const bool reset = f.peer_end == asio::error::connection_reset ||
                     f.peer_write_error == asio::error::connection_reset;
  how.sent_may_be_lost = m.end == EndBy::hard_close && reset;
  if (T::framing == Framing::whole) how.max_high_before_low = fairness_bound;
  check_pushes(f.pushes, f.messages, f.dead_lettered, how, problems);
  if (!problems.empty()) {
    std::string text =
        fmt::format("(the peer's reads ended with: {}; its first failed write: {}; the DLQ lost {})\n",
                    f.peer_end.message(), f.peer_write_error.message(), f.dead_letters_lost);
    for (const auto& p : problems) text += p + "\n";
    if (std::getenv("WIREFRAME_STATEFUL_VERBOSE")) text += describe_all(f);
    fail(text);
  }
}

template <class T>
void run_model() {
  const Model initial;
  const auto commands = *rc::gen::scale(
      1.0,
      rc::state::gen::commands(
          initial, rc::state::gen::execOneOfWithArgs<SendRequest<T>, SendRequest<T>, SendRequest<T>,
                                                     SendPushBurst<T>, PushNow<T>, PushNow<T>,
                                                     PushWaiting<T>, SetReader<T>, End<T>>()));
  try {
    ConnectionUnderTest<T> sut;
    if (!sut.registered()) fail("the connection was not in the session registry after its start");
    rc::state::runAll(commands, initial, sut);
    Model final_state = initial;
    rc::state::applyAll(commands, final_state);
    check_end<T>(final_state, sut.finish(final_state.end));
  } catch (...) {  // the commands of this run, in case its shrunk form does not fail again
    std::ostringstream os;
    for (const auto& c : commands) {
      c->show(os);
      os << "; ";
    }
    fmt::print(stderr, "stateful model: ({}) the commands were: {}\n", T::name, os.str());
    throw;
  }
}

}  // namespace

TEST_CASE("stateful: one connection over loopback TCP does what its model predicts", "[stateful]") {
  set_log_level(
      LogLevel::error);  // closes cut pushes off by design, and log so: not what is tested
  rc::prop("loopback, whole frames", [] { run_model<OverLoopback>(); });
  set_log_level(LogLevel::info);
}

TEST_CASE("stateful: one connection over a memory pipe, fragmented, does what its model predicts",
          "[stateful]") {
  set_log_level(LogLevel::error);
  rc::prop("memory pipe, LenFlag32K fragments", [] { run_model<InMemory>(); });
  set_log_level(LogLevel::info);
}

}  // namespace test_connection_model_cpp
