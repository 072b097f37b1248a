#pragma once
// What pg_server knows about its sessions.
//
// Session: one per connection, created by the setup hook and kept in the connection's
// user_data(); used only on that connection's thread, except `cancel`, which a CancelRequest
// sets from whichever thread runs the cancelling connection.
//
// SessionDirectory: shared by all connections, from every worker thread (one mutex: every
// operation is a few map lookups, and only session start and end, LISTEN, NOTIFY and cancel
// take it, never a plain query). It gives each session its process id and secret key (what
// BackendKeyData tells the client, and what a CancelRequest must quote), finds a session to
// cancel, and knows which sessions listen on which channel. It holds connection ids, not
// connections: NOTIFY finds the live ones through wireframe's SessionRegistry.

#include <wireframe/app/connection_id.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pg_protocol.hpp"

namespace pg {

struct Session {
  std::int32_t pid = 0;
  std::int32_t secret = 0;
  std::string user;
  std::string database;
  bool authenticated = false;
  TxStatus tx = TxStatus::idle;
  std::size_t changes_in_block = 0;  // statements that changed data since BEGIN (no rollback)
  // NOTIFYs of the open transaction block, sent at COMMIT (PostgreSQL's rule); duplicates folded.
  std::vector<std::pair<std::string, std::string>> pending_notifies;
  bool skip_until_sync = false;  // an extended-protocol message was refused: wait for Sync
  std::map<std::string, std::string> settings;          // SHOW / SET
  std::map<std::string, std::string> initial_settings;  // what SET ... TO DEFAULT restores
  std::set<std::string> channels;               // LISTEN
  // Set by a CancelRequest (any thread), cleared when a query starts; a streamed result checks
  // it between batches.
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
};

class SessionDirectory {
 public:
  struct Key {
    std::int32_t pid;
    std::int32_t secret;
  };
  struct Listener {
    std::int32_t pid;
    wireframe::ConnectionId connection;
  };

  // Registers a session: a process id not in use and a random secret.
  Key open(wireframe::ConnectionId connection, std::shared_ptr<std::atomic<bool>> cancel);
  // Forgets the session and every channel it listened on.
  void close(std::int32_t pid);
  // Sets that session's cancel flag when the secret matches; false otherwise (PostgreSQL then
  // does nothing and says nothing, so a guess learns nothing).
  bool cancel(std::int32_t pid, std::int32_t secret);

  void listen(std::int32_t pid, const std::string& channel);
  void unlisten(std::int32_t pid, const std::string& channel);
  [[nodiscard]] std::vector<Listener> listeners(const std::string& channel) const;
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    wireframe::ConnectionId connection;
    std::int32_t secret;
    std::shared_ptr<std::atomic<bool>> cancel;
  };
  void unlisten_locked(std::int32_t pid, const std::string& channel);

  mutable std::mutex mutex_;
  std::unordered_map<std::int32_t, Entry> sessions_;
  std::unordered_map<std::string, std::map<std::int32_t, wireframe::ConnectionId>> channels_;
  std::unordered_map<std::int32_t, std::set<std::string>> listening_;  // pid -> its channels
  std::int32_t next_pid_ = first_pid;
  std::mt19937 random_{std::random_device{}()};

  static constexpr std::int32_t first_pid = 1000;
};

}  // namespace pg
