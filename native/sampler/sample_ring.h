// A single-producer, single-consumer ring of fixed-width samples (timestamp + channel values),
// allocated once at start. The sampler thread pushes without locks; the JS thread reads batches
// and recent windows. A reader that falls behind loses the oldest samples (counted as dropped),
// and never sees a slot the writer is overwriting (positions are re-checked after copying).
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

namespace ovn {

class SampleRing {
 public:
  SampleRing(size_t capacity, size_t width) : cap_(capacity), width_(width), data_(capacity * (width + 1)) {}

  size_t width() const { return width_; }
  size_t capacity() const { return cap_; }
  uint64_t written() const { return head_.load(std::memory_order_acquire); }

  // Producer only.
  double* slot() { return &data_[(head_.load(std::memory_order_relaxed) % cap_) * (width_ + 1)]; }
  void commit() { head_.fetch_add(1, std::memory_order_release); }

  // Consumer: copies samples from `cursor` to the newest into out (timestamp first, then values);
  // advances cursor; returns how many were lost to overwriting.
  uint64_t readSince(uint64_t& cursor, std::vector<double>& out) const {
    uint64_t head = head_.load(std::memory_order_acquire);
    uint64_t lost = 0;
    if (head - cursor > cap_) {
      lost = head - cursor - cap_;
      cursor = head - cap_;
    }
    size_t n = static_cast<size_t>(head - cursor);
    out.resize(n * (width_ + 1));
    for (size_t i = 0; i < n; ++i) {
      const double* src = &data_[((cursor + i) % cap_) * (width_ + 1)];
      std::copy(src, src + width_ + 1, &out[i * (width_ + 1)]);
    }
    // Samples the writer may have overwritten while we copied are discarded.
    uint64_t after = head_.load(std::memory_order_acquire);
    if (after > cursor + cap_) {
      uint64_t bad = after - cap_ - cursor;
      if (bad >= n) {
        out.clear();
        lost += n;
      } else {
        out.erase(out.begin(), out.begin() + static_cast<long>(bad * (width_ + 1)));
        lost += bad;
      }
    }
    cursor = head;
    return lost;
  }

  // The newest up-to-`max` samples, without moving any cursor.
  void latest(size_t max, std::vector<double>& out) const {
    uint64_t head = written();
    uint64_t from = head > max ? head - max : 0;
    if (head - from > cap_) from = head - cap_;
    uint64_t cursor = from;
    readSince(cursor, out);
  }

 private:
  size_t cap_, width_;
  std::vector<double> data_;
  std::atomic<uint64_t> head_{0};
};

}  // namespace ovn
