// The sampler's /proc/meminfo parse: only the four fields its memory channels carry (MemTotal,
// MemAvailable, SwapTotal, SwapFree), stopping at the last of them (SwapFree is about line 16 of
// 55). At 1 kHz the full parse (parseMemInfo, ~20 fields to the end of the file) was the sampler
// thread's largest user-space cost after the read itself.
// Thread: pure function.
#pragma once
#include <cstdint>
#include <string_view>

namespace ovn {

struct MemInfoHead {
  uint64_t total = 0, available = 0, swapTotal = 0, swapFree = 0;
  uint64_t used() const { return total > available ? total - available : 0; }
};

// Same values as parseMemInfo for these fields, including its estimate of MemAvailable on
// pre-3.14 kernels (then the whole file is read for SReclaimable). False if MemTotal is missing.
bool parseMemInfoHead(std::string_view text, MemInfoHead& out);

// Where the four lines began in the previous read. The kernel prints /proc/meminfo in a fixed
// order and width ("%8lu kB"), so the lines stay put from one read to the next unless a value
// grows past eight digits or the kernel changes: a line is taken at its old offset only when its
// key is still there at a line start, and any miss re-parses the whole head and records it again.
struct MemInfoOffsets {
  bool valid = false;
  uint32_t total = 0, available = 0, swapTotal = 0, swapFree = 0;
};

// parseMemInfoHead, reading the four lines at `offsets` when they still hold their keys (a handful
// of byte compares instead of scanning ~16 lines), and updating `offsets` otherwise. Same values
// and result as parseMemInfoHead on every text in which each key appears once, as the kernel
// prints it.
bool parseMemInfoHead(std::string_view text, MemInfoHead& out, MemInfoOffsets& offsets);

}  // namespace ovn
