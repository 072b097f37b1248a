#pragma once
// ConnectionContext: what a handler (and a hook) knows about its connection. One per
// connection, owned by the actor, used only on the connection's thread.

#include <algorithm>
#include <any>
#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <typeinfo>

#include "wireframe/app/app_state.hpp"
#include "wireframe/app/connection_id.hpp"
#include "wireframe/detail/asio.hpp"
#include "wireframe/fragment/reassembly_stats.hpp"
#include "wireframe/log/event_log.hpp"
#include "wireframe/push/push_handle.hpp"
#include "wireframe/transport/stream_socket.hpp"
#include "wireframe/transport/tls_session.hpp"

namespace wireframe {

// What a connection holds against its memory budgets right now (ConnectionSettings).
struct ConnectionUsage {
  std::size_t inbound_bytes = 0;   // requests decoded and not yet done with (max_inbound_bytes)
  std::size_t outbound_bytes = 0;  // responses and pushes queued, plus the write in flight
  bool outbound_paused = false;    // above the high watermark, not yet back to the low one
};

namespace detail {
// Implemented by the connection actor; asked only when someone calls usage().
class UsageSource {
 public:
  [[nodiscard]] virtual ConnectionUsage usage() const noexcept = 0;

 protected:
  ~UsageSource() = default;
};

// Implemented by the connection actor: what a handler may change about its own connection.
class ConnectionControl {
 public:
  virtual void set_idle_timeout(std::chrono::milliseconds t) noexcept = 0;
  virtual void set_read_idle_timeout(std::chrono::milliseconds t) noexcept = 0;

 protected:
  ~ConnectionControl() = default;
};
}  // namespace detail

class ConnectionContext {
 public:
  ConnectionContext(ConnectionId id, asio::any_io_executor executor, detail::ConnectionAddresses addresses,
                    const AppState& state)
      : id_(id),
        executor_(std::move(executor)),
        transport_(addresses.transport),
        peer_(addresses.peer),
        local_(addresses.local),
        state_(&state) {}

  [[nodiscard]] ConnectionId id() const noexcept { return id_; }
  [[nodiscard]] Transport transport() const noexcept { return transport_; }
  // The peer's and the server's TCP addresses (unspecified, port 0, on a Unix domain socket).
  [[nodiscard]] const asio::ip::tcp::endpoint& peer() const noexcept { return peer_; }
  [[nodiscard]] const asio::ip::tcp::endpoint& local() const noexcept { return local_; }
  // The peer for people (logs): "127.0.0.1:4242", "[::1]:4242", or "unix" on a Unix domain socket.
  [[nodiscard]] std::string peer_name() const { return detail::peer_name(transport_, peer_); }
  // What TLS negotiated (version, SNI, ALPN, the peer's certificate), or null on a plain
  // connection.
  [[nodiscard]] const TlsSession* tls() const noexcept { return tls_; }
  // Set once by the connection actor (its socket owns the session).
  void set_tls(const TlsSession* session) noexcept { tls_ = session; }
  // The preamble the connection opened with (WireframeApp::with_preamble), or null when it had
  // none or T is not its type.
  template <class T>
  [[nodiscard]] const T* preamble() const noexcept {
    return std::any_cast<T>(&preamble_);
  }
  // Set once by the connection actor.
  void set_preamble(std::any preamble) noexcept { preamble_ = std::move(preamble); }
  // The connection's executor: everything of this connection runs on it (one thread).
  [[nodiscard]] const asio::any_io_executor& executor() const noexcept { return executor_; }

  // Shared app state registered with WireframeApp::with_state.
  template <class T>
  [[nodiscard]] T& state() const {
    return state_->get<T>();
  }

  // Per-connection slot for the application's own state (set it in on_connection_setup).
  [[nodiscard]] std::any& user_data() noexcept { return user_data_; }

  // A handle for pushing frames to this connection from anywhere (push/push_handle.hpp). F is
  // the app's packet type; asking for another type is a programming error (std::logic_error).
  template <class F>
  [[nodiscard]] PushHandle<F> push_handle() const {
    if (!push_queues_ || push_type_ != typeid(F)) {
      throw std::logic_error("wireframe: push_handle<F>() with F other than the app's packet type");
    }
    return PushHandle<F>(std::static_pointer_cast<detail::PushQueues<F>>(push_queues_));
  }

  // Set once by the connection actor.
  template <class F>
  void set_push_queues(std::shared_ptr<detail::PushQueues<F>> queues) {
    push_queues_ = std::move(queues);
    push_type_ = typeid(F);
  }

  // Messages in reassembly on this connection and the bytes they hold (all zero when the app
  // does not fragment). Includes every fragment read so far, up to the current request.
  [[nodiscard]] ReassemblyStats reassembly_stats() const noexcept {
    return reassembly_ ? reassembly_->reassembly_stats() : ReassemblyStats{};
  }
  // Set once by the connection actor.
  void set_reassembly_source(const detail::ReassemblyStatsSource* source) noexcept { reassembly_ = source; }

  // The connection's current use of its memory budgets.
  [[nodiscard]] ConnectionUsage usage() const noexcept { return usage_ ? usage_->usage() : ConnectionUsage{}; }
  // Set once by the connection actor.
  void set_usage_source(const detail::UsageSource* source) noexcept { usage_ = source; }

  // This connection's idle timeout (nothing read or written for `t`) and read-idle timeout
  // (nothing read for `t`), replacing the app's (WireframeApp::idle_timeout,
  // read_idle_timeout) from now on: for a peer that says how long it may be silent, as MQTT's
  // keep-alive. Zero or less switches one off. Counted from the connection's last activity.
  void set_idle_timeout(std::chrono::milliseconds t) noexcept {
    if (control_ != nullptr) control_->set_idle_timeout(std::max(t, std::chrono::milliseconds::zero()));
  }
  void set_read_idle_timeout(std::chrono::milliseconds t) noexcept {
    if (control_ != nullptr) control_->set_read_idle_timeout(std::max(t, std::chrono::milliseconds::zero()));
  }
  // Set once by the connection actor.
  void set_control(detail::ConnectionControl* control) noexcept { control_ = control; }

  // "conn=7 peer=127.0.0.1:40212": the fields every event of this connection carries, fixed when
  // it started, for the application's own log lines about it.
  [[nodiscard]] std::string_view log_fields() const noexcept { return events().fields(); }
  // Where this connection's events go (log/event_log.hpp).
  [[nodiscard]] const detail::EventLog& events() const noexcept {
    static const detail::EventLog none;
    return events_ != nullptr ? *events_ : none;
  }
  // Set once by the connection actor.
  void set_events(const detail::EventLog* events) noexcept { events_ = events; }

  // Asks the connection to close once the current response has been written.
  void close() noexcept { close_requested_ = true; }
  [[nodiscard]] bool close_requested() const noexcept { return close_requested_; }

 private:
  ConnectionId id_;
  asio::any_io_executor executor_;
  Transport transport_ = Transport::tcp;
  asio::ip::tcp::endpoint peer_;
  asio::ip::tcp::endpoint local_;
  const AppState* state_;
  const TlsSession* tls_ = nullptr;
  std::any preamble_;
  std::any user_data_;
  std::shared_ptr<void> push_queues_;
  std::type_index push_type_ = typeid(void);
  const detail::ReassemblyStatsSource* reassembly_ = nullptr;
  const detail::UsageSource* usage_ = nullptr;
  detail::ConnectionControl* control_ = nullptr;
  const detail::EventLog* events_ = nullptr;
  bool close_requested_ = false;
};

}  // namespace wireframe
