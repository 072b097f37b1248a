#pragma once
// RetainedStore: the last retained message of each topic (3.3.1.3), handed to new subscribers.
// A PUBLISH with RETAIN and an empty payload deletes the topic's message (3.3.1-10, 3.3.1-11).
//
// Bounded by RetainedLimits: max_messages topics, and max_bytes in all, counting each entry as
// its topic + payload + a fixed overhead (what holding it costs, so that a million empty-ish
// entries are not free). A set() that would go beyond either is refused and changes nothing.
//
// Not thread-safe: the broker serialises access.

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mqtt/topic.hpp"
#include "mqtt/types.hpp"

namespace mqtt {

struct RetainedMessage {
  std::vector<std::byte> payload;  // never empty
  QoS qos = QoS::at_most_once;     // delivered at min(this, granted) (3.3.5)
  bool operator==(const RetainedMessage&) const = default;
};

struct RetainedLimits {
  std::size_t max_messages = 100'000;
  std::size_t max_bytes = std::size_t{64} << 20;
};

enum class RetainOutcome : std::uint8_t {
  stored,     // a new topic
  replaced,   // the topic's previous message is gone
  deleted,    // empty payload: the topic has no retained message now (whether or not it had)
  invalid_topic,
  too_many_messages,
  over_budget,
};

class RetainedStore {
 public:
  static constexpr std::size_t entry_overhead = 64;  // bytes charged per entry beyond its data

  explicit RetainedStore(RetainedLimits limits = {}) : limits_(limits) {}

  RetainOutcome set(std::string_view topic, std::span<const std::byte> payload, QoS qos);
  const RetainedMessage* find(std::string_view topic) const;

  // Calls fn(std::string_view topic, const RetainedMessage&) for each retained message whose
  // topic the filter matches, in topic order. Precondition: filter is a valid topic filter.
  // Only the topics that start with the filter's literal prefix are looked at. fn must not
  // change the store.
  template <class Fn>
  void for_each_match(std::string_view filter, Fn&& fn) const {
    const std::string_view prefix = literal_prefix(filter);
    for (auto it = messages_.lower_bound(prefix);
         it != messages_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
      if (topic_matches(filter, it->first)) fn(std::string_view(it->first), it->second);
    }
  }

  std::size_t count() const noexcept { return messages_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }  // as charged against max_bytes

  // What every matching topic starts with: the filter up to its first wildcard, without the
  // '/' before it ("sport/#" gives "sport", because "sport/#" matches "sport" itself).
  static std::string_view literal_prefix(std::string_view filter) noexcept;

 private:
  static std::size_t cost(std::string_view topic, std::size_t payload_size) noexcept {
    return topic.size() + payload_size + entry_overhead;
  }

  RetainedLimits limits_;
  std::map<std::string, RetainedMessage, std::less<>> messages_;
  std::size_t bytes_ = 0;
};

}  // namespace mqtt
