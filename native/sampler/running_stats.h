// Per-channel statistics since the start of a run: count, min, max, mean, and percentiles from a
// fixed-size uniform reservoir (Vitter's algorithm R), so a run of any length costs the same memory.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace ovn {

class RunningStats {
 public:
  // The reservoir is allocated and zero-filled here, on the thread that builds the sampler, so the
  // sampling thread neither reallocates it while it fills (a copied vector keeps its size, not its
  // reserved capacity: Sampler's stats_.assign() used to leave every channel growing from zero)
  // nor takes the page faults of first touching it.
  explicit RunningStats(size_t reservoir = 4096) : cap_(reservoir), res_(reservoir, 0.0) {}

  void add(double v, uint64_t& rng) {
    if (std::isnan(v)) return;
    ++n_;
    sum_ += v;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    if (filled_ < cap_) {
      res_[filled_++] = v;
    } else {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      // A uniform index in [0, n_) by multiply-high (Lemire) instead of a 64-bit division:
      // every channel pays this every sample.
      uint64_t j = static_cast<uint64_t>((static_cast<unsigned __int128>(rng) * n_) >> 64);
      if (j < cap_) res_[j] = v;
    }
  }

  uint64_t count() const { return n_; }
  double min() const { return n_ ? min_ : NAN; }
  double max() const { return n_ ? max_ : NAN; }
  double mean() const { return n_ ? sum_ / static_cast<double>(n_) : NAN; }
  // q in [0, 1]; sorts a copy of the reservoir.
  double quantile(double q) const {
    return quantileOf(std::vector<double>(res_.begin(), res_.begin() + static_cast<std::ptrdiff_t>(filled_)), q);
  }

  static double quantileOf(std::vector<double> v, double q) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
    std::sort(v.begin(), v.end());
    return quantileOfSorted(v, q);
  }

  // q in [0, 1] of sorted values without NaN (linear interpolation between ranks).
  static double quantileOfSorted(const std::vector<double>& v, double q) {
    if (v.empty()) return NAN;
    double pos = q * static_cast<double>(v.size() - 1);
    size_t lo = static_cast<size_t>(pos);
    size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  }

 private:
  size_t cap_;
  uint64_t n_ = 0;
  double sum_ = 0, min_ = std::numeric_limits<double>::infinity(), max_ = -std::numeric_limits<double>::infinity();
  std::vector<double> res_;  // cap_ slots, the first filled_ of them in use
  size_t filled_ = 0;
};

}  // namespace ovn
