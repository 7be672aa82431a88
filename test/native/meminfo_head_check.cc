// Compares the sampler's early-stopping /proc/meminfo parse (parseMemInfoHead) with the full one
// (parseMemInfo) on the text of each file named in argv, in turn: prints
// "ok total=... available=... swapTotal=... swapFree=..." per file when every field agrees, or the
// first difference and exits 1. Each file is also parsed with the line offsets the previous files
// left (the sampler's per-read path), which must agree too; "offsets kept" or "offsets re-read"
// says which way that parse went.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "../../native/proc/meminfo.h"
#include "../../native/sampler/meminfo_head.h"

static std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

static bool same(const char* what, const ovn::MemInfoHead& x, const ovn::MemInfoHead& y) {
  struct {
    const char* name;
    unsigned long long a, b;
  } fields[] = {{"total", x.total, y.total},
                {"available", x.available, y.available},
                {"swapTotal", x.swapTotal, y.swapTotal},
                {"swapFree", x.swapFree, y.swapFree},
                {"used", x.used(), y.used()}};
  for (const auto& f : fields) {
    if (f.a != f.b) {
      std::printf("%s: %s differs: %llu vs %llu\n", what, f.name, f.a, f.b);
      return false;
    }
  }
  return true;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  ovn::MemInfoOffsets offsets;
  for (int i = 1; i < argc; ++i) {
    const std::string text = slurp(argv[i]);
    ovn::MemInfo full;
    ovn::MemInfoHead head, viaOffsets;
    bool okFull = ovn::parseMemInfo(text, full);
    bool okHead = ovn::parseMemInfoHead(text, head);
    const ovn::MemInfoOffsets before = offsets;
    bool okOffsets = ovn::parseMemInfoHead(text, viaOffsets, offsets);
    if (okFull != okHead || okHead != okOffsets) {
      std::printf("result differs: full=%d head=%d offsets=%d\n", okFull, okHead, okOffsets);
      return 1;
    }
    ovn::MemInfoHead fromFull;
    fromFull.total = full.total, fromFull.available = full.available;
    fromFull.swapTotal = full.swapTotal, fromFull.swapFree = full.swapFree;
    if (!same("head vs full", fromFull, head) || !same("offsets vs head", head, viaOffsets)) return 1;
    const bool kept = before.valid && before.total == offsets.total && before.available == offsets.available &&
                      before.swapTotal == offsets.swapTotal && before.swapFree == offsets.swapFree;
    std::printf("%s total=%llu available=%llu swapTotal=%llu swapFree=%llu offsets %s\n", okHead ? "ok" : "rejected",
                static_cast<unsigned long long>(head.total), static_cast<unsigned long long>(head.available),
                static_cast<unsigned long long>(head.swapTotal), static_cast<unsigned long long>(head.swapFree),
                kept ? "kept" : "re-read");
  }
  return 0;
}
