// /proc/meminfo, in bytes.
#pragma once
#include <cstdint>
#include <string_view>

namespace ovn {

struct MemInfo {
  uint64_t total = 0, free = 0, available = 0, buffers = 0, cached = 0, swapCached = 0;
  uint64_t active = 0, inactive = 0, sReclaimable = 0, sUnreclaim = 0, shmem = 0, anon = 0;
  uint64_t mapped = 0, dirty = 0, writeback = 0, swapTotal = 0, swapFree = 0;
  uint64_t commitLimit = 0, committedAs = 0;
  uint64_t hugePagesTotal = 0, hugePagesFree = 0, hugePagesRsvd = 0, hugePageSize = 0;
  bool hasAvailable = false;  // MemAvailable exists since Linux 3.14; estimated otherwise
  // used = total - available, as free(1) and psutil >= 7.1 compute it.
  uint64_t used() const { return total > available ? total - available : 0; }
};

// Parses the text of /proc/meminfo. Returns false if MemTotal is missing.
bool parseMemInfo(std::string_view text, MemInfo& out);

}  // namespace ovn
