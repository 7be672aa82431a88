// /proc/stat: CPU jiffies (aggregate and per CPU) and scheduler counters.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace ovn {

struct CpuTimes {
  int cpu = -1;  // -1 for the aggregate line
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  uint64_t guest = 0, guestNice = 0;
  // guest and guest_nice are already counted in user and nice, so they are not added again.
  uint64_t total() const { return user + nice + system + idle + iowait + irq + softirq + steal; }
};

struct CpuStat {
  CpuTimes all;
  std::vector<CpuTimes> perCpu;
  uint64_t ctxt = 0, processes = 0, procsRunning = 0, procsBlocked = 0, btime = 0;
};

// Fractions of the interval between two samples, each in [0, 1].
struct CpuUtilization {
  double busy = 0, user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0, guest = 0;
  uint64_t deltaJiffies = 0;
};

bool parseCpuStat(std::string_view text, CpuStat& out);
// The ten counters of one "cpu" line, from just after its label; `p` ends past them.
void parseCpuTimes(const char*& p, const char* end, CpuTimes& t);

// busy = total - idle - iowait over the delta; counters that went backwards (CPU hot-unplug,
// virtualization glitches) count as 0. Returns false when no time passed.
bool cpuUtilization(const CpuTimes& prev, const CpuTimes& cur, CpuUtilization& out);

}  // namespace ovn
