#include "explore/harness.hpp"

#include <array>
#include <cstdlib>
#include <string_view>

namespace wireframe::explore {

Parsed parse_frames(std::span<const std::byte> bytes) {
  const LengthDelimitedCodec codec;
  Parsed out;
  while (!bytes.empty()) {
    const DecodeResult r = codec.decode(bytes);
    Envelope e;
    if (r.status != DecodeStatus::frame || e.decode_from(r.frame)) {
      out.whole = false;
      break;
    }
    out.frames.push_back(std::move(e));
    bytes = bytes.subspan(r.consumed);
  }
  return out;
}

void append_frame(std::vector<std::byte>& wire, const Envelope& e) {
  const std::size_t at = wire.size();
  const auto n = static_cast<std::uint32_t>(e.encoded_size());
  wire.resize(at + 4 + n);
  for (std::size_t i = 0; i < 4; ++i) wire[at + i] = static_cast<std::byte>(n >> (24 - 8 * i));
  e.encode_to(std::span(wire).subspan(at + 4));
}

asio::awaitable<void> read_all(MemorySocket& socket, Peer& peer, std::size_t chunk, std::optional<std::size_t> stop_after) {
  std::array<std::byte, 256> buf{};
  chunk = std::clamp<std::size_t>(chunk, 1, buf.size());
  for (;;) {
    if (stop_after && peer.received.size() >= *stop_after) break;
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf.data(), chunk), wireframe::detail::use_nothrow);
    peer.received.insert(peer.received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    if (ec) {
      peer.ended_with = ec;
      break;
    }
  }
  if (!stop_after) {  // the server ended: closing now ends its lingering close at once
    asio::error_code ignored;
    socket.close(ignored);
  }
  peer.done = true;
}

asio::awaitable<void> send_all(MemorySocket& socket, std::vector<std::byte> wire, bool half_close) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(wire), wireframe::detail::use_nothrow);
  (void)n;
  if (!ec && half_close) {
    asio::error_code ignored;
    socket.shutdown(asio::socket_base::shutdown_send, ignored);
  }
}

std::uint64_t tag_of(const Envelope& pushed) {
  return std::strtoull(std::string(pushed.payload_text()).c_str(), nullptr, 10);
}

void Ledger::check(std::vector<std::string>& problems) const {
  for (const auto& [tag, fates] : fates_) {
    const auto count = [&](Fate f) { return std::count(fates.begin(), fates.end(), f); };
    const auto terminal = count(Fate::handed_back) + count(Fate::dead_lettered) + count(Fate::delivered);
    const bool accepted = count(Fate::accepted) > 0;
    if (count(Fate::attempted) != 1) problems.push_back(fmt::format("frame {} was never pushed", tag));
    if (terminal == 0) problems.push_back(fmt::format("frame {} was lost: not delivered, handed back or dead-lettered", tag));
    if (terminal > 1) problems.push_back(fmt::format("frame {} ended up in {} places", tag, terminal));
    if (accepted && count(Fate::handed_back) > 0) problems.push_back(fmt::format("frame {} was accepted and handed back", tag));
    if (!accepted && count(Fate::delivered) > 0) problems.push_back(fmt::format("frame {} was refused yet delivered", tag));
  }
}

bool documented(const std::error_code& ec) {
  return !ec || ec.category() == wireframe_category() || ec.category() == fragment_category() ||
         ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

asio::awaitable<void> produce(PushHandle<Envelope> handle, PushPriority priority, std::uint64_t tag_base,
                              std::size_t count, std::uint64_t seed, Ledger& ledger, bool& done) {
  std::mt19937_64 rng(seed);
  const std::uint32_t id = priority == PushPriority::high ? high_push_id : low_push_id;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t tag = tag_base + i;
    Envelope frame(id, 0, std::to_string(tag));
    ledger.record(tag, Ledger::Fate::attempted);
    const auto call = static_cast<PushCall>(rng() % 4);
    switch (call) {
      case PushCall::push: {  // refused: the frame is in the dead letter queue
        const std::error_code ec = co_await handle.push(std::move(frame), priority);
        if (!ec) ledger.record(tag, Ledger::Fate::accepted);
        break;
      }
      case PushCall::try_push:
      case PushCall::policy_return: {  // refused: the frame comes back
        auto result = rng() % 2 ? handle.try_push(std::move(frame), priority)
                                : handle.push_with_policy(std::move(frame), priority, PushPolicy::return_error_if_full);
        if (result.ok()) {
          ledger.record(tag, Ledger::Fate::accepted);
        } else if (auto back = result.take_frame(); back && tag_of(*back) == tag) {
          ledger.record(tag, Ledger::Fate::handed_back);
        }
        break;
      }
      case PushCall::policy_dead_letter: {  // a full queue or a closed connection: dead-lettered
        auto result = handle.push_with_policy(std::move(frame), priority, PushPolicy::drop_to_dlq);
        if (result.ok()) ledger.record(tag, Ledger::Fate::accepted);
        break;
      }
    }
    co_await yield_n(rng() % 3);
  }
  done = true;
}

bool record_deliveries(const std::vector<Envelope>& frames, Ledger& ledger, std::vector<std::string>& problems) {
  std::map<std::uint64_t, std::uint64_t> last;  // producer (tag / 1000) -> last tag delivered
  bool ok = true;
  for (const Envelope& e : frames) {
    if (e.id() != high_push_id && e.id() != low_push_id) continue;
    const std::uint64_t tag = tag_of(e);
    ledger.record(tag, Ledger::Fate::delivered);
    auto [it, first] = last.try_emplace(tag / 1000, tag);
    if (!first && tag <= it->second) {
      problems.push_back(fmt::format("push {} came after push {} of the same producer", tag, it->second));
      ok = false;
    }
    it->second = tag;
  }
  return ok;
}

std::string describe(std::uint64_t seed, const std::vector<std::string>& problems) {
  std::string out = fmt::format("seed {} (replay: WIREFRAME_EXPLORE_SEED={} WIREFRAME_EXPLORE_SCHEDULES=1):", seed, seed);
  for (const auto& p : problems) out += "\n  " + p;
  return out;
}

namespace {
std::optional<std::uint64_t> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::strtoull(v, nullptr, 10);
}
}  // namespace

std::size_t schedules_to_run(std::size_t fallback) {
  return static_cast<std::size_t>(env_number("WIREFRAME_EXPLORE_SCHEDULES").value_or(fallback));
}

std::uint64_t first_seed() { return env_number("WIREFRAME_EXPLORE_SEED").value_or(1); }

std::size_t deviation_bound(std::size_t fallback) {
  return static_cast<std::size_t>(env_number("WIREFRAME_EXPLORE_DEVIATIONS").value_or(fallback));
}

}  // namespace wireframe::explore
