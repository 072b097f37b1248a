// bench_loadgen: closed-loop load generator for echo servers that speak wireframe's default wire
// format (u32 big-endian length prefix; body = u32 BE message id, u64 BE correlation id, payload).
//
// Load mode: C connections, each keeping D requests in flight (pipelined). Every request is
// message id 1 with a correlation id unique in the run and a payload derived from it; every reply
// is checked (length, id 1, correlation id outstanding on that connection, payload byte-identical).
// A mismatch is fatal (exit 1). A failed connection is counted as an error (exit 1 at the end).
// Latency is measured from the moment a request is queued for writing to the moment the read
// that completed its reply returned; it goes into a log-linear histogram (128 sub-buckets per
// power of two: under 1% quantisation error), recorded only during the measured window.
//
//   bench_loadgen --port N [--host ADDR] [--connections C] [--depth D] [--size S]
//                 [--duration SECONDS] [--warmup SECONDS] [--threads N] [--csv] [--csv-header]
//   bench_loadgen --port N --idle C [--hold SECONDS] [--size S]
//
// MB/s is payload bytes of the replies per second (one direction, 10^6 bytes); the human output
// also gives wire bytes (prefix + envelope + payload) in both directions.
//
// --server-pid PID (a server on this machine): its CPU time (utime + stime of all its threads, from
// /proc/PID/stat) over the measured window is reported too, as the share of one core it used and
// as CPU microseconds per reply. On a shared machine, where throughput depends on what else runs,
// CPU per reply is the steadier figure.
//
// Idle mode: opens C connections (at most 64 connecting at a time), sends one request on each and
// waits for its reply (so every connection has been accepted and served), prints
// "holding C idle connections" on stdout, keeps them open and silent for SECONDS, then exits 0.
//
// TLS: --tls-ca FILE makes every connection (both modes) TLS: TLS 1.2 or later, the server's
// certificate verified against that CA and for the host name "localhost" (also sent as SNI);
// --tls-cert FILE --tls-key FILE (PEM) add a client certificate (mutual TLS). The handshake is part
// of the connect, so the connect timeout bounds it. Everything measured is the same as over TCP
// (wire bytes are the wireframe bytes, without TLS records). Needs a build with OpenSSL
// (BENCH_LOADGEN_TLS, set by bench/CMakeLists.txt when OpenSSL::SSL exists).
//
// Every wait is bounded: connect timeout (--connect-timeout, default 10 s), and a watchdog that
// aborts (exit 1) at connect timeout + warmup + duration + 10 s (idle mode: connect timeout + 1 ms
// per connection, 5 ms over TLS, + hold + 10 s).

// Standard headers before Asio's (Asio's aligned-allocation ODR trap).
#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#if BENCH_LOADGEN_TLS
#include <asio/ssl.hpp>
#include <openssl/ssl.h>
#endif

#include <fmt/format.h>

#include "../common/histogram.hpp"

