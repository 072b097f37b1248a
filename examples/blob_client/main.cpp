// blob_client: exercises blob_server (docs/blob-server-protocol.md). Uploads --count random blobs
// of --size bytes (PUT), downloads each back (GET) and checks size, checksum (FNV-1a 64, its own
// computation against the server's) and every byte; then checks that an unknown name is answered
// with a "not found" error frame, and prints STAT. One line per operation and a summary with the
// throughput. Exits 0 when everything matched, 1 on a mismatch, an error or after 60 s, 2 on bad
// flags.
//
//   blob_client --port N [--host ADDR] [--size BYTES] [--count N] [--seed N]
#include <wireframe/wireframe.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../blob_common/blob_checksum.hpp"
#include "../common/cli.hpp"
#include "../common/endpoint_flags.hpp"
#include "../common/run_bounded.hpp"

using namespace wireframe;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t put_id = 1, get_id = 2, stat_id = 3;

// Must match blob_server: frames of at most 32 KiB, Multiplexed fragments that fill them,
// messages up to 64 MiB.
constexpr std::size_t max_frame_length = 32 * 1024;
constexpr std::size_t fragment_payload = max_frame_length - Multiplexed::max_header_size();  // 32747
constexpr std::size_t max_message_size = 64 * 1024 * 1024;
// --size limit: the PUT message (12-byte envelope header, u16 name length, the name of up to 27
// bytes that this client generates, the blob) must fit in 64 MiB; the server's own limit is
// 64 MiB - 20 (the GET reply).
constexpr std::size_t max_blob_size = max_message_size - 64;
constexpr auto deadline = 60s;

using Clock = std::chrono::steady_clock;

std::uint64_t load_be(std::span<const std::byte> bytes, std::size_t offset, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) value = value << 8 | std::to_integer<std::uint64_t>(bytes[offset + i]);
  return value;
}

// splitmix64: a tiny, well-mixed generator; blob `index` of a run is a function of (seed, index),
// so the client regenerates it to compare instead of keeping every blob in memory.
void fill_random(std::span<std::byte> out, std::uint64_t seed, std::uint64_t index) {
  std::uint64_t state = seed ^ (index * 0xd1b54a32d192ed03ULL);
  for (std::size_t i = 0; i < out.size(); i += 8) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (std::size_t k = 0; k < 8 && i + k < out.size(); ++k, z >>= 8) {
      out[i + k] = static_cast<std::byte>(z & 0xff);
    }
  }
}

// u16 BE name length + name, with `extra` zero bytes reserved behind it.
std::vector<std::byte> with_name(std::string_view name, std::size_t extra = 0) {
  std::vector<std::byte> out(2 + name.size() + extra);
  out[0] = static_cast<std::byte>(name.size() >> 8);
  out[1] = static_cast<std::byte>(name.size() & 0xff);
  std::memcpy(out.data() + 2, name.data(), name.size());
  return out;
}

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
std::string rate(std::uint64_t bytes, Clock::duration d) {
  const double s = seconds(d);
  return s > 0 ? fmt::format("{:.1f} MiB/s", mib(bytes) / s) : std::string("n/a MiB/s");
}

