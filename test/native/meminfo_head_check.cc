// Compares the sampler's early-stopping /proc/meminfo parse (parseMemInfoHead) with the full one
// (parseMemInfo) on the text given as argv[1] (a file path): prints
// "ok total=... available=... swapTotal=... swapFree=..." when every field agrees, or the first
// difference and exits 1.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "../../native/proc/meminfo.h"
#include "../../native/sampler/meminfo_head.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  ovn::MemInfo full;
  ovn::MemInfoHead head;
  bool okFull = ovn::parseMemInfo(text, full);
  bool okHead = ovn::parseMemInfoHead(text, head);
  if (okFull != okHead) {
    std::printf("result differs: full=%d head=%d\n", okFull, okHead);
    return 1;
  }
  struct {
    const char* name;
    unsigned long long a, b;
  } fields[] = {{"total", full.total, head.total},
                {"available", full.available, head.available},
                {"swapTotal", full.swapTotal, head.swapTotal},
                {"swapFree", full.swapFree, head.swapFree},
                {"used", full.used(), head.used()}};
  for (const auto& f : fields) {
    if (f.a != f.b) {
      std::printf("%s differs: full=%llu head=%llu\n", f.name, f.a, f.b);
      return 1;
    }
  }
  std::printf("%s total=%llu available=%llu swapTotal=%llu swapFree=%llu\n", okHead ? "ok" : "rejected",
              static_cast<unsigned long long>(head.total), static_cast<unsigned long long>(head.available),
              static_cast<unsigned long long>(head.swapTotal), static_cast<unsigned long long>(head.swapFree));
  return 0;
}