namespace {

using asio::ip::tcp;
using bench::Histogram;
using clock_type = std::chrono::steady_clock;
constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

constexpr std::uint32_t echo_id = 1;
constexpr std::size_t prefix_len = 4;
constexpr std::size_t header_len = 12;  // message id + correlation id
constexpr std::uint32_t max_depth = 65535;
constexpr std::uint32_t max_connections = 65535;
constexpr std::size_t max_payload = 8 * 1024 * 1024 - header_len;  // the default 8 MiB frame cap

constexpr std::string_view usage =
    "usage: bench_loadgen --port N [options]\n"
    "  --host ADDR            server address (default 127.0.0.1)\n"
    "  --port N               server port (required)\n"
    "  --connections C        connections (default 1)\n"
    "  --depth D              requests in flight per connection (default 1)\n"
    "  --size S               payload bytes per request (default 64)\n"
    "  --duration SECONDS     measured time (default 5)\n"
    "  --warmup SECONDS       unmeasured time before it (default 1)\n"
    "  --threads N            client io threads (default 1)\n"
    "  --connect-timeout SEC  per connection (default 10)\n"
    "  --server-pid PID       also report that local process's CPU time per reply\n"
    "  --csv                  print one CSV line instead of the report\n"
    "  --csv-header           print the CSV header line and exit\n"
    "  --idle C               idle mode: open C connections, one echo each, then hold them\n"
    "  --hold SECONDS         idle mode: how long to hold them (default 10)\n"
    "  --tls-ca FILE          TLS: trust this CA (PEM); the server must be 'localhost'\n"
    "  --tls-cert FILE        TLS: client certificate chain (PEM), with --tls-key\n"
    "  --tls-key FILE         TLS: its private key (PEM)\n";

constexpr std::string_view csv_header =
    "connections,depth,size,threads,duration_s,replies,frames_per_s,mb_per_s_payload_one_way,"
    "p50_us,p99_us,p999_us,max_us,errors,server_cpu_cores,server_cpu_us_per_frame";

struct Options {
  std::string host = "127.0.0.1";
  unsigned long port = 0;
  bool port_set = false;
  unsigned long connections = 1;
  unsigned long depth = 1;
  unsigned long size = 64;
  double duration = 5;
  double warmup = 1;
  unsigned long threads = 1;
  double connect_timeout = 10;
  bool csv = false;
  unsigned long idle = 0;
  double hold = 10;
  unsigned long server_pid = 0;
  std::string tls_ca;  // non-empty: TLS
  std::string tls_cert;
  std::string tls_key;
};

[[noreturn]] void fatal(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "bench_loadgen: FATAL: %s\n", message.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

bool parse_uint(std::string_view text, unsigned long max, unsigned long& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out <= max;
}

bool parse_seconds(std::string_view text, double& out) {
  // std::from_chars for double is in libstdc++ 11+.
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && std::isfinite(out) && out >= 0 &&
         out < 1e6;
}

std::chrono::nanoseconds to_ns(double seconds) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::uint64_t fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  return lim.rlim_cur;
}

// CPU seconds (user + system, all threads) used so far by process `pid`; negative if unknown.
double process_cpu_seconds(unsigned long pid) {
  if (pid == 0) return -1;
  const std::string path = fmt::format("/proc/{}/stat", pid);
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return -1;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Fields after the command name (which is in parentheses and may hold spaces): state is field 3,
  // utime field 14, stime field 15.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
  const long ticks = sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(utime + stime) / static_cast<double>(ticks) : -1;
}

// --- bytes -----------------------------------------------------------------------------------

void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

void store_be64(std::uint8_t* p, std::uint64_t v) {
  store_be32(p, static_cast<std::uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<std::uint32_t>(v));
}

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::uint64_t load_be64(const std::uint8_t* p) {
  return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}

// The payload of a request is derived from its correlation id: its first min(S, 8) bytes are the
// id (little-endian), the rest a window of a fixed pseudo-random pattern whose offset depends on
// the id. Building and checking it are a memcpy and a memcmp.
class Payloads {
 public:
  explicit Payloads(std::size_t size) : size_(size), pattern_(size + 256) {
    std::uint64_t x = 0x243F6A8885A308D3ull;
    for (auto& b : pattern_) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b = static_cast<std::uint8_t>(x >> 32);
    }
  }
  [[nodiscard]] std::size_t size() const { return size_; }

  void write(std::uint64_t corr, std::uint8_t* dst) const {
    const std::size_t head = std::min<std::size_t>(size_, 8);
    for (std::size_t i = 0; i < head; ++i) dst[i] = static_cast<std::uint8_t>(corr >> (8 * i));
    if (size_ > head) std::memcpy(dst + head, pattern_.data() + offset(corr) + head, size_ - head);
  }

  [[nodiscard]] bool matches(std::uint64_t corr, const std::uint8_t* p) const {
    const std::size_t head = std::min<std::size_t>(size_, 8);
    for (std::size_t i = 0; i < head; ++i) {
      if (p[i] != static_cast<std::uint8_t>(corr >> (8 * i))) return false;
    }
    return size_ <= head || std::memcmp(p + head, pattern_.data() + offset(corr) + head, size_ - head) == 0;
  }

 private:
  static std::size_t offset(std::uint64_t corr) {
    return static_cast<std::size_t>((corr * 0x9E3779B97F4A7C15ull) >> 56);
  }
  std::size_t size_;
  std::vector<std::uint8_t> pattern_;
};

// Appends one request frame to `out`.
void append_request(std::vector<std::uint8_t>& out, std::uint64_t corr, const Payloads& payloads) {
  const std::size_t body = header_len + payloads.size();
  const std::size_t at = out.size();
  out.resize(at + prefix_len + body);
  std::uint8_t* p = out.data() + at;
  store_be32(p, static_cast<std::uint32_t>(body));
  store_be32(p + 4, echo_id);
  store_be64(p + 8, corr);
  payloads.write(corr, p + prefix_len + header_len);
}

