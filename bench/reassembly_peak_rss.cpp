// Real memory, not accounted bytes: the peak resident set (RSS) of the two buffers a peer makes
// grow, compared with the budget that is supposed to bound them.
//
//   reassembly    a 64 MiB message WITHOUT a declared total (LenFlag32K, 32 767-byte fragments,
//                 the largest it allows) into a Reassembler with max_message_size =
//                 max_buffered_bytes = 64 MiB. The buffer grows geometrically from the first
//                 fragment to 64 MiB. Budget: max_buffered_bytes.
//   read_buffer   a connection's read buffer (ByteBuffer capped, as ConnectionActor caps it, at
//                 max_frame_length + codec overhead + read chunk: 8 MiB + 4 + 16 KiB by default)
//                 receiving one maximum-length frame in 16 KiB reads. Budget: that cap.
//
// Each scenario runs in a child process of its own (fork), so that neither the other scenario
// nor memory the allocator kept from it can count. The child resets its peak (VmHWM, via
// /proc/self/clear_refs "5") just before the scenario and reports VmHWM afterwards minus VmRSS
// before: what the scenario added at its worst moment, in pages really touched.
//
// Usage: reassembly_peak_rss [--check] [reassembly|read_buffer]...   (no scenario: both)
//   --check   exit 1 when a peak exceeds its budget + slack: 8 MiB for the reassembly, 3 MiB for
//             the read buffer (the thread's BlockPool keeps the small blocks it outgrew, 512 KiB,
//             and with transparent huge pages "always" a partly used 2 MiB page counts whole).
//             Both are less than one extra copy of the last growth step (32 MiB, 4 MiB).
//             ctest runs it like that (bench/CMakeLists.txt), in non-sanitizer builds only.
// Linux only (/proc). Build: cmake --build --preset release --target reassembly_peak_rss

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <wireframe/app/settings.hpp>
#include <wireframe/buffer/byte_buffer.hpp>
#include <wireframe/codec/length_delimited.hpp>
#include <wireframe/fragment/len_flag_32k.hpp>
#include <wireframe/fragment/reassembler.hpp>

using namespace wireframe;

