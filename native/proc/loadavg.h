// /proc/loadavg and /proc/uptime.
#pragma once
#include <cstdint>
#include <string_view>

namespace ovn {

struct LoadAvg {
  double load1 = 0, load5 = 0, load15 = 0;
  uint64_t runnable = 0, threads = 0, lastPid = 0;
};

struct Uptime {
  double uptimeSec = 0, idleSec = 0;  // idle is summed over all CPUs
};

bool parseLoadAvg(std::string_view text, LoadAvg& out);
bool parseUptime(std::string_view text, Uptime& out);

}  // namespace ovn
