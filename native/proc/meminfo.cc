#include "meminfo.h"

#include <cstring>

#include "parse_util.h"

namespace ovn {

bool parseMemInfo(std::string_view text, MemInfo& m) {
  m = MemInfo{};
  const char* p = text.data();
  const char* end = p + text.size();
  bool sawTotal = false;
  while (p < end) {
    // The line's end first, then its colon within it: each byte is looked at once.
    const char* key = p;
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* lineEnd = nl ? nl : end;
    const char* next = nl ? nl + 1 : end;
    const char* colon = static_cast<const char*>(std::memchr(p, ':', static_cast<size_t>(lineEnd - p)));
    if (!colon) {
      p = next;
      continue;
    }
    std::string_view k(key, static_cast<size_t>(colon - key));
    p = colon + 1;
    uint64_t v = parseU64(p, lineEnd);
    skipSpaces(p, lineEnd);
    // Values carry a "kB" unit except the HugePages_* counts.
    if (p + 1 < lineEnd && p[0] == 'k' && p[1] == 'B') v *= 1024;
    p = next;
    // Dispatch on the first letter to keep the comparison chain short.
    switch (k.empty() ? 0 : k[0]) {
      case 'M':
        if (k == "MemTotal") {
          m.total = v;
          sawTotal = true;
        } else if (k == "MemFree")
          m.free = v;
        else if (k == "MemAvailable") {
          m.available = v;
          m.hasAvailable = true;
        } else if (k == "Mapped")
          m.mapped = v;
        break;
      case 'B':
        if (k == "Buffers") m.buffers = v;
        break;
      case 'C':
        if (k == "Cached")
          m.cached = v;
        else if (k == "CommitLimit")
          m.commitLimit = v;
        else if (k == "Committed_AS")
          m.committedAs = v;
        break;
      case 'S':
        if (k == "SwapCached")
          m.swapCached = v;
        else if (k == "SReclaimable")
          m.sReclaimable = v;
        else if (k == "SUnreclaim")
          m.sUnreclaim = v;
        else if (k == "Shmem")
          m.shmem = v;
        else if (k == "SwapTotal")
          m.swapTotal = v;
        else if (k == "SwapFree")
          m.swapFree = v;
        break;
      case 'A':
        if (k == "Active")
          m.active = v;
        else if (k == "AnonPages")
          m.anon = v;
        break;
      case 'I':
        if (k == "Inactive") m.inactive = v;
        break;
      case 'D':
        if (k == "Dirty") m.dirty = v;
        break;
      case 'W':
        if (k == "Writeback") m.writeback = v;
        break;
      case 'H':
        if (k == "HugePages_Total")
          m.hugePagesTotal = v;
        else if (k == "HugePages_Free")
          m.hugePagesFree = v;
        else if (k == "HugePages_Rsvd")
          m.hugePagesRsvd = v;
        else if (k == "Hugepagesize")
          m.hugePageSize = v;
        break;
      default:
        break;
    }
  }
  if (!m.hasAvailable) {
    // Pre-3.14 kernels: the same estimate psutil uses as a fallback.
    m.available = m.free + m.cached + m.buffers + m.sReclaimable;
  }
  return sawTotal;
}

}  // namespace ovn
