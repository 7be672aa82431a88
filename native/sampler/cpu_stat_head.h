// The sampler's /proc/stat parse: the aggregate "cpu" line, ctxt, procs_running and procs_blocked
// (what its CPU channels carry), skipping the per-CPU lines with one memchr each instead of
// parsing ten counters per CPU into a vector (parseCpuStat): on a 16-core node those were most of
// the parse, for values the sampler never reads.
// Thread: pure function.
#pragma once
#include <cstdint>
#include <string_view>

#include "../proc/cpu_stat.h"

namespace ovn {

struct CpuStatHead {
  CpuTimes all;
  uint64_t ctxt = 0, procsRunning = 0, procsBlocked = 0;
};

// Same values as parseCpuStat for these fields; false where it is false (no aggregate line).
bool parseCpuStatHead(std::string_view text, CpuStatHead& out);

}  // namespace ovn
