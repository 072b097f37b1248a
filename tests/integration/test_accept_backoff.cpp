// Running out of file descriptors makes accept() fail with EMFILE while the connection stays in
// the backlog. The server must back off (not spin on accept) and serve again once descriptors
// are available.
//
// Not compiled under UBSan: its vptr check opens a pipe on every check, so in a process with no
// descriptor left every virtual call reports a false "invalid vptr". The release suite runs it.
#if !defined(WIREFRAME_SANITIZE_UNDEFINED)
#include <sys/resource.h>
#include <dirent.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>

#include "support/async_test.hpp"

using namespace wireframe;
using namespace wireframe::test;
using namespace std::chrono_literals;

namespace test_accept_backoff_cpp {  // this file's names, apart from the other files of a unity build

namespace {

std::size_t open_descriptors() {
  std::size_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n - 3;  // ".", ".." and the descriptor of the directory listing itself
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("accept errors from descriptor exhaustion back off instead of spinning",
          "[integration][server]") {
  std::ostringstream log_text;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text);
  set_logger(std::make_shared<spdlog::logger>("test", sink));

  rlimit original{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &original) == 0);
  {
    ServerFixture fx(WireframeApp<>()
                         .route(1, [](Envelope& e) -> asio::awaitable<Response<Envelope>> {
                           co_return std::move(e);
                         })
                         .build());
    run_async([&]() -> asio::awaitable<void> {
      WireframeClient<> client(co_await asio::this_coro::executor);
      client.socket().open(asio::ip::tcp::v4());  // take our descriptor before the limit
      // No descriptor left for the server's accept(). No assertion inside this window: UBSan's
      // checks themselves need a descriptor (they read /proc/self/maps).
      rlimit tight = original;
      tight.rlim_cur = open_descriptors();
      const int tightened = setrlimit(RLIMIT_NOFILE, &tight);
      const std::error_code connected = co_await client.connect(fx.endpoint());  // kernel queues it
      co_await sleep_for(400ms);
      const int restored = setrlimit(RLIMIT_NOFILE, &original);
      REQUIRE(tightened == 0);
      REQUIRE(restored == 0);
      REQUIRE_FALSE(connected);
      auto [ec, reply] = co_await client.call(Envelope(1, 0, "late"));  // served after recovery
      REQUIRE_FALSE(ec);
      CHECK(reply.payload_text() == "late");
    }, 10s);
  }
  setrlimit(RLIMIT_NOFILE, &original);
  set_logger(nullptr);
  const std::string text = log_text.str();
  const std::size_t failures = count(text, "accept.failed error=");
  CHECK(failures >= 1);   // it did hit the limit
  CHECK(failures <= 12);  // 5 ms doubling over 400 ms is about 7 tries; a spin is thousands
}

}  // namespace test_accept_backoff_cpp

#endif  // !WIREFRAME_SANITIZE_UNDEFINED
