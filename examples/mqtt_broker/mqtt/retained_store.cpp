#include "mqtt/retained_store.hpp"

namespace mqtt {

RetainOutcome RetainedStore::set(std::string_view topic, std::span<const std::byte> payload,
                                 QoS qos) {
  if (!valid_topic_name(topic)) return RetainOutcome::invalid_topic;
  const auto it = messages_.find(topic);
  if (payload.empty()) {  // 3.3.1-10
    if (it != messages_.end()) {
      bytes_ -= cost(topic, it->second.payload.size());
      messages_.erase(it);
    }
    return RetainOutcome::deleted;
  }
  const bool exists = it != messages_.end();
  const std::size_t freed = exists ? cost(topic, it->second.payload.size()) : 0;
  if (!exists && messages_.size() >= limits_.max_messages) return RetainOutcome::too_many_messages;
  const std::size_t charged = bytes_ - freed + cost(topic, payload.size());
  if (charged > limits_.max_bytes) return RetainOutcome::over_budget;

  RetainedMessage message{{payload.begin(), payload.end()}, qos};
  if (exists) {
    it->second = std::move(message);
  } else {
    messages_.emplace(std::string(topic), std::move(message));
  }
  bytes_ = charged;
  return exists ? RetainOutcome::replaced : RetainOutcome::stored;
}

const RetainedMessage* RetainedStore::find(std::string_view topic) const {
  const auto it = messages_.find(topic);
  return it == messages_.end() ? nullptr : &it->second;
}

std::string_view RetainedStore::literal_prefix(std::string_view filter) noexcept {
  const auto wildcard = filter.find_first_of("+#");
  if (wildcard == std::string_view::npos) return filter;
  auto prefix = filter.substr(0, wildcard);
  if (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  return prefix;
}

}  // namespace mqtt
