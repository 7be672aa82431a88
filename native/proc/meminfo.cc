#include "meminfo.h"

#include <cstring>

#include "parse_util.h"

namespace ovn {

namespace {

// The field a key names, or null for the ~30 keys we skip. Dispatched on the key's length first,
// so most lines cost one switch and at most a few short compares.
uint64_t MemInfo::*fieldOf(const char* key, size_t len) {
// A compare of constant length, which the compiler inlines (a memcmp call per key cost more).
#define is(name) (std::memcmp(key, name, sizeof(name) - 1) == 0)
  switch (len) {
    case 5:
      return is("Shmem") ? &MemInfo::shmem : is("Dirty") ? &MemInfo::dirty : nullptr;
    case 6:
      return is("Cached")   ? &MemInfo::cached
             : is("Active") ? &MemInfo::active
             : is("Mapped") ? &MemInfo::mapped
                            : nullptr;
    case 7:
      return is("MemFree") ? &MemInfo::free : is("Buffers") ? &MemInfo::buffers : nullptr;
    case 8:
      return is("MemTotal")   ? &MemInfo::total
             : is("Inactive") ? &MemInfo::inactive
             : is("SwapFree") ? &MemInfo::swapFree
                              : nullptr;
    case 9:
      return is("AnonPages")   ? &MemInfo::anon
             : is("Writeback") ? &MemInfo::writeback
             : is("SwapTotal") ? &MemInfo::swapTotal
                               : nullptr;
    case 10:
      return is("SwapCached") ? &MemInfo::swapCached : is("SUnreclaim") ? &MemInfo::sUnreclaim : nullptr;
    case 11:
      return is("CommitLimit") ? &MemInfo::commitLimit : nullptr;
    case 12:
      return is("MemAvailable")   ? &MemInfo::available
             : is("SReclaimable") ? &MemInfo::sReclaimable
             : is("Committed_AS") ? &MemInfo::committedAs
             : is("Hugepagesize") ? &MemInfo::hugePageSize
                                  : nullptr;
    case 14:
      return is("HugePages_Free") ? &MemInfo::hugePagesFree : is("HugePages_Rsvd") ? &MemInfo::hugePagesRsvd : nullptr;
    case 15:
      return is("HugePages_Total") ? &MemInfo::hugePagesTotal : nullptr;
    default:
      return nullptr;
  }
#undef is
}

}  // namespace

bool parseMemInfo(std::string_view text, MemInfo& m) {
  m = MemInfo{};
  const char* p = text.data();
  const char* end = p + text.size();
  bool sawTotal = false;
  // The key's field is looked up before its value is parsed: most lines are skipped unparsed.
  while (p < end) {
    const char* key = p;
    const char* colon = static_cast<const char*>(std::memchr(p, ':', static_cast<size_t>(end - p)));
    if (!colon) break;
    // A key we keep has no line break in it; anything else (a key we skip, or a line without a
    // colon, whose "key" then runs into the next line) resumes after the first line break.
    uint64_t MemInfo::*f = fieldOf(key, static_cast<size_t>(colon - key));
    if (!f) {
      skipToNextLine(p, end);
      continue;
    }
    p = colon + 1;
    uint64_t v = parseU64(p, end);
    skipSpaces(p, end);
    // Values carry a "kB" unit except the HugePages_* counts.
    if (end - p >= 2 && p[0] == 'k' && p[1] == 'B') v *= 1024;
    skipToNextLine(p, end);
    m.*f = v;
    if (f == &MemInfo::total) sawTotal = true;
    if (f == &MemInfo::available) m.hasAvailable = true;
  }
  if (!m.hasAvailable) {
    // Pre-3.14 kernels: the same estimate psutil uses as a fallback.
    m.available = m.free + m.cached + m.buffers + m.sReclaimable;
  }
  return sawTotal;
}

}  // namespace ovn
