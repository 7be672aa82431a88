// Cgroup limits and usage of a process, for cgroup v1, v2 and the hybrid layout (v1 controllers
// with a controller-less v2 tree at /sys/fs/cgroup/unified), as HPC clusters run all three.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kept_open_file.h"
#include "psi.h"
#include "sys_error.h"

namespace ovn {

constexpr uint64_t kUnlimited = UINT64_MAX;

// Where a process's cgroups live on this machine's mounts.
struct CgroupPaths {
  std::string layout;        // "v1", "v2" or "hybrid"
  std::string v2Dir;         // absolute dir in the cgroup2 mount, "" if none
  std::string v2Path;        // path as /proc/<pid>/cgroup names it
  std::string v1MemoryDir;   // memory controller dir, "" if none
  std::string v1CpuDir;      // cpu controller dir (cfs quota), "" if none
  std::string v1CpuacctDir;  // cpuacct controller dir, "" if none
};

// Parses /proc/<pid>/cgroup together with /proc/self/mountinfo.
bool resolveCgroupPaths(std::string_view procCgroup, std::string_view mountinfo, CgroupPaths& out);

struct FieldError {
  std::string field;
  SysError error;
};

struct CgroupMemory {
  std::string source;  // "v1" or "v2"; "" if no memory controller is reachable
  uint64_t usage = 0, limit = kUnlimited, high = kUnlimited, swapUsage = 0, swapLimit = kUnlimited;
  uint64_t failcnt = 0, maxUsage = 0;
  // memory.events (v2) or memory.oom_control (v1)
  uint64_t eventsLow = 0, eventsHigh = 0, eventsMax = 0, eventsOom = 0, eventsOomKill = 0;
  bool underOom = false;
  // memory.stat: page cache that can be reclaimed does not count toward a leak or an OOM
  uint64_t anon = 0, file = 0, inactiveFile = 0, activeFile = 0, shmem = 0;
  bool hasUsage = false, hasLimit = false, hasHigh = false, hasEvents = false, hasStat = false;
  bool hasFailcnt = false, hasSwap = false;
  // usage minus inactive file pages, as cAdvisor and the kubelet compute it
  uint64_t workingSet() const { return usage > inactiveFile ? usage - inactiveFile : 0; }
};

struct CgroupCpu {
  std::string source;
  int64_t quotaUs = -1;  // -1 = unlimited
  uint64_t periodUs = 0;
  uint64_t nrPeriods = 0, nrThrottled = 0, throttledUs = 0, usageUs = 0;
  bool hasQuota = false, hasStat = false, hasUsage = false;
};

struct CgroupSample {
  CgroupPaths paths;
  CgroupMemory memory;
  CgroupCpu cpu;
  Psi cpuPressure, memoryPressure, ioPressure;  // cgroup v2 only
  bool hasCpuPressure = false, hasMemoryPressure = false, hasIoPressure = false;
  std::vector<FieldError> errors;  // what could not be read, and why
};

// Kept-open cgroup files, found by (directory, file name) pointers rather than by building and
// hashing the full path every sample. Clear it whenever the CgroupPaths it points into change.
class CgroupFileCache {
 public:
  KeptOpenFile& get(const std::string& dir, const char* name);
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    const std::string* dir;
    const char* name;
    std::unique_ptr<KeptOpenFile> file;
  };
  std::vector<Entry> entries_;
};

// Reads every cgroup file the paths point at. Missing files become entries in `errors`.
void readCgroup(CgroupFileCache& files, const CgroupPaths& paths, CgroupSample& out);

}  // namespace ovn
