// The memory a greedy peer can pin, measured from outside as a user would: runs the real
// echo_server as a child process with its default budgets, connects a peer that pipelines
// maximum-size (8 MiB) frames and never reads, samples the server's resident memory, and checks:
//   - the server's RSS grows by no more than the documented worst case for one connection
//     (docs/hardening.md, "Memory a connection can hold") plus the per-thread pools;
//   - the greedy peer is closed by the write timeout;
//   - a bystander is served all along.
// Release builds only (a sanitizer's allocator changes RSS). Usage: greedy_peer_rss ECHO_SERVER
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

extern char** environ;

namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t mib = 1024 * 1024;
// docs/hardening.md: 2F + B_in + W_high + R + H with the defaults (F = 8 MiB).
constexpr double documented_worst_mib = 18.07;
// The worker's packet pool and buffer pool (4 MiB each at most) are shared by all connections
// of a worker and not part of one connection's worst case, but they live in the same process.
constexpr double pools_mib = 8.0;

int failures = 0;
void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
  if (!ok) ++failures;
}

struct Child {
  pid_t pid = -1;
  int out = -1;  // its stdout
};

Child spawn_server(const char* path) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<std::string> args{path, "--port", "0", "--workers", "1", "--write-timeout", "2000"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child c;
  if (posix_spawn(&c.pid, path, &actions, nullptr, argv.data(), environ) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  c.out = fds[0];
  return c;
}

// The port from the server's first stdout line, "listening on 127.0.0.1:PORT".
unsigned short read_port(int fd) {
  std::string line;
  char ch = 0;
  while (line.size() < 200 && read(fd, &ch, 1) == 1 && ch != '\n') line += ch;
  const auto colon = line.rfind(':');
  return colon == std::string::npos ? 0 : static_cast<unsigned short>(std::stoul(line.substr(colon + 1)));
}

double rss_mib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      status >> kib;
      return kib / 1024.0;
    }
  }
  return 0;
}

std::vector<std::uint8_t> frame(std::uint64_t correlation, std::size_t payload) {
  const std::size_t body = 12 + payload;
  std::vector<std::uint8_t> out(4 + body, 0x61);
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(body >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) out[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i == 3);  // id 1
  for (int i = 0; i < 8; ++i) out[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(correlation >> (56 - 8 * i));
  return out;
}

// One echo on a blocking socket; false on any error or mismatch.
bool echo_once(tcp::socket& s, std::uint64_t n) {
  const auto f = frame(n, 100);
  std::vector<std::uint8_t> reply(f.size());
  asio::error_code ec;
  asio::write(s, asio::buffer(f), ec);
  if (!ec) asio::read(s, asio::buffer(reply), ec);
  return !ec && reply == f;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: greedy_peer_rss ECHO_SERVER\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  Child server = spawn_server(argv[1]);
  const unsigned short port = server.pid > 0 ? read_port(server.out) : 0;
  if (port == 0) {
    std::fprintf(stderr, "could not start %s\n", argv[1]);
    return 1;
  }
  asio::io_context io;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  tcp::socket bystander(io);
  bystander.connect(ep);
  for (std::uint64_t i = 0; i < 100; ++i) (void)echo_once(bystander, i);  // warm the pools
  std::this_thread::sleep_for(200ms);
  const double baseline = rss_mib(server.pid);

  // The greedy peer: a small receive window, 8 MiB requests back to back, never a read.
  tcp::socket greedy(io);
  greedy.open(tcp::v4());
  greedy.set_option(asio::socket_base::receive_buffer_size(4096));
  greedy.connect(ep);
  std::atomic<bool> greedy_closed{false};
  std::thread flood([&] {
    const auto big = frame(7, 8 * mib - 12);
    for (int i = 0; i < 64; ++i) {
      asio::error_code ec;
      asio::write(greedy, asio::buffer(big), ec);
      if (ec) break;  // the server closed it
    }
    greedy_closed = true;
  });

  double peak = baseline;
  int served = 0, refused = 0;
  const auto start = clock_type::now();
  while (!greedy_closed && clock_type::now() - start < 20s) {
    peak = std::max(peak, rss_mib(server.pid));
    if (echo_once(bystander, 1000 + static_cast<std::uint64_t>(served + refused))) ++served;
    else ++refused;
    std::this_thread::sleep_for(10ms);
  }
  const auto closed_after = clock_type::now() - start;
  if (!greedy_closed) greedy.close();  // unblocks the flood thread
  flood.join();

  const double growth = peak - baseline;
  std::printf("server RSS: baseline %.1f MiB, peak %.1f MiB, growth %.1f MiB (documented worst case "
              "%.2f MiB + pools %.0f MiB); greedy peer closed after %.1f s; bystander %d echoes, %d failed\n",
              baseline, peak, growth, documented_worst_mib, pools_mib,
              std::chrono::duration<double>(closed_after).count(), served, refused);
  check(greedy_closed, "the greedy peer was closed by the server (write timeout)");
  check(growth <= documented_worst_mib + pools_mib, "RSS growth within the documented worst case");
  check(served > 0 && refused == 0, "the bystander was served throughout");

  kill(server.pid, SIGTERM);
  int status = 0;
  waitpid(server.pid, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the server stopped cleanly on SIGTERM");
  std::printf("%d passed, %d failed\n", 4 - failures, failures);
  return failures == 0 ? 0 : 1;
}