// --- shared run state --------------------------------------------------------------------------

// 0 = warm-up, 1 = measuring, 2 = finished.
std::atomic<int> g_phase{0};
std::atomic<std::uint64_t> g_connected{0};
std::atomic<bool> g_done{false};

struct alignas(64) Worker {
  asio::io_context ctx{1};
  Histogram hist;
  std::uint64_t replies = 0;  // during the measured window
  std::uint64_t errors = 0;
};

std::string endpoint_text(const tcp::endpoint& ep) {
  const auto addr = ep.address().to_string();
  return ep.address().is_v6() ? fmt::format("[{}]:{}", addr, ep.port()) : fmt::format("{}:{}", addr, ep.port());
}

tcp::endpoint resolve(const Options& o) {
  asio::io_context ctx;
  tcp::resolver resolver(ctx);
  asio::error_code ec;
  auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
  if (ec || results.empty()) fatal(fmt::format("cannot resolve {}: {}", o.host, ec.message()));
  return results.begin()->endpoint();
}

// --- streams: tcp::socket, or (--tls-ca) asio::ssl::stream<tcp::socket> ------------------------

template <class Stream>
constexpr bool is_tls = false;

template <class Stream>
Stream make_stream(asio::io_context& ctx);

template <>
tcp::socket make_stream<tcp::socket>(asio::io_context& ctx) {
  return tcp::socket(ctx);
}

#if BENCH_LOADGEN_TLS
using tls_stream = asio::ssl::stream<tcp::socket>;
template <>
constexpr bool is_tls<tls_stream> = true;

constexpr const char* tls_server_name = "localhost";
std::unique_ptr<asio::ssl::context> g_tls;  // made by main when --tls-ca is given

template <>
tls_stream make_stream<tls_stream>(asio::io_context& ctx) {
  return tls_stream(ctx, *g_tls);
}

std::unique_ptr<asio::ssl::context> make_tls_context(const Options& o) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    fatal("cannot set the minimum TLS version");
  }
  asio::error_code ec;
  ctx->load_verify_file(o.tls_ca, ec);
  if (ec) fatal(fmt::format("--tls-ca {}: {}", o.tls_ca, ec.message()));
  ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  if (!ec) ctx->set_verify_callback(asio::ssl::host_name_verification(tls_server_name), ec);
  if (ec) fatal(fmt::format("TLS verification setup: {}", ec.message()));
  if (!o.tls_cert.empty()) {
    ctx->use_certificate_chain_file(o.tls_cert, ec);
    if (ec) fatal(fmt::format("--tls-cert {}: {}", o.tls_cert, ec.message()));
    ctx->use_private_key_file(o.tls_key, asio::ssl::context::pem, ec);
    if (ec) fatal(fmt::format("--tls-key {}: {}", o.tls_key, ec.message()));
  }
  return ctx;
}
#endif

// Connects `stream` to `ep` (and, over TLS, makes the client handshake), closing the socket if
// that takes longer than `timeout`.
template <class Stream>
asio::awaitable<asio::error_code> connect_with_timeout(Stream& stream, tcp::endpoint ep,
                                                       std::chrono::nanoseconds timeout) {
  auto& sock = stream.lowest_layer();
  asio::steady_timer timer(sock.get_executor());
  timer.expires_after(timeout);
  auto timed_out = std::make_shared<bool>(false);
  timer.async_wait([&sock, timed_out](asio::error_code ec) {
    if (!ec) {
      *timed_out = true;
      asio::error_code ignored;
      sock.close(ignored);
    }
  });
  auto [ec] = co_await sock.async_connect(ep, nothrow);
  if (!ec) {
    asio::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
  }
#if BENCH_LOADGEN_TLS
  if constexpr (is_tls<Stream>) {
    if (!ec && SSL_set_tlsext_host_name(stream.native_handle(), tls_server_name) != 1) {
      ec = asio::error::invalid_argument;
    }
    if (!ec) {
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, nothrow);
      ec = hec;
    }
  }
#endif
  timer.cancel();
  if (*timed_out) ec = asio::error::timed_out;
  co_return ec;
}

