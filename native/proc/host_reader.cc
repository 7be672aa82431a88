#include "host_reader.h"

#include <cstdio>

namespace ovn {

void HostReader::resetCpuBaseline() {
  std::lock_guard<std::mutex> lock(mu_);
  hasPrevCpu_ = false;
}

// Parses the file where it was read (no copy) into the previous sample's value (no allocation:
// CpuStat's per-CPU vector keeps its capacity). Each parser sets every field it owns.
template <class T, class Parse>
static void readPart(KeptOpenFile& file, std::string& spill, Sourced<T>& out, Parse parse) {
  std::string_view text;
  SysError e = file.readView(text, spill);
  if (e.ok() && !parse(text, out.value)) e = SysError::fromErrno(EINVAL, "parse", file.path());
  if (!e.ok()) {
    out.value = T{};  // as a fresh sample has it: nothing of the previous one shows
    out.fail(std::move(e));
    return;
  }
  out.available = true;
  if (!out.error.ok()) out.error = SysError{};
}

// A part not asked for: as a fresh sample has it.
template <class T>
static void resetPart(Sourced<T>& part) {
  part.available = false;
  part.value = T{};
  if (!part.error.ok()) part.error = SysError{};
}

void HostReader::sampleCgroup(int pid, Sourced<CgroupSample>& out) {
  if (!cgroupFile_ || pid != cgroupFilePid_) {
    char path[64];
    if (pid > 0)
      std::snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
    else
      std::snprintf(path, sizeof path, "/proc/self/cgroup");
    cgroupFile_ = std::make_unique<KeptOpenFile>(path);
    cgroupFilePid_ = pid;
  }
  SysError e = cgroupFile_->read(buf_);
  if (!e.ok()) {
    out.value = CgroupSample{};
    if (e.err == ENOENT) e.err = ESRCH;
    e.pid = pid;
    out.fail(e);
    return;
  }
  if (pid != cgroupPid_ || buf_ != cgroupKey_) {
    std::string mountinfo;
    SysError me = readFileOnce("/proc/self/mountinfo", mountinfo, 4 << 20);
    if (!me.ok()) {
      out.value = CgroupSample{};
      out.fail(me);
      return;
    }
    CgroupPaths paths;
    if (!resolveCgroupPaths(buf_, mountinfo, paths)) {
      cgroupPid_ = -1;
      out.value = CgroupSample{};
      out.fail(SysError::fromErrno(ENOENT, "resolve", "no cgroup or cgroup2 mount for this process"));
      return;
    }
    cgroupPid_ = pid;
    cgroupKey_ = buf_;
    cgroupFiles_.clear();
    cgroupPaths_ = std::move(paths);
  }
  CgroupSample cg;
  readCgroup(cgroupFiles_, cgroupPaths_, cg);
  out.set(std::move(cg));
}

void HostReader::sample(const HostOptions& opts, HostSample& s) {
  std::lock_guard<std::mutex> lock(mu_);
  s.timeMs = wallNowMs();
  s.monotonicNs = monotonicNowNs();
  s.hasUtilization = false;
  s.utilization = CpuUtilization{};
  s.perCpuUtilization.clear();
  s.utilizationIntervalSec = 0;
  if (opts.memory)
    readPart(meminfo_, spill_, s.memory, parseMemInfo);
  else
    resetPart(s.memory);
  if (!opts.cpu) {
    resetPart(s.cpu);
  } else {
    readPart(stat_, spill_, s.cpu, parseCpuStat);
    if (s.cpu.available) {
      const CpuStat& cur = s.cpu.value;
      if (hasPrevCpu_) {
        s.hasUtilization = cpuUtilization(prevCpu_.all, cur.all, s.utilization);
        s.utilizationIntervalSec = static_cast<double>(s.monotonicNs - prevCpuNs_) / 1e9;
        if (opts.perCpu) {
          for (const CpuTimes& c : cur.perCpu) {
            for (const CpuTimes& pc : prevCpu_.perCpu) {
              if (pc.cpu != c.cpu) continue;
              PerCpuUtilization u;
              u.cpu = c.cpu;
              if (cpuUtilization(pc, c, u.util)) s.perCpuUtilization.push_back(u);
              break;
            }
          }
        }
      }
      // Keep the old baseline when no jiffy has passed (samples < 10 ms apart), so that the next
      // sample measures over a real interval instead of reporting nothing again.
      if (!hasPrevCpu_ || s.hasUtilization) {
        prevCpu_ = cur;
        prevCpuNs_ = s.monotonicNs;
        hasPrevCpu_ = true;
      }
      if (!opts.perCpu) s.cpu.value.perCpu.clear();
    }
  }
  if (opts.load) {
    readPart(loadavg_, spill_, s.load, parseLoadAvg);
    readPart(uptime_, spill_, s.uptime, parseUptime);
  } else {
    resetPart(s.load);
    resetPart(s.uptime);
  }
  if (opts.psi) {
    readPart(psiCpu_, spill_, s.psiCpu, parsePsi);
    readPart(psiMemory_, spill_, s.psiMemory, parsePsi);
    readPart(psiIo_, spill_, s.psiIo, parsePsi);
  } else {
    resetPart(s.psiCpu);
    resetPart(s.psiMemory);
    resetPart(s.psiIo);
  }
  if (opts.cgroup)
    sampleCgroup(opts.cgroupPid, s.cgroup);
  else if (s.cgroup.available || !s.cgroup.error.ok())
    resetPart(s.cgroup);  // only when an earlier sample filled it: a reset builds a CgroupSample
  // Resized, not cleared: the entries (and their path strings' capacity) are reused.
  s.filesystems.resize(opts.paths.size());
  for (size_t i = 0; i < opts.paths.size(); ++i) {
    Sourced<FsUsage>& fs = s.filesystems[i];
    SysError e = statFilesystem(opts.paths[i], fs.value);
    fs.available = e.ok();
    if (!fs.available) fs.value = FsUsage{};
    fs.error = std::move(e);
    fs.value.path = opts.paths[i];
  }
}

}  // namespace ovn
