#pragma once
// Topic names and topic filters (4.7). A topic is a '/'-separated list of levels; levels may
// be empty ("a//b" has three levels, "/a" starts with an empty one). Filters may use the
// wildcards '+' (exactly one level) and '#' (any number of trailing levels, even none).

#include <string_view>

namespace mqtt {

// A topic name (what PUBLISH carries): 1..65535 bytes of valid UTF-8 (1.5.3, 4.7.3-1, 4.7.3-3)
// with no wildcard characters (3.3.2-2, 4.7.1-1).
bool valid_topic_name(std::string_view name) noexcept;

// A topic filter (what SUBSCRIBE carries): 1..65535 bytes of valid UTF-8; '#' only as a whole
// level and the last one (4.7.1-2); '+' only as a whole level (4.7.1-3).
bool valid_topic_filter(std::string_view filter) noexcept;

// Whether the filter matches the topic name (4.7.1). Precondition: filter is a valid filter and
// name a valid name (otherwise the answer means nothing). A filter that starts with a wildcard
// does not match a name that starts with '$' (4.7.2-1). "sport/#" matches "sport"; "+" matches
// an empty level.
bool topic_matches(std::string_view filter, std::string_view name) noexcept;

// How many levels a topic has: one more than its '/' count.
std::size_t topic_level_count(std::string_view topic) noexcept;

// Walks a topic's levels without allocating: "a//b" gives "a", "", "b"; "" gives one empty
// level.
class LevelReader {
 public:
  explicit LevelReader(std::string_view topic) noexcept : rest_(topic) {}
  bool done() const noexcept { return done_; }
  std::string_view next() noexcept {  // precondition: !done()
    const auto slash = rest_.find('/');
    if (slash == std::string_view::npos) {
      done_ = true;
      return rest_;
    }
    const auto level = rest_.substr(0, slash);
    rest_.remove_prefix(slash + 1);
    return level;
  }

 private:
  std::string_view rest_;
  bool done_ = false;
};

}  // namespace mqtt
