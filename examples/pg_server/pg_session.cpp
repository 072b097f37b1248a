#include "pg_session.hpp"

#include <limits>

namespace pg {

SessionDirectory::Key SessionDirectory::open(wireframe::ConnectionId connection,
                                             std::shared_ptr<std::atomic<bool>> cancel) {
  std::lock_guard lock(mutex_);
  // Process ids count up and wrap, skipping those in use: a CancelRequest for a session that
  // ended cannot reach a newer one unless 2^31 sessions came between (and its secret matches).
  while (sessions_.contains(next_pid_)) {
    next_pid_ = next_pid_ == std::numeric_limits<std::int32_t>::max() ? first_pid : next_pid_ + 1;
  }
  const std::int32_t pid = next_pid_;
  next_pid_ = pid == std::numeric_limits<std::int32_t>::max() ? first_pid : pid + 1;
  const auto secret = static_cast<std::int32_t>(random_());
  sessions_.emplace(pid, Entry{connection, secret, std::move(cancel)});
  return {pid, secret};
}

void SessionDirectory::close(std::int32_t pid) {
  std::lock_guard lock(mutex_);
  sessions_.erase(pid);
  const auto it = listening_.find(pid);
  if (it == listening_.end()) return;
  const std::set<std::string> channels = std::move(it->second);
  listening_.erase(it);
  for (const std::string& channel : channels) unlisten_locked(pid, channel);
}

bool SessionDirectory::cancel(std::int32_t pid, std::int32_t secret) {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(pid);
  if (it == sessions_.end() || it->second.secret != secret) return false;
  it->second.cancel->store(true, std::memory_order_relaxed);
  return true;
}

void SessionDirectory::listen(std::int32_t pid, const std::string& channel) {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(pid);
  if (it == sessions_.end()) return;
  channels_[channel][pid] = it->second.connection;
  listening_[pid].insert(channel);
}

void SessionDirectory::unlisten(std::int32_t pid, const std::string& channel) {
  std::lock_guard lock(mutex_);
  if (const auto it = listening_.find(pid); it != listening_.end()) it->second.erase(channel);
  unlisten_locked(pid, channel);
}

void SessionDirectory::unlisten_locked(std::int32_t pid, const std::string& channel) {
  const auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  it->second.erase(pid);
  if (it->second.empty()) channels_.erase(it);  // no empty channels left behind
}

std::vector<SessionDirectory::Listener> SessionDirectory::listeners(const std::string& channel) const {
  std::lock_guard lock(mutex_);
  std::vector<Listener> out;
  if (const auto it = channels_.find(channel); it != channels_.end()) {
    for (const auto& [pid, connection] : it->second) out.push_back({pid, connection});
  }
  return out;
}

std::size_t SessionDirectory::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace pg
