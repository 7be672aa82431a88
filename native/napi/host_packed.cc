// The packed form of a host sample: numbers in a fixed order in one Float64Array (NaN = absent),
// and the strings (cgroup paths, reasons) in a small `meta` object sent only when it changed.
// Building ~250 properties through N-API cost more than reading the files; JS builds the objects
// from the array in a few microseconds. The fields of each group are defined once, in
// host_layout.h, and src/sampling/packed-host.ts decodes them by the names hostLayout() exports.
// Thread: JS thread.
#include "host_packed.h"

#include <cmath>

#include "errors.h"
#include "host_layout.h"
#include "js_object.h"

namespace ovn {
namespace {

// Writes into the caller's vector, which keeps its capacity from one sample to the next (a fresh
// vector grew by doubling, eight reallocations a sample).
class Packer {
 public:
  explicit Packer(std::vector<double>& v) : v_(v) { v_.clear(); }
  void n(double v) { v_.push_back(v); }
  void u(uint64_t v) { v_.push_back(static_cast<double>(v)); }
  void b(bool v) { v_.push_back(v ? 1.0 : 0.0); }
  void o(double v) { v_.push_back(v); }

 private:
  std::vector<double>& v_;
};

// An optional count: NaN when the source lacks it or says "unlimited".
double opt(bool has, uint64_t v) { return has && v != kUnlimited ? static_cast<double>(v) : NAN; }

#define OVN_PACK(kind, name, expr) p.kind(expr);

void packPsiLine(Packer& p, const PsiLine& line) {
  p.b(line.present);
  OVN_HOST_PSI_LINE(OVN_PACK)
}
void packPsi(Packer& p, bool present, const Psi& psi) {
  p.b(present);
  packPsiLine(p, psi.some);
  packPsiLine(p, psi.full);
}
void packTimes(Packer& p, int cpu, const CpuTimes& t) {
  p.n(cpu);
  OVN_HOST_CPU_TIMES(OVN_PACK)
}
void packUtil(Packer& p, int cpu, const CpuUtilization& x) {
  p.n(cpu);
  OVN_HOST_CPU_UTIL(OVN_PACK)
}

void meta(std::string& sig, const std::string& k, const std::string& v) {
  sig += k;
  sig += '\x1f';
  sig += v;
  sig += '\x1e';
}

}  // namespace

// The sequence of groups below is mirrored by unpackHostSample (src/sampling/packed-host.ts).
void packHostSample(const HostOptions& opts, const HostSample& s, std::vector<double>& out, std::string& sig,
                    std::vector<std::pair<std::string, SysError>>& reasons) {
  Packer p(out);
  p.n(s.timeMs);
  p.n(static_cast<double>(s.monotonicNs) / 1e6);
  const MemInfo& m = s.memory.value;
  p.b(opts.memory && s.memory.available);
  OVN_HOST_MEMORY(OVN_PACK)
  const CpuStat& c = s.cpu.value;
  p.b(opts.cpu && s.cpu.available);
  packTimes(p, -1, c.all);
  OVN_HOST_CPU_COUNTS(OVN_PACK)
  p.b(s.hasUtilization);
  packUtil(p, -1, s.utilization);
  p.n(s.hasUtilization ? s.utilizationIntervalSec : 0);
  p.u(c.perCpu.size());
  for (const CpuTimes& t : c.perCpu) packTimes(p, static_cast<int>(t.cpu), t);
  p.u(s.hasUtilization ? s.perCpuUtilization.size() : 0);
  if (s.hasUtilization)
    for (const PerCpuUtilization& pu : s.perCpuUtilization) packUtil(p, pu.cpu, pu.util);
  const LoadAvg& l = s.load.value;
  p.b(opts.load && s.load.available);
  OVN_HOST_LOAD(OVN_PACK)
  const Uptime& up = s.uptime.value;
  p.b(opts.load && s.uptime.available);
  OVN_HOST_UPTIME(OVN_PACK)
  p.b(opts.psi);
  packPsi(p, s.psiCpu.available, s.psiCpu.value);
  packPsi(p, s.psiMemory.available, s.psiMemory.value);
  packPsi(p, s.psiIo.available, s.psiIo.value);
  const CgroupSample& g = s.cgroup.value;
  p.b(opts.cgroup && s.cgroup.available);
  const CgroupMemory& gm = g.memory;
  p.b(!gm.source.empty());
  OVN_HOST_CG_MEMORY(OVN_PACK)
  p.b(gm.hasEvents);
  OVN_HOST_CG_EVENTS(OVN_PACK)
  p.b(gm.hasStat);
  OVN_HOST_CG_STAT(OVN_PACK)
  const CgroupCpu& gc = g.cpu;
  p.b(!gc.source.empty());
  OVN_HOST_CG_CPU(OVN_PACK)
  packPsi(p, g.hasCpuPressure, g.cpuPressure);
  packPsi(p, g.hasMemoryPressure, g.memoryPressure);
  packPsi(p, g.hasIoPressure, g.ioPressure);
  p.u(s.filesystems.size());
  for (const auto& f : s.filesystems) {
    const FsUsage& u = f.value;
    p.b(f.available);
    OVN_HOST_FILESYSTEM(OVN_PACK)
  }
#undef OVN_PACK

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
  if (opts.psi && !s.psiCpu.available && !s.psiMemory.available && !s.psiIo.available)
    reason("psi", true, false, s.psiCpu.error);
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

napi_value packedMetaToJs(Napi::Env env, const HostOptions& opts, const HostSample& s,
                          const std::vector<std::pair<std::string, SysError>>& reasons) {
  Napi::Object unavailable = Napi::Object::New(env);
  Napi::Object cgUnavailable = Napi::Object::New(env);
  Napi::Object fsErrors = Napi::Object::New(env);
  for (const auto& [part, err] : reasons) {
    if (part.rfind("cgroup:", 0) == 0)
      cgUnavailable.Set(part.substr(7), reasonToJs(env, err));
    else if (part.rfind("fs:", 0) == 0)
      fsErrors.Set(part.substr(3), reasonToJs(env, err));
    else
      unavailable.Set(part, reasonToJs(env, err));
  }
  Napi::Array paths = Napi::Array::New(env, s.filesystems.size());
  for (size_t i = 0; i < s.filesystems.size(); ++i) paths.Set(static_cast<uint32_t>(i), s.filesystems[i].value.path);
  const CgroupPaths& cp = s.cgroup.value.paths;
  auto str = [&](const std::string& v) -> napi_value { return v.empty() ? env.Null() : Napi::String::New(env, v); };
  JsObject cg(env);
  cg.str("layout", cp.layout)
      .val("v2Path", str(cp.v2Path))
      .val("v2Dir", str(cp.v2Dir))
      .val("v1MemoryDir", str(cp.v1MemoryDir))
      .val("v1CpuDir", str(cp.v1CpuDir))
      .val("v1CpuacctDir", str(cp.v1CpuacctDir))
      .val("memorySource", str(s.cgroup.value.memory.source))
      .val("cpuSource", str(s.cgroup.value.cpu.source))
      .val("unavailable", cgUnavailable);
  return JsObject(env)
      .val("unavailable", unavailable)
      .val("cgroup", cg)
      .val("paths", paths)
      .val("fsErrors", fsErrors)
      .object();
}

}  // namespace ovn