// --- load mode ---------------------------------------------------------------------------------

template <class Stream>
class Connection {
 public:
  Connection(Worker& w, const Options& o, const Payloads& p, std::uint32_t index)
      : worker_(w),
        opt_(o),
        payloads_(p),
        index_(index),
        sock_(make_stream<Stream>(w.ctx)),
        wake_(w.ctx),
        slots_(o.depth),
        frame_len_(prefix_len + header_len + o.size) {
    pending_.reserve(o.depth * frame_len_);
    writing_.reserve(o.depth * frame_len_);
  }

  static asio::awaitable<void> run(std::shared_ptr<Connection> self, tcp::endpoint ep) {
    const auto ec = co_await connect_with_timeout(self->sock_, ep, to_ns(self->opt_.connect_timeout));
    if (ec) fatal(fmt::format("connection {}: connect to {}: {}", self->index_, endpoint_text(ep), ec.message()));
    g_connected.fetch_add(1, std::memory_order_relaxed);
    const auto now = clock_type::now();
    for (std::uint32_t slot = 0; slot < self->slots_.size(); ++slot) self->issue(slot, now);
    asio::co_spawn(self->sock_.get_executor(), writer(self), asio::detached);
    co_await reader(self);
  }

 private:
  struct Slot {
    std::uint64_t corr = 0;
    clock_type::time_point sent{};
    bool busy = false;
  };

  // Correlation id: connection index (16 bits) | per-connection sequence (32 bits) | slot (16 bits).
  void issue(std::uint32_t slot, clock_type::time_point now) {
    const std::uint64_t corr = (std::uint64_t{index_} << 48) | (std::uint64_t{seq_++} << 16) | slot;
    slots_[slot] = Slot{corr, now, true};
    append_request(pending_, corr, payloads_);
  }

  void kick() {
    if (writer_waiting_ && !pending_.empty()) wake_.cancel();
  }

  void fail(std::string_view what, const asio::error_code& ec) {
    if (dead_) return;
    dead_ = true;
    if (g_phase.load(std::memory_order_relaxed) == 2) return;  // stopping: not an error
    ++worker_.errors;
    std::fprintf(stderr, "bench_loadgen: connection %u: %.*s: %s\n", index_, static_cast<int>(what.size()),
                 what.data(), ec.message().c_str());
    asio::error_code ignored;
    sock_.lowest_layer().close(ignored);
    wake_.cancel();
  }

  static asio::awaitable<void> writer(std::shared_ptr<Connection> self) {
    while (!self->dead_) {
      if (self->pending_.empty()) {
        self->writer_waiting_ = true;
        self->wake_.expires_at(clock_type::time_point::max());
        co_await self->wake_.async_wait(nothrow);  // cancelled = woken
        self->writer_waiting_ = false;
        continue;
      }
      std::swap(self->pending_, self->writing_);
      auto [ec, n] = co_await asio::async_write(self->sock_, asio::buffer(self->writing_), nothrow);
      self->writing_.clear();
      if (ec) {
        self->fail("write", ec);
        co_return;
      }
    }
  }

