// Compares the sampler's /proc/<pid>/stat parse (parsePidStatHead) with the general one
// (parseProcStat) on each file named in argv: prints "ok state=... utime=... stime=...
// starttime=... rss=..." (or "rejected") per file when every field and the result agree, or the
// first difference and exits 1.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "../../native/proc/process.h"
#include "../../native/sampler/pid_stat_head.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) continue;  // a process that exited since it was listed
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    ovn::ProcessInfo full;
    ovn::PidStatHead head;
    bool okFull = ovn::parseProcStat(text, full);
    bool okHead = ovn::parsePidStatHead(text, head);
    if (okFull != okHead) {
      std::printf("%s: result differs: full=%d head=%d\n", argv[i], okFull, okHead);
      return 1;
    }
    if (okFull && (full.state != head.state || full.utime != head.utime || full.stime != head.stime ||
                   full.starttime != head.starttime || full.rss != head.rss)) {
      std::printf("%s: fields differ: full %c %llu %llu %llu %llu head %c %llu %llu %llu %llu\n", argv[i], full.state,
                  (unsigned long long)full.utime, (unsigned long long)full.stime, (unsigned long long)full.starttime,
                  (unsigned long long)full.rss, head.state, (unsigned long long)head.utime,
                  (unsigned long long)head.stime, (unsigned long long)head.starttime, (unsigned long long)head.rss);
      return 1;
    }
    std::printf("%s state=%c utime=%llu stime=%llu starttime=%llu rss=%llu\n", okHead ? "ok" : "rejected", head.state,
                (unsigned long long)head.utime, (unsigned long long)head.stime, (unsigned long long)head.starttime,
                (unsigned long long)head.rss);
  }
  return 0;
}