// A reply that is the error frame: its text, for the failure message.
std::string describe(const Envelope& reply) {
  if (reply.id() == error_message_id) return fmt::format("error frame: {}", reply.payload_text());
  return fmt::format("unexpected reply id={} payload={} bytes", reply.id(), reply.payload().size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli("Uploads random blobs to blob_server, downloads them back and checks every byte.",
               "blob_client");
  example::use_conventions(cli);
  example::ConnectFlags connect_flags;
  std::optional<unsigned long long> seed_flag;
  unsigned long long size = 5 * 1024 * 1024, count = 3;
  connect_flags.add_to(cli);
  cli.add_option("--size", size, "size of each blob (the default is 5 MiB)")
      ->type_name("BYTES")
      ->transform(example::decimal(0, max_blob_size));
  cli.add_option("--count", count, "number of blobs")
      ->type_name("N")
      ->transform(example::decimal(1, 10'000));
  cli.add_option("--seed", seed_flag, "seed of the random contents (default: random)")
      ->type_name("N")
      ->transform(example::decimal(0, UINT64_MAX));
  if (const auto status = example::parse_flags(cli, argc, argv)) return *status;
  const std::string& host = connect_flags.host;
  const std::uint16_t port = *connect_flags.port;  // required
  std::cout << std::unitbuf;  // one line at a time, for scripts watching the output

  std::random_device entropy;
  const std::uint64_t seed =
      seed_flag ? *seed_flag : std::uint64_t{entropy()} << 32 | std::uint64_t{entropy()};
  asio::io_context io;
  std::optional<std::string> failure;  // set on the first problem; stays empty on success
  bool finished = false;

  auto session = [&]() -> asio::awaitable<void> {
    LengthDelimitedCodec codec(LengthDelimitedCodec::Options{
        .prefix_width = 4, .endian = Endian::big, .max_frame_length = max_frame_length});
    ReassemblyLimits limits;
    limits.max_message_size = max_message_size;
    limits.max_buffered_bytes = max_message_size;
    limits.reassembly_timeout = std::chrono::seconds(30);
    limits.max_partials = 4;
    WireframeClient<> client(io.get_executor(), codec);
    client.with_fragmentation(Multiplexed(fragment_payload), limits);

    const auto connect_error = co_await client.connect(host, port);
    if (connect_error) {
      failure = fmt::format("cannot connect to {}:{}: {}", host, port, connect_error.message());
      co_return;
    }
    std::cout << fmt::format("connected to {}:{}: {} blob(s) of {} bytes, seed {}\n", host, port,
                             count, size, seed);

    std::vector<std::string> names;
    std::vector<std::uint64_t> checksums;
    Clock::duration put_time{}, get_time{};

    // Upload every blob. The PUT payload is built in place: name header, then the random bytes.
    for (std::uint64_t i = 0; i < count; ++i) {
      names.push_back(fmt::format("blob-{:016x}-{}", seed, i + 1));
      std::vector<std::byte> payload = with_name(names.back(), size);
      const auto blob = std::span<std::byte>(payload).subspan(2 + names.back().size());
      fill_random(blob, seed, i);
      checksums.push_back(blob::fnv1a64(blob));

      const auto start = Clock::now();
      auto [ec, reply] = co_await client.call(Envelope(put_id, 0, std::move(payload)));
      const auto took = Clock::now() - start;
      if (ec) {
        failure = fmt::format("PUT {}: {}", names.back(), ec.message());
        co_return;
      }
      if (reply.id() != put_id || reply.payload().size() != 16) {
        failure = fmt::format("PUT {}: {}", names.back(), describe(reply));
        co_return;
      }
      const std::uint64_t stored_size = load_be(reply.payload(), 0, 8);
      const std::uint64_t stored_checksum = load_be(reply.payload(), 8, 8);
      if (stored_size != size || stored_checksum != checksums.back()) {
        failure = fmt::format("PUT {}: server stored {} bytes checksum {:#018x}, sent {} bytes "
                              "checksum {:#018x}", names.back(), stored_size, stored_checksum,
                              size, checksums.back());
        co_return;
      }
      put_time += took;
      std::cout << fmt::format("PUT {} {} bytes checksum {:#018x}: {:.1f} ms, {}\n", names.back(),
                               size, checksums.back(), seconds(took) * 1000, rate(size, took));
    }

    // Download each back and compare with what was sent, byte for byte.
    std::vector<std::byte> expected(size);
    for (std::uint64_t i = 0; i < count; ++i) {
      const auto start = Clock::now();
      auto [ec, reply] = co_await client.call(Envelope(get_id, 0, with_name(names[i])));
      const auto took = Clock::now() - start;
      if (ec) {
        failure = fmt::format("GET {}: {}", names[i], ec.message());
        co_return;
      }
      if (reply.id() != get_id || reply.payload().size() < 8) {
        failure = fmt::format("GET {}: {}", names[i], describe(reply));
        co_return;
      }
      const auto blob = reply.payload().subspan(8);
      const std::uint64_t sent_checksum = load_be(reply.payload(), 0, 8);
      const std::uint64_t computed = blob::fnv1a64(blob);
      fill_random(expected, seed, i);
      if (blob.size() != size) {
        failure = fmt::format("GET {}: {} bytes, expected {}", names[i], blob.size(), size);
      } else if (sent_checksum != checksums[i] || computed != checksums[i]) {
        failure = fmt::format("GET {}: checksum in reply {:#018x}, of the bytes {:#018x}, "
                              "expected {:#018x}", names[i], sent_checksum, computed, checksums[i]);
      } else if (size > 0 && std::memcmp(blob.data(), expected.data(), size) != 0) {
        const auto diff = std::mismatch(blob.begin(), blob.end(), expected.begin()).first;
        failure = fmt::format("GET {}: bytes differ from offset {}", names[i], diff - blob.begin());
      }
      if (failure) co_return;
      get_time += took;
      std::cout << fmt::format("GET {} {} bytes checksum {:#018x}: {:.1f} ms, {}, ok\n", names[i],
                               size, computed, seconds(took) * 1000, rate(size, took));
    }

    // An unknown name must be refused with the error frame, text "not found: NAME".
    {
      const std::string missing = fmt::format("missing-{:016x}", seed);
      auto [ec, reply] = co_await client.call(Envelope(get_id, 0, with_name(missing)));
      if (ec) {
        failure = fmt::format("GET {}: {}", missing, ec.message());
        co_return;
      }
      if (reply.id() != error_message_id || !reply.payload_text().starts_with("not found")) {
        failure = fmt::format("GET {} (unknown name): expected a 'not found' error frame, got {}",
                              missing, describe(reply));
        co_return;
      }
      std::cout << fmt::format("GET {}: error frame '{}', as expected\n", missing,
                               reply.payload_text());
    }
    {
      auto [ec, reply] = co_await client.call(Envelope(stat_id, 0));
      if (ec || reply.id() != stat_id || reply.payload().size() != 16) {
        failure = fmt::format("STAT: {}", ec ? ec.message() : describe(reply));
        co_return;
      }
      std::cout << fmt::format("STAT {} blob(s), {} bytes stored\n", load_be(reply.payload(), 0, 8),
                               load_be(reply.payload(), 8, 8));
    }
    client.close();

    const std::uint64_t total = size * count;
    std::cout << fmt::format("ok: {} blob(s) of {} bytes; upload {:.1f} MiB in {:.3f} s ({}), "
                             "download {:.1f} MiB in {:.3f} s ({})\n",
                             count, size, mib(total), seconds(put_time), rate(total, put_time),
                             mib(total), seconds(get_time), rate(total, get_time));
    finished = true;
  };
  // Never hangs: whatever is still pending after the deadline is a failure.
  example::run_bounded(io, std::move(session), deadline, failure);

  if (!failure && !finished) failure = "not done within 60 s";
  if (failure) {
    std::cerr << "blob_client: " << *failure << '\n';
    return 1;
  }
  return 0;
}