namespace {

constexpr std::size_t mib = 1024 * 1024;

// A "VmXXX:  1234 kB" line of /proc/self/status, in bytes; 0 if absent.
std::size_t status_bytes(std::string_view key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() && line[key.size()] == ':') {
      return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

// Sets VmHWM back to the current RSS (Linux >= 4.0). False where that is not allowed: the
// baseline is then the old peak, which can only understate the increase.
bool reset_peak() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

struct Outcome {
  std::size_t budget = 0;
  std::size_t slack = 0;
  std::size_t peak = 0;  // VmHWM increase
  bool ok = true;        // the scenario itself did what it should
};

// Wraps a scenario: baseline, run, peak.
template <class F>
Outcome measure(F scenario) {
  const bool reset = reset_peak();
  const std::size_t before = reset ? status_bytes("VmRSS") : status_bytes("VmHWM");
  Outcome o = scenario();
  const std::size_t after = status_bytes("VmHWM");
  o.peak = after > before ? after - before : 0;
  if (!reset) std::printf("  (could not reset VmHWM: the baseline is the earlier peak)\n");
  return o;
}

Outcome reassembly() {
  constexpr std::size_t message = 64 * mib;
  ReassemblyLimits limits;
  limits.max_message_size = message;
  limits.max_buffered_bytes = message;
  const LenFlag32K strategy;
  Reassembler<LenFlag32K> r(strategy, limits);
  const std::size_t cap = strategy.max_fragment_payload();
  std::vector<std::byte> frame(LenFlag32K::header_length + cap);  // one frame, reused
  const auto now = std::chrono::steady_clock::now();
  Outcome o{limits.max_buffered_bytes, 8 * mib};
  std::size_t sent = 0;
  std::size_t most_buffered = 0;
  for (std::size_t k = 0; sent < message; ++k) {
    FragmentMeta meta;
    meta.payload_length = std::min(cap, message - sent);
    meta.is_final = sent + meta.payload_length == message;
    const int logical = 0;
    (void)strategy.encode_header(meta, logical, frame);
    std::memset(frame.data() + LenFlag32K::header_length, static_cast<int>(k & 0xff), meta.payload_length);
    const auto res = r.feed(std::span(frame).first(LenFlag32K::header_length + meta.payload_length), now);
    sent += meta.payload_length;
    most_buffered = std::max(most_buffered, r.buffered_bytes());
    if (res.status == ReassemblyStatus::complete) {
      // Spot-check the content: fragment j starts with byte j.
      for (std::size_t j = 0; j * cap < res.message.size(); j += 97) {
        o.ok = o.ok && res.message[j * cap] == static_cast<std::byte>(j & 0xff);
      }
      o.ok = o.ok && meta.is_final && res.message.size() == message;
    } else if (res.status != ReassemblyStatus::need_more || meta.is_final) {
      o.ok = false;
      break;
    }
  }
  std::printf("  most buffered_bytes()           %10zu (%.1f MiB)\n", most_buffered,
              static_cast<double>(most_buffered) / mib);
  o.ok = o.ok && most_buffered <= limits.max_buffered_bytes;
  return o;
}

Outcome read_buffer() {
  const LengthDelimitedCodec codec;
  const std::size_t chunk = ConnectionSettings{}.read_chunk_size;  // the default
  // As ConnectionActor sizes its read buffer.
  ByteBuffer buf(saturating_add(saturating_add(codec.max_frame_length(), codec.max_overhead()), chunk));
  const std::size_t frame = codec.max_overhead() + codec.max_frame_length();
  Outcome o{buf.max_capacity(), 3 * mib};
  std::byte k{0};
  while (buf.size() < frame) {
    const auto space = buf.prepare(chunk);
    if (space.size() != chunk) {
      o.ok = false;
      break;
    }
    const std::size_t n = std::min(chunk, frame - buf.size());
    std::memset(space.data(), static_cast<int>(k), n);
    buf.commit(n);
    k = static_cast<std::byte>(static_cast<unsigned>(k) + 1);
  }
  const auto bytes = buf.readable();
  for (std::size_t i = 0; i < bytes.size(); i += 97 * chunk) {
    o.ok = o.ok && bytes[i] == static_cast<std::byte>((i / chunk) & 0xff);
  }
  std::printf("  capacity()                      %10zu (%.1f MiB)\n", buf.capacity(),
              static_cast<double>(buf.capacity()) / mib);
  return o;
}

// Runs scenario `name` in a child process; true when it passed (and, with `check`, stayed
// within budget + slack).
bool run_child(std::string_view name, bool check) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    return false;
  }
  if (pid == 0) {
    std::printf("%.*s\n", static_cast<int>(name.size()), name.data());
    const Outcome o = measure(name == "reassembly" ? reassembly : read_buffer);
    const double over = (static_cast<double>(o.peak) - static_cast<double>(o.budget)) / mib;
    std::printf("  budget                          %10zu (%.1f MiB)\n", o.budget,
                static_cast<double>(o.budget) / mib);
    std::printf("  peak RSS increase (VmHWM)       %10zu (%.1f MiB, %+.1f MiB vs budget)\n", o.peak,
                static_cast<double>(o.peak) / mib, over);
    bool pass = o.ok;
    if (!o.ok) std::printf("  FAILED: the scenario did not reassemble/receive correctly\n");
    if (check && o.peak > o.budget + o.slack) {
      std::printf("  FAILED: peak above budget + %.0f MiB slack\n", static_cast<double>(o.slack) / mib);
      pass = false;
    }
    std::fflush(stdout);
    _exit(pass ? 0 : 1);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool check = false;
  std::vector<std::string_view> names;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--check") {
      check = true;
    } else if (a == "reassembly" || a == "read_buffer") {
      names.push_back(a);
    } else {
      std::fprintf(stderr, "usage: %s [--check] [reassembly|read_buffer]...\n", argv[0]);
      return 2;
    }
  }
  if (names.empty()) names = {"reassembly", "read_buffer"};
  bool pass = true;
  for (const auto name : names) pass = run_child(name, check) && pass;
  return pass ? 0 : 1;
}
