#pragma once
// A WireframeServer with one worker on 127.0.0.1 (OS-chosen port), run on a thread of its own
// for as long as the object lives: what the in-process benchmarks measure against.

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include <wireframe/wireframe.hpp>

namespace bench {

class ServerThread {
 public:
  template <class App>
  explicit ServerThread(std::shared_ptr<const App> app) : server_(std::move(app)) {
    server_.workers(1).bind("127.0.0.1", 0);
    endpoint_ = server_.local_endpoint();
    thread_ = std::thread([this] { server_.run(); });
  }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;
  ~ServerThread() {
    server_.stop();
    thread_.join();
  }

  [[nodiscard]] const asio::ip::tcp::endpoint& endpoint() const noexcept { return endpoint_; }

 private:
  wireframe::WireframeServer server_;
  asio::ip::tcp::endpoint endpoint_;
  std::thread thread_;
};

// The push handle of the first connection that registers in `registry`, waiting (bounded, 5 s)
// for it: a connection registers itself on the server thread once it is accepted.
inline wireframe::PushHandle<wireframe::Envelope> first_session(
    wireframe::SessionRegistry<wireframe::Envelope>& registry) {
  std::optional<wireframe::PushHandle<wireframe::Envelope>> handle;
  for (int i = 0; i < 5000 && !handle; ++i) {
    registry.for_each([&](wireframe::ConnectionId, wireframe::PushHandle<wireframe::Envelope> h) {
      handle = std::move(h);
    });
    if (!handle) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!handle) std::abort();
  return std::move(*handle);
}

}  // namespace bench
