// The whole process table in one scan, with per-pid stat/status fds kept open between scans
// (189 µs instead of 588 µs for 66 pids on these machines). A kept fd is bound to the process it
// was opened for: once that process is reaped, pread fails with ESRCH and the entry is re-opened,
// so a reused pid is never read through a stale fd.
// Thread: scan() may run on a worker thread; a mutex serializes scans of one table.
#pragma once
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kept_open_file.h"
#include "process.h"

namespace ovn {

class ProcessTable {
 public:
  ProcessTable();
  ~ProcessTable();
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;
  // Scans /proc. Pids that vanish mid-scan are skipped. With `onlyDescendantsOf` > 0, status and
  // the optional files are read only for that process's descendants (and it, with includeRoot):
  // a first pass reads stat alone to build the tree.
  SysError scan(const ProcessReadOptions& opts, std::vector<ProcessInfo>& out, int onlyDescendantsOf = 0,
                bool includeRoot = false);
  size_t cachedPids() const { return cache_.size(); }
  void clearCache();

 private:
  struct PidFiles {
    KeptOpenFile stat, status;
    uint32_t lastSeen = 0;
  };
  std::mutex mu_;
  // Whether one more pid may be kept open (takes a slot of the process-wide budget).
  bool takeSlot();
  void releaseSlots(size_t n);
  std::unordered_map<int, PidFiles> cache_;
  // Kept-open pids are counted process-wide (a monitor has several tables: its own, the default
  // one and the sampler's): together they hold at most half the fd limit.
  static std::atomic<size_t> keptPids_;
  size_t maxCachedPids_;
  uint32_t generation_ = 0;
  std::string buf_;
};

// Descendants of `root` (not including it), breadth first, from a table scan. A child whose
// starttime is before its parent's cannot be its child (the parent's pid was reused): skipped,
// as psutil does.
std::vector<const ProcessInfo*> descendantsOf(int root, const std::vector<ProcessInfo>& table);

}  // namespace ovn