  static asio::awaitable<void> reader(std::shared_ptr<Connection> self) {
    Connection& c = *self;
    const std::size_t frame_len = c.frame_len_;
    const std::uint32_t body_len = static_cast<std::uint32_t>(frame_len - prefix_len);
    // Always room for at least two whole replies, so a reply never has to wait for a resize.
    std::vector<std::uint8_t> buf(std::max<std::size_t>(64 * 1024, 2 * frame_len));
    std::size_t have = 0;
    while (!c.dead_) {
      auto [ec, n] = co_await c.sock_.async_read_some(asio::buffer(buf.data() + have, buf.size() - have), nothrow);
      if (ec) {
        c.fail("read", ec);
        co_return;
      }
      have += n;
      const auto now = clock_type::now();
      const bool measuring = g_phase.load(std::memory_order_relaxed) == 1;
      std::size_t pos = 0;
      while (have - pos >= prefix_len) {
        const std::uint8_t* f = buf.data() + pos;
        const std::uint32_t len = load_be32(f);
        if (len != body_len) {
          fatal(fmt::format("connection {}: reply body of {} bytes, expected {}", c.index_, len, body_len));
        }
        if (have - pos < frame_len) break;
        const std::uint32_t id = load_be32(f + 4);
        const std::uint64_t corr = load_be64(f + 8);
        if (id != echo_id) fatal(fmt::format("connection {}: reply with message id {}, expected 1", c.index_, id));
        const auto slot = static_cast<std::uint32_t>(corr & 0xFFFF);
        if (slot >= c.slots_.size() || !c.slots_[slot].busy || c.slots_[slot].corr != corr) {
          fatal(fmt::format("connection {}: reply with unknown correlation id {:#x}", c.index_, corr));
        }
        if (!c.payloads_.matches(corr, f + prefix_len + header_len)) {
          fatal(fmt::format("connection {}: payload of correlation id {:#x} differs from the request", c.index_,
                            corr));
        }
        if (measuring) {
          const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.slots_[slot].sent).count();
          c.worker_.hist.record(static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0)));
          ++c.worker_.replies;
        }
        c.slots_[slot].busy = false;
        c.issue(slot, now);
        pos += frame_len;
      }
      if (pos != 0) {
        if (have > pos) std::memmove(buf.data(), buf.data() + pos, have - pos);
        have -= pos;
      }
      c.kick();
    }
  }

  Worker& worker_;
  const Options& opt_;
  const Payloads& payloads_;
  std::uint32_t index_;
  Stream sock_;
  asio::steady_timer wake_;
  std::vector<Slot> slots_;
  std::size_t frame_len_;
  std::uint32_t seq_ = 0;
  std::vector<std::uint8_t> pending_;
  std::vector<std::uint8_t> writing_;
  bool writer_waiting_ = false;
  bool dead_ = false;
};

// Aborts the process if `g_done` is not set within `limit`.
void start_watchdog(std::chrono::nanoseconds limit) {
  std::thread([limit] {
    const auto deadline = clock_type::now() + limit;
    while (clock_type::now() < deadline) {
      if (g_done.load()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!g_done.load()) fatal("overall deadline exceeded (server stalled?)");
  }).detach();
}

void sleep_for_seconds(double s) { std::this_thread::sleep_for(to_ns(s)); }

template <class Stream>
int run_load(const Options& o) {
  if (o.connections + 10 > fd_limit()) {
    fatal(fmt::format("{} connections need more file descriptors than the limit ({})", o.connections, fd_limit()));
  }
  start_watchdog(to_ns(o.connect_timeout + o.warmup + o.duration + 10));
  const tcp::endpoint ep = resolve(o);
  const Payloads payloads(o.size);

  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned long i = 0; i < o.threads; ++i) workers.push_back(std::make_unique<Worker>());
  for (unsigned long i = 0; i < o.connections; ++i) {
    Worker& w = *workers[i % workers.size()];
    auto conn = std::make_shared<Connection<Stream>>(w, o, payloads, static_cast<std::uint32_t>(i));
    asio::co_spawn(w.ctx, Connection<Stream>::run(std::move(conn), ep), asio::detached);
  }
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&ctx = w->ctx] {
      try {
        ctx.run();
      } catch (const std::exception& e) {
        fatal(fmt::format("io thread: {}", e.what()));
      }
    });
  }

  // Every connection up (each is bounded by the connect timeout, so this wait is too).
  while (g_connected.load() < o.connections) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  sleep_for_seconds(o.warmup);
  const double cpu0 = process_cpu_seconds(o.server_pid);
  g_phase.store(1);
  const auto t0 = clock_type::now();
  sleep_for_seconds(o.duration);
  g_phase.store(2);
  const auto t1 = clock_type::now();
  const double cpu1 = process_cpu_seconds(o.server_pid);
  for (auto& w : workers) w->ctx.stop();
  for (auto& t : threads) t.join();
  g_done.store(true);

  Histogram hist;
  std::uint64_t replies = 0, errors = 0;
  for (auto& w : workers) {
    hist.merge(w->hist);
    replies += w->replies;
    errors += w->errors;
  }
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  const double fps = static_cast<double>(replies) / secs;
  const double mbps = fps * static_cast<double>(o.size) / 1e6;
  const double wire_mbps = 2 * fps * static_cast<double>(prefix_len + header_len + o.size) / 1e6;
  const auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  const bool have_cpu = cpu0 >= 0 && cpu1 >= 0;
  const double cpu_cores = have_cpu ? (cpu1 - cpu0) / secs : 0;
  const double cpu_us_per_frame = have_cpu && replies > 0 ? (cpu1 - cpu0) * 1e6 / static_cast<double>(replies) : 0;
  if (o.server_pid != 0 && !have_cpu) {
    std::fprintf(stderr, "bench_loadgen: cannot read /proc/%lu/stat: no server CPU figures\n", o.server_pid);
  }
  if (o.csv) {
    std::printf("%lu,%lu,%lu,%lu,%.3f,%llu,%.1f,%.3f,%.2f,%.2f,%.2f,%.2f,%llu,", o.connections, o.depth, o.size,
                o.threads, secs, static_cast<unsigned long long>(replies), fps, mbps, us(hist.quantile(0.5)),
                us(hist.quantile(0.99)), us(hist.quantile(0.999)), us(hist.max()),
                static_cast<unsigned long long>(errors));
    if (have_cpu) {
      std::printf("%.3f,%.3f\n", cpu_cores, cpu_us_per_frame);
    } else {
      std::printf(",\n");
    }
  } else {
    std::printf("bench_loadgen: %s%s connections=%lu depth=%lu size=%lu threads=%lu warmup=%.1fs duration=%.1fs\n",
                endpoint_text(ep).c_str(), is_tls<Stream> ? " tls" : "", o.connections, o.depth, o.size, o.threads,
                o.warmup, o.duration);
    std::printf("  replies       %llu in %.3f s = %.0f frames/s\n", static_cast<unsigned long long>(replies), secs,
                fps);
    std::printf("  throughput    %.2f MB/s payload one way (%.2f MB/s on the wire, both ways)\n", mbps, wire_mbps);
    std::printf("  latency us    p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", us(hist.quantile(0.5)),
                us(hist.quantile(0.99)), us(hist.quantile(0.999)), us(hist.max()));
    if (have_cpu) {
      std::printf("  server CPU    %.2f cores, %.3f us per reply\n", cpu_cores, cpu_us_per_frame);
    }
    std::printf("  errors        %llu\n", static_cast<unsigned long long>(errors));
  }
  std::fflush(stdout);
  workers.clear();  // destroys the coroutine frames (and their connections) inside each io_context
  return errors == 0 && replies > 0 ? 0 : 1;
}

