#include "cpu_stat.h"

#include "parse_util.h"

namespace ovn {

void parseCpuTimes(const char*& p, const char* end, CpuTimes& t) {
  t.user = parseU64(p, end);
  t.nice = parseU64(p, end);
  t.system = parseU64(p, end);
  t.idle = parseU64(p, end);
  t.iowait = parseU64(p, end);
  t.irq = parseU64(p, end);
  t.softirq = parseU64(p, end);
  t.steal = parseU64(p, end);
  t.guest = parseU64(p, end);
  t.guestNice = parseU64(p, end);
}

bool parseCpuStat(std::string_view text, CpuStat& s) {
  // Every field reset, but the per-CPU vector keeps its capacity (the reader reuses `s`).
  s.all = CpuTimes{};
  s.perCpu.clear();
  s.ctxt = s.processes = s.procsRunning = s.procsBlocked = s.btime = 0;
  bool sawAll = false;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    if (end - p > 3 && p[0] == 'c' && p[1] == 'p' && p[2] == 'u') {
      p += 3;
      if (*p == ' ') {
        parseCpuTimes(p, end, s.all);
        sawAll = true;
      } else {
        CpuTimes t;
        t.cpu = static_cast<int>(parseU64(p, end));
        parseCpuTimes(p, end, t);
        s.perCpu.push_back(t);
      }
    } else if (*p == 'c' && text.compare(static_cast<size_t>(p - text.data()), 5, "ctxt ") == 0) {
      p += 5;
      s.ctxt = parseU64(p, end);
    } else if (*p == 'b' && text.compare(static_cast<size_t>(p - text.data()), 6, "btime ") == 0) {
      p += 6;
      s.btime = parseU64(p, end);
    } else if (*p == 'p') {
      std::string_view k = nextToken(p, end);
      if (k == "processes")
        s.processes = parseU64(p, end);
      else if (k == "procs_running")
        s.procsRunning = parseU64(p, end);
      else if (k == "procs_blocked")
        s.procsBlocked = parseU64(p, end);
    }
    skipToNextLine(p, end);
  }
  return sawAll;
}

static uint64_t d(uint64_t a, uint64_t b) { return b > a ? b - a : 0; }

bool cpuUtilization(const CpuTimes& a, const CpuTimes& b, CpuUtilization& u) {
  u = CpuUtilization{};
  uint64_t user = d(a.user, b.user), nice = d(a.nice, b.nice), system = d(a.system, b.system), idle = d(a.idle, b.idle),
           iowait = d(a.iowait, b.iowait), irq = d(a.irq, b.irq), softirq = d(a.softirq, b.softirq),
           steal = d(a.steal, b.steal), guest = d(a.guest, b.guest);
  uint64_t total = user + nice + system + idle + iowait + irq + softirq + steal;
  u.deltaJiffies = total;
  if (total == 0) return false;
  double t = static_cast<double>(total);
  u.user = user / t;
  u.nice = nice / t;
  u.system = system / t;
  u.idle = idle / t;
  u.iowait = iowait / t;
  u.irq = irq / t;
  u.softirq = softirq / t;
  u.steal = steal / t;
  u.guest = guest / t;
  u.busy = static_cast<double>(total - idle - iowait) / t;
  return true;
}

}  // namespace ovn
