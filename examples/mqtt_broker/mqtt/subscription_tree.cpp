#include "mqtt/subscription_tree.hpp"

#include <algorithm>
#include <map>

#include "mqtt/topic.hpp"

namespace mqtt {

namespace detail {
struct SubscriptionNode {
  using Node = SubscriptionNode;
  std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
  std::unordered_map<SubscriberId, QoS> subscribers;

  Node* child(std::string_view level) const {
    const auto it = children.find(level);
    return it == children.end() ? nullptr : it->second.get();
  }
  bool unused() const { return children.empty() && subscribers.empty(); }
};
}  // namespace detail

namespace {

using Node = detail::SubscriptionNode;

void add_all(const Node& node, std::vector<Subscriber>& out) {
  for (const auto& [id, qos] : node.subscribers) out.push_back({id, qos});
}

// skip_wildcards: at the root for a name starting with '$' (4.7.2-1).
void collect(const Node& node, LevelReader levels, bool skip_wildcards,
             std::vector<Subscriber>& out) {
  if (!skip_wildcards) {
    if (const Node* hash = node.child("#")) add_all(*hash, out);  // "#" also matches no level
  }
  if (levels.done()) {
    add_all(node, out);
    return;
  }
  const auto level = levels.next();
  if (const Node* exact = node.child(level)) collect(*exact, levels, false, out);
  if (!skip_wildcards) {
    if (const Node* plus = node.child("+")) collect(*plus, levels, false, out);
  }
}

// One entry per subscriber, at its highest QoS.
void keep_max_per_subscriber(std::vector<Subscriber>& v) {
  std::sort(v.begin(), v.end(), [](const Subscriber& a, const Subscriber& b) {
    return a.id != b.id ? a.id < b.id : a.qos > b.qos;
  });
  const auto same_id = [](const Subscriber& a, const Subscriber& b) { return a.id == b.id; };
  v.erase(std::unique(v.begin(), v.end(), same_id), v.end());
}

}  // namespace

SubscriptionTree::SubscriptionTree(TreeLimits limits)
    : limits_(limits), root_(std::make_unique<Node>()) {}
SubscriptionTree::~SubscriptionTree() = default;
SubscriptionTree::SubscriptionTree(SubscriptionTree&&) noexcept = default;
SubscriptionTree& SubscriptionTree::operator=(SubscriptionTree&&) noexcept = default;

detail::SubscriptionNode* SubscriptionTree::find_node(std::string_view filter) const {
  Node* node = root_.get();
  LevelReader levels(filter);
  while (node != nullptr && !levels.done()) node = node->child(levels.next());
  return node;
}

detail::SubscriptionNode& SubscriptionTree::make_path(std::string_view filter) {
  Node* node = root_.get();
  LevelReader levels(filter);
  while (!levels.done()) {
    const auto level = levels.next();
    Node* next = node->child(level);
    if (next == nullptr) {
      auto& slot = node->children[std::string(level)];
      slot = std::make_unique<Node>();
      ++nodes_;
      next = slot.get();
    }
    node = next;
  }
  return *node;
}

SubscribeOutcome SubscriptionTree::subscribe(std::string_view filter, SubscriberId id, QoS granted) {
  if (!valid_topic_filter(filter)) return SubscribeOutcome::invalid_filter;
  if (topic_level_count(filter) > limits_.max_levels) return SubscribeOutcome::too_many_levels;
  const auto mine = filters_.find(id);
  if (mine != filters_.end() && mine->second.contains(filter)) {
    find_node(filter)->subscribers[id] = granted;  // 3.8.4-3: replace, keep one subscription
    return SubscribeOutcome::replaced;
  }
  const std::size_t own = mine == filters_.end() ? 0 : mine->second.size();
  if (size_ >= limits_.max_subscriptions || own >= limits_.max_per_subscriber) {
    return SubscribeOutcome::limit_reached;
  }
  make_path(filter).subscribers[id] = granted;
  filters_[id].emplace(filter);
  ++size_;
  return SubscribeOutcome::added;
}

// Removes the nodes of the filter's path that no longer hold anything, deepest first.
void SubscriptionTree::prune(std::string_view filter) {
  std::vector<std::pair<Node*, std::string_view>> path;  // (parent, level of the child)
  Node* node = root_.get();
  LevelReader levels(filter);
  while (node != nullptr && !levels.done()) {
    const auto level = levels.next();
    path.emplace_back(node, level);
    node = node->child(level);
  }
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    auto child = it->first->children.find(it->second);
    if (child == it->first->children.end() || !child->second->unused()) return;
    it->first->children.erase(child);
    --nodes_;
  }
}

bool SubscriptionTree::erase(std::string_view filter, SubscriberId id) {
  Node* node = find_node(filter);
  if (node == nullptr || node->subscribers.erase(id) == 0) return false;
  --size_;
  prune(filter);
  return true;
}

bool SubscriptionTree::unsubscribe(std::string_view filter, SubscriberId id) {
  const auto mine = filters_.find(id);
  if (mine == filters_.end()) return false;
  const auto entry = mine->second.find(filter);
  if (entry == mine->second.end()) return false;
  erase(filter, id);
  mine->second.erase(entry);
  if (mine->second.empty()) filters_.erase(mine);
  return true;
}

std::size_t SubscriptionTree::remove_all(SubscriberId id) {
  const auto mine = filters_.find(id);
  if (mine == filters_.end()) return 0;
  std::size_t removed = 0;
  for (const auto& filter : mine->second) removed += erase(filter, id) ? 1 : 0;
  filters_.erase(mine);
  return removed;
}

std::vector<Subscriber> SubscriptionTree::match(std::string_view topic_name) const {
  std::vector<Subscriber> out;
  if (!valid_topic_name(topic_name)) return out;
  collect(*root_, LevelReader(topic_name), topic_name.front() == '$', out);
  keep_max_per_subscriber(out);
  return out;
}

std::vector<std::string> SubscriptionTree::filters_of(SubscriberId id) const {
  const auto mine = filters_.find(id);
  if (mine == filters_.end()) return {};
  return {mine->second.begin(), mine->second.end()};
}

}  // namespace mqtt
