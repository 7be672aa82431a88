// The packed form of a host sample: numbers in a fixed order in one Float64Array (NaN = absent),
// and the strings (cgroup paths, reasons) in a small `meta` object sent only when it changed.
// Building ~250 properties through N-API cost more than reading the files; JS builds the objects
// from the array in a few microseconds (src/sampling/packed-host.ts reads in this same order).
// Thread: JS thread.
#include "host_packed.h"

#include <cmath>

#include "errors.h"
#include "js_object.h"

namespace ovn {
namespace {

class Packer {
 public:
  void n(double v) { v_.push_back(v); }
  void u(uint64_t v) { v_.push_back(static_cast<double>(v)); }
  void b(bool v) { v_.push_back(v ? 1.0 : 0.0); }
  void opt(bool has, uint64_t v) { v_.push_back(has && v != kUnlimited ? static_cast<double>(v) : NAN); }
  void psiLine(const PsiLine& l) {
    b(l.present);
    n(l.avg10);
    n(l.avg60);
    n(l.avg300);
    u(l.totalUs);
  }
  void psi(bool present, const Psi& p) {
    b(present);
    psiLine(p.some);
    psiLine(p.full);
  }
  void times(const CpuTimes& t) {
    n(t.cpu);
    u(t.user); u(t.nice); u(t.system); u(t.idle); u(t.iowait); u(t.irq); u(t.softirq); u(t.steal); u(t.guest); u(t.guestNice);
  }
  void util(int cpu, const CpuUtilization& x) {
    n(cpu);
    n(x.busy); n(x.user); n(x.nice); n(x.system); n(x.idle); n(x.iowait); n(x.irq); n(x.softirq); n(x.steal); n(x.guest);
  }
  std::vector<double>& data() { return v_; }

