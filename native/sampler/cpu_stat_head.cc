#include "cpu_stat_head.h"

#include "../proc/parse_util.h"

namespace ovn {

bool parseCpuStatHead(std::string_view text, CpuStatHead& s) {
  s = CpuStatHead{};
  bool sawAll = false;
  const char* p = text.data();
  const char* end = p + text.size();
  // Line by line as parseCpuStat goes, so that both agree on any text.
  while (p < end) {
    if (end - p > 3 && p[0] == 'c' && p[1] == 'p' && p[2] == 'u') {
      if (p[3] == ' ') {
        p += 3;
        parseCpuTimes(p, end, s.all);
        sawAll = true;
      }
      // cpuN: not read.
    } else if (*p == 'c' && text.compare(static_cast<size_t>(p - text.data()), 5, "ctxt ") == 0) {
      p += 5;
      s.ctxt = parseU64(p, end);
    } else if (*p == 'p') {
      std::string_view k = nextToken(p, end);
      if (k == "procs_running")
        s.procsRunning = parseU64(p, end);
      else if (k == "procs_blocked")
        s.procsBlocked = parseU64(p, end);
    }
    skipToNextLine(p, end);
  }
  return sawAll;
}

}  // namespace ovn
