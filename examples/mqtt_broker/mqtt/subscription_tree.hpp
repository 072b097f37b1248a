#pragma once
// SubscriptionTree: which subscribers a PUBLISH goes to. A trie by topic level: each node is
// one level of some filter ("+" and "#" are ordinary child keys), and holds the subscribers
// whose filter ends there. match() walks the topic name's levels down the trie, following the
// exact level, "+" and "#". Each node is visited at most once per match (a node is one filter
// prefix, and a prefix matches the name's first levels in at most one way), so a match costs
// at most the tree's size, whatever the filters; the recursion is no deeper than max_levels.
//
// Not thread-safe: the broker serialises access (one lock around the tree).
//
// Limits (TreeLimits), so that clients cannot grow it without bound:
//   max_subscriptions    (subscriber, filter) pairs in the whole tree
//   max_per_subscriber   filters of one subscriber
//   max_levels           levels in one filter (the trie's depth)
// Memory is then bounded by max_subscriptions * (max_levels nodes + 65535 bytes of filter).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mqtt/types.hpp"

namespace mqtt {

namespace detail {
struct SubscriptionNode;  // one trie node; defined in subscription_tree.cpp
}

using SubscriberId = std::uint64_t;

struct TreeLimits {
  std::size_t max_subscriptions = 1'000'000;
  std::size_t max_per_subscriber = 10'000;
  std::size_t max_levels = 64;
};

enum class SubscribeOutcome : std::uint8_t {
  added,
  replaced,        // the subscriber already had this filter: its QoS is updated (3.8.4-3)
  invalid_filter,  // not a valid topic filter (4.7)
  too_many_levels,
  limit_reached,   // max_subscriptions or max_per_subscriber
};

struct Subscriber {
  SubscriberId id = 0;
  QoS qos = QoS::at_most_once;  // the granted QoS
  bool operator==(const Subscriber&) const = default;
};

class SubscriptionTree {
 public:
  explicit SubscriptionTree(TreeLimits limits = {});
  ~SubscriptionTree();
  SubscriptionTree(SubscriptionTree&&) noexcept;
  SubscriptionTree& operator=(SubscriptionTree&&) noexcept;
  SubscriptionTree(const SubscriptionTree&) = delete;
  SubscriptionTree& operator=(const SubscriptionTree&) = delete;

  SubscribeOutcome subscribe(std::string_view filter, SubscriberId id, QoS granted);
  bool unsubscribe(std::string_view filter, SubscriberId id);  // false: there was none
  std::size_t remove_all(SubscriberId id);                     // how many were removed

  // The subscribers whose filters match the topic name, once each, at the highest QoS among
  // their matching filters (3.3.5 allows a single delivery for overlapping subscriptions),
  // sorted by id. Empty for an invalid topic name.
  std::vector<Subscriber> match(std::string_view topic_name) const;

  std::vector<std::string> filters_of(SubscriberId id) const;  // sorted
  std::size_t size() const noexcept { return size_; }          // (subscriber, filter) pairs
  std::size_t node_count() const noexcept { return nodes_; }   // the root excluded

 private:
  using Node = detail::SubscriptionNode;
  Node* find_node(std::string_view filter) const;
  Node& make_path(std::string_view filter);
  void prune(std::string_view filter);
  bool erase(std::string_view filter, SubscriberId id);

  TreeLimits limits_;
  std::unique_ptr<Node> root_;
  std::unordered_map<SubscriberId, std::set<std::string, std::less<>>> filters_;
  std::size_t size_ = 0;
  std::size_t nodes_ = 0;
};

}  // namespace mqtt
