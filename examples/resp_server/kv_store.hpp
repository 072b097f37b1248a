#pragma once
// KeyValueStore: the server's keys, shared by every connection of every worker (registered with
// WireframeApp::with_state). Sharded: a key's hash picks one of N maps, each behind its own
// mutex, so workers rarely contend; with one worker each lock is uncontended (a few ns).
// Lookups take std::string_view (heterogeneous lookup): no temporary std::string per request.

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace resp {

class KeyValueStore {
 public:
  explicit KeyValueStore(std::size_t shards = 64)
      : shard_count_(shards == 0 ? 1 : shards), shards_(std::make_unique<Shard[]>(shard_count_)) {}

  void set(std::string_view key, std::string_view value) {
    Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    if (it != s.map.end()) {
      it->second.assign(value.data(), value.size());  // reuses the old value's storage
    } else {
      s.map.emplace(std::string(key), std::string(value));
    }
  }

  // Calls `found(value)` under the shard's lock (copy what you need out of it) and returns
  // true, or returns false when the key does not exist.
  template <class F>
  bool get(std::string_view key, F&& found) const {
    const Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    if (it == s.map.end()) return false;
    std::invoke(found, std::string_view(it->second));
    return true;
  }

  // True when the key existed.
  bool erase(std::string_view key) {
    Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    if (it == s.map.end()) return false;
    s.map.erase(it);
    return true;
  }

  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < shard_count_; ++i) {
      std::lock_guard lock(shards_[i].mutex);
      n += shards_[i].map.size();
    }
    return n;
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct alignas(64) Shard {  // one cache line each: no false sharing between shards' mutexes
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> map;
  };

  // The map uses the hash's low bits (modulo its bucket count); the shard takes the high ones.
  [[nodiscard]] std::size_t shard_index(std::string_view key) const noexcept {
    return shard_count_ == 1 ? 0 : (Hash{}(key) >> 32) % shard_count_;
  }
  Shard& shard(std::string_view key) noexcept { return shards_[shard_index(key)]; }
  const Shard& shard(std::string_view key) const noexcept { return shards_[shard_index(key)]; }

  std::size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace resp
