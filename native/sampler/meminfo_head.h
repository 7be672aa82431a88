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

}  // namespace ovn