// --- idle mode -----------------------------------------------------------------------------------

template <class Stream>
asio::awaitable<void> open_idle(std::vector<Stream>& sockets, std::size_t& next, tcp::endpoint ep,
                                const Options& o, const Payloads& payloads) {
  std::vector<std::uint8_t> request;
  std::vector<std::uint8_t> reply(prefix_len + header_len + o.size);
  while (next < sockets.size()) {
    const std::size_t i = next++;
    Stream& sock = sockets[i];
    const auto ec = co_await connect_with_timeout(sock, ep, to_ns(o.connect_timeout));
    if (ec) fatal(fmt::format("idle connection {}: connect to {}: {}", i, endpoint_text(ep), ec.message()));
    const std::uint64_t corr = (std::uint64_t{i} << 16) | 1;
    request.clear();
    append_request(request, corr, payloads);
    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(request), nothrow);
    if (wec) fatal(fmt::format("idle connection {}: write: {}", i, wec.message()));
    auto [rec, rn] = co_await asio::async_read(sock, asio::buffer(reply), nothrow);
    if (rec) fatal(fmt::format("idle connection {}: read: {}", i, rec.message()));
    if (!std::equal(request.begin(), request.end(), reply.begin())) {
      fatal(fmt::format("idle connection {}: the reply differs from the request", i));
    }
  }
}

