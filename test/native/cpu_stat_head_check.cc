// Compares the sampler's /proc/stat parse (parseCpuStatHead) with the general one (parseCpuStat)
// on the text in the file argv[1]: prints "ok user=... idle=... ctxt=... running=... blocked=..."
// (or "rejected") when the result and every field the sampler uses agree, or the first difference
// and exits 1.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "../../native/proc/cpu_stat.h"
#include "../../native/sampler/cpu_stat_head.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  ovn::CpuStat full;
  ovn::CpuStatHead head;
  bool okFull = ovn::parseCpuStat(text, full);
  bool okHead = ovn::parseCpuStatHead(text, head);
  if (okFull != okHead) {
    std::printf("result differs: full=%d head=%d\n", okFull, okHead);
    return 1;
  }
  const ovn::CpuTimes &a = full.all, &b = head.all;
  struct {
    const char* name;
    unsigned long long x, y;
  } fields[] = {{"user", a.user, b.user},
                {"nice", a.nice, b.nice},
                {"system", a.system, b.system},
                {"idle", a.idle, b.idle},
                {"iowait", a.iowait, b.iowait},
                {"irq", a.irq, b.irq},
                {"softirq", a.softirq, b.softirq},
                {"steal", a.steal, b.steal},
                {"guest", a.guest, b.guest},
                {"guestNice", a.guestNice, b.guestNice},
                {"ctxt", full.ctxt, head.ctxt},
                {"procsRunning", full.procsRunning, head.procsRunning},
                {"procsBlocked", full.procsBlocked, head.procsBlocked}};
  for (const auto& f : fields) {
    if (f.x != f.y) {
      std::printf("%s differs: full=%llu head=%llu\n", f.name, f.x, f.y);
      return 1;
    }
  }
  std::printf("%s user=%llu idle=%llu steal=%llu ctxt=%llu running=%llu blocked=%llu\n", okHead ? "ok" : "rejected",
              (unsigned long long)b.user, (unsigned long long)b.idle, (unsigned long long)b.steal,
              (unsigned long long)head.ctxt, (unsigned long long)head.procsRunning,
              (unsigned long long)head.procsBlocked);
  return 0;
}
