#pragma once
// SessionRegistry<F>: finds live connections by ConnectionId and hands out PushHandles, from any
// thread. Give one to WireframeApp::with_session_registry(); every connection of the app then
// registers itself when it starts and removes itself when it ends.
//
//   if (auto handle = registry->find(id)) (void)handle->try_push(frame);
//   registry->broadcast(Envelope(7, 0, "tick"));          // every live session
//
// Leak-proof by construction: an entry holds only a weak_ptr to the connection's push queues, so
// the registry never keeps a connection (or even its queues) alive, and the connection erases
// its entry when it ends, so a server that sees millions of connections keeps only the live
// ones. A connection that is shutting down is treated as gone (find() says so) even before its
// entry is erased: liveness follows the connection, not the holders of handles.
//
// Why a sharded map: lookups come from many threads at once (handlers on every worker, timers,
// other threads). Each shard is an unordered_map behind its own std::shared_mutex, picked by the
// connection id, so readers share locks and writers of different shards never meet. We chose
// this over a concurrent-map library: Debian's libtbb-dev (oneTBB) has concurrent_hash_map, but
// it would add a compiled dependency to every user for one container, and 16 shards of the
// standard map already give what matters here: concurrent readers never wait for each other.

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "wireframe/app/connection_id.hpp"
#include "wireframe/push/push_handle.hpp"
#include "wireframe/push/push_queues.hpp"

namespace wireframe {

template <class F>
class SessionRegistry {
 public:
  explicit SessionRegistry(std::size_t shard_count = 16) : shards_(shard_count == 0 ? 1 : shard_count) {}

  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  // A handle to the live connection `id`, or nullopt if it has ended or is shutting down.
  [[nodiscard]] std::optional<PushHandle<F>> find(ConnectionId id) const {
    const Shard& shard = shard_for(id);
    std::shared_lock lock(shard.mutex);
    auto it = shard.entries.find(id);
    if (it == shard.entries.end()) return std::nullopt;
    return live_handle(it->second);
  }

  // Live sessions right now (entries of connections that are shutting down are not counted).
  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for_each([&n](ConnectionId, const PushHandle<F>&) { ++n; });
    return n;
  }

  // Calls fn(ConnectionId, PushHandle<F>) for every live session. Each shard is copied under its
  // lock and fn runs without any lock held, so fn may push (or even look up) freely.
  template <class Fn>
  void for_each(Fn&& fn) const {
    std::vector<std::pair<ConnectionId, PushHandle<F>>> live;
    for (const Shard& shard : shards_) {
      live.clear();
      {
        std::shared_lock lock(shard.mutex);
        for (const auto& [id, weak] : shard.entries) {
          if (auto handle = live_handle(weak)) live.emplace_back(id, std::move(*handle));
        }
      }
      for (auto& [id, handle] : live) fn(id, handle);
    }
  }

  // push_with_policy()s a copy of `frame` to every live session; returns how many reported
  // success (with a drop policy a dropped copy counts too). Never waits. A copy refused under
  // return_error_if_full is discarded; under drop_to_dlq it goes to the dead letter queue.
  std::size_t broadcast(const F& frame, PushPriority priority = PushPriority::low,
                        PushPolicy policy = PushPolicy::warn_and_drop_if_full) const {
    std::size_t accepted = 0;
    for_each([&](ConnectionId, PushHandle<F>& handle) {
      if (handle.push_with_policy(frame, priority, policy).ok()) ++accepted;
    });
    return accepted;
  }

  // Called by the connection actor.
  void add(ConnectionId id, std::weak_ptr<detail::PushQueues<F>> queues) {
    Shard& shard = shard_for(id);
    std::unique_lock lock(shard.mutex);
    shard.entries.insert_or_assign(id, std::move(queues));
  }

  void remove(ConnectionId id) {
    Shard& shard = shard_for(id);
    std::unique_lock lock(shard.mutex);
    shard.entries.erase(id);
  }

  // Entries held, live or not yet erased (for tests and monitoring).
  [[nodiscard]] std::size_t entry_count() const {
    std::size_t n = 0;
    for (const Shard& shard : shards_) {
      std::shared_lock lock(shard.mutex);
      n += shard.entries.size();
    }
    return n;
  }

 private:
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<ConnectionId, std::weak_ptr<detail::PushQueues<F>>> entries;
  };

  static std::optional<PushHandle<F>> live_handle(const std::weak_ptr<detail::PushQueues<F>>& weak) {
    auto queues = weak.lock();
    if (!queues || queues->closed()) return std::nullopt;
    return PushHandle<F>(std::move(queues));
  }

  // Connection ids are sequential: the modulo spreads them evenly over the shards.
  Shard& shard_for(ConnectionId id) { return shards_[id % shards_.size()]; }
  const Shard& shard_for(ConnectionId id) const { return shards_[id % shards_.size()]; }

  std::vector<Shard> shards_;
};

}  // namespace wireframe
