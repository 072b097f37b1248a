#pragma once
// ConnectionContext: what a handler (and a hook) knows about its connection. One per
// connection, owned by the actor, used only on the connection's thread.

#include <any>
#include <cstdint>

#include "wireframe/app/app_state.hpp"
#include "wireframe/detail/asio.hpp"

namespace wireframe {

// Unique per server for the server's lifetime (a 64-bit counter never wraps in practice).
using ConnectionId = std::uint64_t;

class ConnectionContext {
 public:
  ConnectionContext(ConnectionId id, asio::any_io_executor executor, asio::ip::tcp::endpoint peer,
                    asio::ip::tcp::endpoint local, const AppState& state)
      : id_(id), executor_(std::move(executor)), peer_(peer), local_(local), state_(&state) {}

  [[nodiscard]] ConnectionId id() const noexcept { return id_; }
  [[nodiscard]] const asio::ip::tcp::endpoint& peer() const noexcept { return peer_; }
  [[nodiscard]] const asio::ip::tcp::endpoint& local() const noexcept { return local_; }
  // The connection's executor: everything of this connection runs on it (one thread).
  [[nodiscard]] const asio::any_io_executor& executor() const noexcept { return executor_; }

  // Shared app state registered with WireframeApp::with_state.
  template <class T>
  [[nodiscard]] T& state() const {
    return state_->get<T>();
  }

  // Per-connection slot for the application's own state (set it in on_connection_setup).
  [[nodiscard]] std::any& user_data() noexcept { return user_data_; }

  // Asks the connection to close once the current response has been written.
  void close() noexcept { close_requested_ = true; }
  [[nodiscard]] bool close_requested() const noexcept { return close_requested_; }

 private:
  ConnectionId id_;
  asio::any_io_executor executor_;
  asio::ip::tcp::endpoint peer_;
  asio::ip::tcp::endpoint local_;
  const AppState* state_;
  std::any user_data_;
  bool close_requested_ = false;
};

}  // namespace wireframe