template <class Stream>
int run_idle(const Options& o) {
  const std::uint64_t limit = fd_limit();
  if (o.idle + 10 > limit) {
    fatal(fmt::format("{} idle connections need more file descriptors than the limit ({})", o.idle, limit));
  }
  const double per_connection = is_tls<Stream> ? 0.005 : 0.001;
  const double setup_budget = o.connect_timeout + per_connection * static_cast<double>(o.idle);
  start_watchdog(to_ns(setup_budget + o.hold + 10));
  const tcp::endpoint ep = resolve(o);
  const Payloads payloads(o.size);

  asio::io_context ctx{1};
  std::vector<Stream> sockets;
  sockets.reserve(o.idle);
  for (unsigned long i = 0; i < o.idle; ++i) sockets.push_back(make_stream<Stream>(ctx));
  std::size_t next = 0;
  const std::size_t parallel = std::min<std::size_t>(o.idle, 64);
  const auto t0 = clock_type::now();
  for (std::size_t k = 0; k < parallel; ++k) {
    asio::co_spawn(ctx, open_idle<Stream>(sockets, next, ep, o, payloads), asio::detached);
  }
  ctx.run();
  const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("holding %lu idle connections for %.1f s (%sopened and echoed in %.2f s, fd limit %llu)\n", o.idle,
              o.hold, is_tls<Stream> ? "tls, " : "", secs, static_cast<unsigned long long>(limit));
  std::fflush(stdout);
  sleep_for_seconds(o.hold);
  for (auto& s : sockets) {
    asio::error_code ignored;
    s.lowest_layer().close(ignored);
  }
  g_done.store(true);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage.data(), stdout);
      return 0;
    }
    if (flag == "--csv") {
      o.csv = true;
      continue;
    }
    if (flag == "--csv-header") {
      std::printf("%.*s\n", static_cast<int>(csv_header.size()), csv_header.data());
      return 0;
    }
    const std::string_view value = i + 1 < argc ? argv[i + 1] : "";
    bool ok = i + 1 < argc;
    if (flag == "--host") {
      o.host = value;
    } else if (flag == "--port") {
      ok = ok && parse_uint(value, 65535, o.port) && o.port > 0;
      o.port_set = true;
    } else if (flag == "--connections") {
      ok = ok && parse_uint(value, max_connections, o.connections) && o.connections > 0;
    } else if (flag == "--depth") {
      ok = ok && parse_uint(value, max_depth, o.depth) && o.depth > 0;
    } else if (flag == "--size") {
      ok = ok && parse_uint(value, max_payload, o.size);
    } else if (flag == "--duration") {
      ok = ok && parse_seconds(value, o.duration) && o.duration > 0;
    } else if (flag == "--warmup") {
      ok = ok && parse_seconds(value, o.warmup);
    } else if (flag == "--threads") {
      ok = ok && parse_uint(value, 256, o.threads) && o.threads > 0;
    } else if (flag == "--connect-timeout") {
      ok = ok && parse_seconds(value, o.connect_timeout) && o.connect_timeout > 0;
    } else if (flag == "--idle") {
      ok = ok && parse_uint(value, 1000000, o.idle) && o.idle > 0;
    } else if (flag == "--server-pid") {
      ok = ok && parse_uint(value, 4194304, o.server_pid) && o.server_pid > 0;
    } else if (flag == "--hold") {
      ok = ok && parse_seconds(value, o.hold);
    } else if (flag == "--tls-ca") {
      o.tls_ca = value;
      ok = ok && !value.empty();
    } else if (flag == "--tls-cert") {
      o.tls_cert = value;
      ok = ok && !value.empty();
    } else if (flag == "--tls-key") {
      o.tls_key = value;
      ok = ok && !value.empty();
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "bench_loadgen: bad argument '%.*s'\n%.*s", static_cast<int>(flag.size()), flag.data(),
                   static_cast<int>(usage.size()), usage.data());
      return 2;
    }
    ++i;
  }
  if (!o.port_set) {
    std::fprintf(stderr, "bench_loadgen: --port is required\n%.*s", static_cast<int>(usage.size()), usage.data());
    return 2;
  }
  if (o.tls_cert.empty() != o.tls_key.empty() || (!o.tls_cert.empty() && o.tls_ca.empty())) {
    std::fprintf(stderr, "bench_loadgen: --tls-cert and --tls-key go together, and with --tls-ca\n");
    return 2;
  }
#if !BENCH_LOADGEN_TLS
  if (!o.tls_ca.empty()) {
    std::fprintf(stderr, "bench_loadgen: --tls-ca: this build has no TLS (OpenSSL was not found)\n");
    return 2;
  }
#endif
  raise_fd_limit();
  try {
#if BENCH_LOADGEN_TLS
    if (!o.tls_ca.empty()) {
      g_tls = make_tls_context(o);
      return o.idle > 0 ? run_idle<tls_stream>(o) : run_load<tls_stream>(o);
    }
#endif
    return o.idle > 0 ? run_idle<tcp::socket>(o) : run_load<tcp::socket>(o);
  } catch (const std::exception& e) {
    fatal(e.what());
  }
}
