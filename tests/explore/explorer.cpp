#include "explore/explorer.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace wireframe::explore {

std::size_t ExhaustiveSchedule::choose(std::size_t n) {
  if (depth_ < path_.size()) {
    if (path_[depth_].of != n) diverged_ = true;
    return path_[depth_++].taken % n;
  }
  const std::size_t used = std::count_if(path_.begin(), path_.end(), [](const Choice& c) { return c.taken != 0; });
  path_.push_back({0, n, used < max_deviations_ ? n : 1});
  ++depth_;
  return 0;
}

bool ExhaustiveSchedule::next() {
  // The deepest choice that has an untried alternative; everything below it starts afresh.
  while (!path_.empty() && path_.back().taken + 1 >= path_.back().limit) path_.pop_back();
  depth_ = 0;
  if (path_.empty()) return false;
  ++path_.back().taken;
  return true;
}

std::string ExhaustiveSchedule::trace() const {
  std::string out;
  for (const Choice& c : path_) out += fmt::format("{}{}/{}", out.empty() ? "" : " ", c.taken, c.of);
  return out;
}

Explorer::~Explorer() {
  closing_ = true;
  auto dropped = std::move(ready_);
}

void Explorer::pump() {
  if (io_.stopped()) io_.restart();
  io_.poll();
}

bool Explorer::idle() noexcept {
  pump();
  return ready_.empty();
}

std::size_t Explorer::run(Schedule& schedule, std::size_t max_steps) {
  std::size_t steps = 0;
  while (steps < max_steps) {
    pump();
    if (ready_.empty()) break;
    const std::size_t n = ready_.size();
    const std::size_t i = n == 1 ? 0 : schedule.choose(n);
    Task task = std::move(ready_[i]);
    ready_.erase(ready_.begin() + static_cast<std::ptrdiff_t>(i));
    task();
    ++steps;
  }
  return steps;
}

}  // namespace wireframe::explore
