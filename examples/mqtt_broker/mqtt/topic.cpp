#include "mqtt/topic.hpp"

#include <algorithm>

#include "mqtt/types.hpp"
#include "mqtt/utf8.hpp"

namespace mqtt {

namespace {

bool valid_topic_string(std::string_view s) noexcept {
  return !s.empty() && s.size() <= max_string_length && valid_utf8(s);  // 4.7.3-1, 4.7.3-3
}

bool valid_filter_level(std::string_view level, bool last) noexcept {
  if (level.find('#') != std::string_view::npos) return level == "#" && last;  // 4.7.1-2
  if (level.find('+') != std::string_view::npos) return level == "+";          // 4.7.1-3
  return true;
}

bool starts_with_wildcard(std::string_view filter) noexcept {
  return !filter.empty() && (filter.front() == '+' || filter.front() == '#');
}

}  // namespace

bool valid_topic_name(std::string_view name) noexcept {
  return valid_topic_string(name) && name.find_first_of("+#") == std::string_view::npos;
}

bool valid_topic_filter(std::string_view filter) noexcept {
  if (!valid_topic_string(filter)) return false;
  LevelReader levels(filter);
  while (!levels.done()) {
    const auto level = levels.next();
    if (!valid_filter_level(level, levels.done())) return false;
  }
  return true;
}

bool topic_matches(std::string_view filter, std::string_view name) noexcept {
  if (!name.empty() && name.front() == '$' && starts_with_wildcard(filter)) return false;  // 4.7.2-1
  LevelReader f(filter);
  LevelReader n(name);
  while (!f.done()) {
    const auto level = f.next();
    if (level == "#") return true;  // the parent level and any number of children (4.7.1.2)
    if (n.done()) return false;
    const auto name_level = n.next();
    if (level != "+" && level != name_level) return false;
  }
  return n.done();
}

std::size_t topic_level_count(std::string_view topic) noexcept {
  return 1 + static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '/'));
}

}  // namespace mqtt
