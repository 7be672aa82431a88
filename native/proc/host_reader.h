// One host sample from kept-open /proc files: memory, CPU (with utilization since the previous
// sample of this reader), load, uptime, PSI, the cgroup of a process, and filesystems.
// Each part that cannot be read here (no PSI, no cgroup mount, EACCES) carries its error instead.
// Thread: sample() locks a mutex, so one reader may be shared by the JS thread and a worker.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cgroup.h"
#include "clock.h"
#include "cpu_stat.h"
#include "filesystem.h"
#include "kept_open_file.h"
#include "loadavg.h"
#include "meminfo.h"
#include "psi.h"
#include "sys_error.h"

namespace ovn {

struct HostOptions {
  bool cpu = true, perCpu = true, memory = true, load = true, psi = true, cgroup = true;
  int cgroupPid = 0;               // 0 = this process
  std::vector<std::string> paths;  // filesystems to statvfs
};

struct PerCpuUtilization {
  int cpu = -1;
  CpuUtilization util;
};

struct HostSample {
  double timeMs = 0;         // wall clock (ms since the epoch)
  uint64_t monotonicNs = 0;  // CLOCK_MONOTONIC
  Sourced<MemInfo> memory;
  Sourced<CpuStat> cpu;
  bool hasUtilization = false;
  CpuUtilization utilization;
  std::vector<PerCpuUtilization> perCpuUtilization;
  double utilizationIntervalSec = 0;
  Sourced<LoadAvg> load;
  Sourced<Uptime> uptime;
  Sourced<Psi> psiCpu, psiMemory, psiIo;
  Sourced<CgroupSample> cgroup;
  std::vector<Sourced<FsUsage>> filesystems;
};

class HostReader {
 public:
  // Fills `out`, which may be the previous sample's (its vectors' capacity is reused); parts not
  // asked for are reset, so nothing of an earlier sample shows through.
  void sample(const HostOptions& opts, HostSample& out);
  // Forget the previous CPU sample (the next sample has no utilization).
  void resetCpuBaseline();

 private:
  void sampleCgroup(int pid, Sourced<CgroupSample>& out);
  std::mutex mu_;
  // The host files, each its own kept-open member: a lookup by path in a map cost a std::string
  // (a malloc for the longer /proc/pressure/* names) per file per sample.
  KeptOpenFile meminfo_{"/proc/meminfo"}, stat_{"/proc/stat"}, loadavg_{"/proc/loadavg"}, uptime_{"/proc/uptime"};
  KeptOpenFile psiCpu_{"/proc/pressure/cpu"}, psiMemory_{"/proc/pressure/memory"}, psiIo_{"/proc/pressure/io"};
  std::string buf_;    // /proc/<pid>/cgroup, kept to compare with the next sample's
  std::string spill_;  // a host file longer than one read (never seen for these files)
  CpuStat prevCpu_;
  bool hasPrevCpu_ = false;
  uint64_t prevCpuNs_ = 0;
  // /proc/<pid>/cgroup kept open for the pid asked about (one pread a sample instead of
  // open/read/close); re-opened when another pid is asked for, or when the read fails (the process
  // ended: a reused pid is then read afresh, as "that pid" means).
  std::unique_ptr<KeptOpenFile> cgroupFile_;
  int cgroupFilePid_ = -1;
  // Cgroup paths are resolved again only when /proc/<pid>/cgroup changes.
  int cgroupPid_ = -1;
  std::string cgroupKey_;
  CgroupPaths cgroupPaths_;
  CgroupFileCache cgroupFiles_;  // points into cgroupPaths_: cleared when it is re-resolved
};

}  // namespace ovn