 private:
  std::vector<double> v_;
};

void meta(std::string& sig, const std::string& k, const std::string& v) {
  sig += k;
  sig += '\x1f';
  sig += v;
  sig += '\x1e';
}

}  // namespace

void packHostSample(const HostOptions& opts, const HostSample& s, std::vector<double>& out, std::string& sig,
                    std::vector<std::pair<std::string, SysError>>& reasons) {
  Packer p;
  p.n(s.timeMs);
  p.n(static_cast<double>(s.monotonicNs) / 1e6);
  // memory
  const MemInfo& m = s.memory.value;
  p.b(opts.memory && s.memory.available);
  p.u(m.total); p.u(m.free); p.u(m.available); p.u(m.used()); p.u(m.buffers); p.u(m.cached); p.u(m.swapCached);
  p.u(m.active); p.u(m.inactive); p.u(m.sReclaimable); p.u(m.sUnreclaim); p.u(m.shmem); p.u(m.anon); p.u(m.mapped);
  p.u(m.dirty); p.u(m.writeback); p.u(m.swapTotal); p.u(m.swapFree); p.u(m.commitLimit); p.u(m.committedAs);
  p.u(m.hugePagesTotal); p.u(m.hugePagesFree); p.u(m.hugePagesRsvd); p.u(m.hugePageSize); p.b(!m.hasAvailable);
  // cpu
  const CpuStat& c = s.cpu.value;
  p.b(opts.cpu && s.cpu.available);
  p.times(c.all);
  p.u(c.ctxt); p.u(c.processes); p.u(c.procsRunning); p.u(c.procsBlocked); p.u(c.btime);
  p.b(s.hasUtilization);
  p.util(-1, s.utilization);
  p.n(s.hasUtilization ? s.utilizationIntervalSec : 0);
  p.u(c.perCpu.size());
  for (const CpuTimes& t : c.perCpu) p.times(t);
  p.u(s.hasUtilization ? s.perCpuUtilization.size() : 0);
  if (s.hasUtilization)
    for (const PerCpuUtilization& u : s.perCpuUtilization) p.util(u.cpu, u.util);
  // load, uptime
  const LoadAvg& l = s.load.value;
  p.b(opts.load && s.load.available);
  p.n(l.load1); p.n(l.load5); p.n(l.load15); p.u(l.runnable); p.u(l.threads); p.u(l.lastPid);
  p.b(opts.load && s.uptime.available);
  p.n(s.uptime.value.uptimeSec); p.n(s.uptime.value.idleSec);
  // psi
  p.b(opts.psi);
  p.psi(s.psiCpu.available, s.psiCpu.value);
  p.psi(s.psiMemory.available, s.psiMemory.value);
  p.psi(s.psiIo.available, s.psiIo.value);
  // cgroup
  const CgroupSample& g = s.cgroup.value;
  p.b(opts.cgroup && s.cgroup.available);
  const CgroupMemory& gm = g.memory;
  p.b(!gm.source.empty());
  p.opt(gm.hasUsage, gm.usage); p.opt(gm.hasLimit, gm.limit); p.opt(gm.hasHigh, gm.high);
  p.opt(gm.hasUsage && gm.hasStat, gm.workingSet()); p.opt(gm.hasSwap, gm.swapUsage); p.opt(gm.hasSwap, gm.swapLimit);
  p.opt(gm.hasFailcnt, gm.failcnt); p.opt(gm.source == "v1", gm.maxUsage);
  p.b(gm.hasEvents); p.u(gm.eventsLow); p.u(gm.eventsHigh); p.u(gm.eventsMax); p.u(gm.eventsOom); p.u(gm.eventsOomKill); p.b(gm.underOom);
  p.b(gm.hasStat); p.u(gm.anon); p.u(gm.file); p.u(gm.inactiveFile); p.u(gm.activeFile); p.u(gm.shmem);
  const CgroupCpu& gc = g.cpu;
  p.b(!gc.source.empty());
  p.n(gc.hasQuota && gc.quotaUs >= 0 ? static_cast<double>(gc.quotaUs) : NAN);
  p.n(gc.hasQuota ? static_cast<double>(gc.periodUs) : NAN);
  p.n(gc.hasQuota && gc.quotaUs >= 0 && gc.periodUs > 0 ? static_cast<double>(gc.quotaUs) / static_cast<double>(gc.periodUs) : NAN);
  p.opt(gc.hasStat, gc.nrPeriods); p.opt(gc.hasStat, gc.nrThrottled); p.opt(gc.hasStat, gc.throttledUs); p.opt(gc.hasUsage, gc.usageUs);
  p.psi(g.hasCpuPressure, g.cpuPressure);
  p.psi(g.hasMemoryPressure, g.memoryPressure);
  p.psi(g.hasIoPressure, g.ioPressure);
  // filesystems
  p.u(s.filesystems.size());
  for (const auto& f : s.filesystems) {
    const FsUsage& u = f.value;
    p.b(f.available);
    p.u(u.totalBytes); p.u(u.freeBytes); p.u(u.availableBytes); p.u(u.totalBytes - u.freeBytes);
    p.u(u.totalInodes); p.u(u.freeInodes); p.u(u.availableInodes); p.u(u.fsid); p.b(u.readOnly);
  }
  out.swap(p.data());

  // Strings and reasons: the signature says whether JS's cached meta object is still right.
  sig.clear();
  reasons.clear();
  auto reason = [&](const std::string& part, bool wanted, bool ok, const SysError& e) {
    if (!wanted || ok) return;
    reasons.emplace_back(part, e);
    meta(sig, part, e.message());
  };
  reason("memory", opts.memory, s.memory.available, s.memory.error);
  reason("cpu", opts.cpu, s.cpu.available, s.cpu.error);
  reason("load", opts.load, s.load.available, s.load.error);
  reason("uptime", opts.load, s.uptime.available, s.uptime.error);
  reason("psi.cpu", opts.psi, s.psiCpu.available, s.psiCpu.error);
  reason("psi.memory", opts.psi, s.psiMemory.available, s.psiMemory.error);
  reason("psi.io", opts.psi, s.psiIo.available, s.psiIo.error);
  if (opts.psi && !s.psiCpu.available && !s.psiMemory.available && !s.psiIo.available) reason("psi", true, false, s.psiCpu.error);
  reason("cgroup", opts.cgroup, s.cgroup.available, s.cgroup.error);
  if (opts.cgroup && s.cgroup.available) {
    const CgroupPaths& cp = g.paths;
    meta(sig, "layout", cp.layout);
    meta(sig, "v2Path", cp.v2Path);
    meta(sig, "v2Dir", cp.v2Dir);
    meta(sig, "v1MemoryDir", cp.v1MemoryDir);
    meta(sig, "v1CpuDir", cp.v1CpuDir);
    meta(sig, "v1CpuacctDir", cp.v1CpuacctDir);
    meta(sig, "memSource", gm.source);
    meta(sig, "cpuSource", gc.source);
    for (const FieldError& fe : g.errors) {
      reasons.emplace_back("cgroup:" + fe.field, fe.error);
      meta(sig, "cgroup:" + fe.field, fe.error.message());
    }
  }
  for (const auto& f : s.filesystems) {
    meta(sig, "fs", f.value.path);
    if (!f.available) {
      reasons.emplace_back("fs:" + f.value.path, f.error);
      meta(sig, "fserr", f.error.message());
    }
  }
}

napi_value packedMetaToJs(Napi::Env env, const HostOptions& opts, const HostSample& s, const std::vector<std::pair<std::string, SysError>>& reasons) {
  Napi::Object unavailable = Napi::Object::New(env);
  Napi::Object cgUnavailable = Napi::Object::New(env);
  Napi::Object fsErrors = Napi::Object::New(env);
  for (const auto& [part, err] : reasons) {
    if (part.rfind("cgroup:", 0) == 0) cgUnavailable.Set(part.substr(7), reasonToJs(env, err));
    else if (part.rfind("fs:", 0) == 0) fsErrors.Set(part.substr(3), reasonToJs(env, err));
    else unavailable.Set(part, reasonToJs(env, err));
  }
  Napi::Array paths = Napi::Array::New(env, s.filesystems.size());
  for (size_t i = 0; i < s.filesystems.size(); ++i) paths.Set(static_cast<uint32_t>(i), s.filesystems[i].value.path);
  const CgroupPaths& cp = s.cgroup.value.paths;
  auto str = [&](const std::string& v) -> napi_value { return v.empty() ? env.Null() : Napi::String::New(env, v); };
  JsObject cg(env);
  cg.str("layout", cp.layout).val("v2Path", str(cp.v2Path)).val("v2Dir", str(cp.v2Dir)).val("v1MemoryDir", str(cp.v1MemoryDir))
      .val("v1CpuDir", str(cp.v1CpuDir)).val("v1CpuacctDir", str(cp.v1CpuacctDir)).val("memorySource", str(s.cgroup.value.memory.source))
      .val("cpuSource", str(s.cgroup.value.cpu.source)).val("unavailable", cgUnavailable);
  return JsObject(env).val("unavailable", unavailable).val("cgroup", cg).val("paths", paths).val("fsErrors", fsErrors).object();
}

}  // namespace ovn
