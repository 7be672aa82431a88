#include "host_reader.h"

#include <cstdio>

namespace ovn {

void HostReader::resetCpuBaseline() {
  std::lock_guard<std::mutex> lock(mu_);
  hasPrevCpu_ = false;
}

template <class T, class Parse>
static void readPart(KeptOpenFiles& files, std::string& buf, const char* path, Sourced<T>& out, Parse parse) {
  SysError e = files.read(path, buf);
  if (!e.ok()) {
    out.fail(e);
    return;
  }
  T v;
  if (!parse(buf, v)) {
    out.fail(SysError::fromErrno(EINVAL, "parse", path));
    return;
  }
  out.set(std::move(v));
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
    if (e.err == ENOENT) e.err = ESRCH;
    e.pid = pid;
    out.fail(e);
    return;
  }
  if (pid != cgroupPid_ || buf_ != cgroupKey_) {
    std::string mountinfo;
    SysError me = readFileOnce("/proc/self/mountinfo", mountinfo, 4 << 20);
    if (!me.ok()) {
      out.fail(me);
      return;
    }
    CgroupPaths paths;
    if (!resolveCgroupPaths(buf_, mountinfo, paths)) {
      cgroupPid_ = -1;
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
  if (opts.memory) readPart(files_, buf_, "/proc/meminfo", s.memory, parseMemInfo);
  if (opts.cpu) {
    readPart(files_, buf_, "/proc/stat", s.cpu, parseCpuStat);
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
    readPart(files_, buf_, "/proc/loadavg", s.load, parseLoadAvg);
    readPart(files_, buf_, "/proc/uptime", s.uptime, parseUptime);
  }
  if (opts.psi) {
    readPart(files_, buf_, "/proc/pressure/cpu", s.psiCpu, parsePsi);
    readPart(files_, buf_, "/proc/pressure/memory", s.psiMemory, parsePsi);
    readPart(files_, buf_, "/proc/pressure/io", s.psiIo, parsePsi);
  }
  if (opts.cgroup) sampleCgroup(opts.cgroupPid, s.cgroup);
  s.filesystems.clear();
  for (const std::string& p : opts.paths) {
    Sourced<FsUsage> fs;
    FsUsage u;
    SysError e = statFilesystem(p, u);
    if (e.ok())
      fs.set(std::move(u));
    else
      fs.fail(e);
    fs.value.path = p;
    s.filesystems.push_back(std::move(fs));
  }
}

}  // namespace ovn
