#include "meminfo_head.h"

#include <cstring>

#include "../proc/parse_util.h"

namespace ovn {

bool parseMemInfoHead(std::string_view text, MemInfoHead& m) {
  m = MemInfoHead{};
  // Fallback inputs for kernels without MemAvailable.
  uint64_t memFree = 0, buffers = 0, cached = 0, sReclaimable = 0;
  enum : unsigned { kTotal = 1, kAvailable = 2, kSwapTotal = 4, kSwapFree = 8, kAll = 15 };
  unsigned seen = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end && seen != kAll) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* lineEnd = nl ? nl : end;
    const char* next = nl ? nl + 1 : end;
    const char* colon = static_cast<const char*>(std::memchr(p, ':', static_cast<size_t>(lineEnd - p)));
    if (!colon) {
      p = next;
      continue;
    }
    std::string_view k(p, static_cast<size_t>(colon - p));
    p = colon + 1;
    uint64_t v = parseU64(p, lineEnd);
    skipSpaces(p, lineEnd);
    if (p + 1 < lineEnd && p[0] == 'k' && p[1] == 'B') v *= 1024;
    p = next;
    if (k == "MemTotal") {
      m.total = v;
      seen |= kTotal;
    } else if (k == "MemAvailable") {
      m.available = v;
      seen |= kAvailable;
    } else if (k == "SwapTotal") {
      m.swapTotal = v;
      seen |= kSwapTotal;
    } else if (k == "SwapFree") {
      m.swapFree = v;
      seen |= kSwapFree;
    } else if (k == "MemFree") {
      memFree = v;
    } else if (k == "Buffers") {
      buffers = v;
    } else if (k == "Cached") {
      cached = v;
    } else if (k == "SReclaimable") {
      sReclaimable = v;
    }
  }
  if (!(seen & kAvailable)) m.available = memFree + cached + buffers + sReclaimable;  // as parseMemInfo does
  return (seen & kTotal) != 0;
}

}  // namespace ovn
