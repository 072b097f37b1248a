#pragma once
// The load generators' latency histogram (bench_loadgen, mqtt_fanout). One fixed array,
// allocated once: recording a sample never allocates, and quantisation error stays under 1%.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bench {

// Log-linear: values below 128 exactly, then 128 linear sub-buckets per power of two.
class Histogram {
 public:
  static constexpr unsigned sub_bits = 7;
  static constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;

  Histogram() : counts_(64 * sub_count, 0) {}

  void record(std::uint64_t v) {
    ++counts_[index(v)];
    ++total_;
    max_ = std::max(max_, v);
  }

  void merge(const Histogram& other) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    max_ = std::max(max_, other.max_);
  }

  [[nodiscard]] std::uint64_t total() const { return total_; }
  [[nodiscard]] std::uint64_t max() const { return max_; }

  // The value at quantile q (0..1): midpoint of the bucket holding it, capped at the max.
  [[nodiscard]] std::uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
    target = std::clamp<std::uint64_t>(target, 1, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= target) return std::min(midpoint(i), max_);
    }
    return max_;
  }

 private:
  static std::size_t index(std::uint64_t v) {
    if (v < sub_count) return static_cast<std::size_t>(v);
    const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= sub_bits
    const unsigned shift = e - sub_bits;
    return static_cast<std::size_t>((shift + 1) * sub_count + ((v >> shift) & (sub_count - 1)));
  }
  static std::uint64_t midpoint(std::size_t i) {
    if (i < sub_count) return i;
    const std::uint64_t shift = i / sub_count - 1;
    const std::uint64_t low = (sub_count + i % sub_count) << shift;
    return low + ((std::uint64_t{1} << shift) >> 1);
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace bench
