// JS class HostReader: sample(options) -> one host sample object.
// Thread: JS thread (the reads take microseconds; no worker needed).
#include <napi.h>

#include "../proc/host_reader.h"
#include "host_packed.h"
#include "errors.h"
#include "js_object.h"

namespace ovn {
namespace {

napi_value psiToJs(Napi::Env env, const Psi& p) {
  auto line = [&](const PsiLine& l) -> napi_value {
    if (!l.present) return env.Null();
    return JsObject(env).num("avg10", l.avg10).num("avg60", l.avg60).num("avg300", l.avg300).u64("totalUs", l.totalUs);
  };
  return JsObject(env).val("some", line(p.some)).val("full", line(p.full));
}

napi_value memToJs(Napi::Env env, const MemInfo& m) {
  return JsObject(env)
      .u64("total", m.total).u64("free", m.free).u64("available", m.available).u64("used", m.used())
      .u64("buffers", m.buffers).u64("cached", m.cached).u64("swapCached", m.swapCached)
      .u64("active", m.active).u64("inactive", m.inactive)
      .u64("sReclaimable", m.sReclaimable).u64("sUnreclaim", m.sUnreclaim).u64("shmem", m.shmem)
      .u64("anon", m.anon).u64("mapped", m.mapped).u64("dirty", m.dirty).u64("writeback", m.writeback)
      .u64("swapTotal", m.swapTotal).u64("swapFree", m.swapFree)
      .u64("commitLimit", m.commitLimit).u64("committedAs", m.committedAs)
      .u64("hugePagesTotal", m.hugePagesTotal).u64("hugePagesFree", m.hugePagesFree)
      .u64("hugePagesRsvd", m.hugePagesRsvd).u64("hugePageSize", m.hugePageSize)
      .boolean("availableEstimated", !m.hasAvailable);
}

napi_value timesToJs(Napi::Env env, const CpuTimes& t) {
  JsObject o(env);
  if (t.cpu >= 0) o.num("cpu", t.cpu);
  return o.u64("user", t.user).u64("nice", t.nice).u64("system", t.system).u64("idle", t.idle)
      .u64("iowait", t.iowait).u64("irq", t.irq).u64("softirq", t.softirq).u64("steal", t.steal)
      .u64("guest", t.guest).u64("guestNice", t.guestNice);
}

napi_value utilToJs(Napi::Env env, const CpuUtilization& u, int cpu) {
  JsObject o(env);
  if (cpu >= 0) o.num("cpu", cpu);
  return o.num("busy", u.busy).num("user", u.user).num("nice", u.nice).num("system", u.system)
      .num("idle", u.idle).num("iowait", u.iowait).num("irq", u.irq).num("softirq", u.softirq)
      .num("steal", u.steal).num("guest", u.guest);
}

napi_value cpuToJs(Napi::Env env, const HostSample& s) {
  const CpuStat& c = s.cpu.value;
  Napi::Array per = Napi::Array::New(env, c.perCpu.size());
  for (size_t i = 0; i < c.perCpu.size(); ++i) per.Set(static_cast<uint32_t>(i), timesToJs(env, c.perCpu[i]));
  napi_value util = env.Null();
  napi_value perUtil = env.Null();
  if (s.hasUtilization) {
    util = utilToJs(env, s.utilization, -1);
    Napi::Array pu = Napi::Array::New(env, s.perCpuUtilization.size());
    for (size_t i = 0; i < s.perCpuUtilization.size(); ++i)
      pu.Set(static_cast<uint32_t>(i), utilToJs(env, s.perCpuUtilization[i].util, s.perCpuUtilization[i].cpu));
    perUtil = pu;
  }
  return JsObject(env)
      .val("total", timesToJs(env, c.all)).val("perCpu", per)
      .u64("ctxt", c.ctxt).u64("processes", c.processes).u64("procsRunning", c.procsRunning)
      .u64("procsBlocked", c.procsBlocked).u64("btime", c.btime)
      .val("utilization", util).val("perCpuUtilization", perUtil)
      .num("intervalSec", s.hasUtilization ? s.utilizationIntervalSec : 0);
}

napi_value cgroupToJs(Napi::Env env, const CgroupSample& c) {
  const CgroupMemory& m = c.memory;
  auto opt = [&](bool has, uint64_t v) -> napi_value {
    if (!has || v == kUnlimited) return env.Null();
    return Napi::Number::New(env, static_cast<double>(v));
  };
  napi_value memory = env.Null();
  if (!m.source.empty()) {
    napi_value events = env.Null();
    if (m.hasEvents)
      events = JsObject(env).u64("low", m.eventsLow).u64("high", m.eventsHigh).u64("max", m.eventsMax)
                   .u64("oom", m.eventsOom).u64("oomKill", m.eventsOomKill).boolean("underOom", m.underOom);
    napi_value stat = env.Null();
    if (m.hasStat)
      stat = JsObject(env).u64("anon", m.anon).u64("file", m.file).u64("inactiveFile", m.inactiveFile)
                 .u64("activeFile", m.activeFile).u64("shmem", m.shmem);
    memory = JsObject(env)
                 .str("source", m.source)
                 .val("usage", opt(m.hasUsage, m.usage))
                 .val("limit", opt(m.hasLimit, m.limit))
                 .val("high", opt(m.hasHigh, m.high))
                 .val("workingSet", m.hasUsage && m.hasStat ? Napi::Number::New(env, static_cast<double>(m.workingSet())) : env.Null())
                 .val("swapUsage", opt(m.hasSwap, m.swapUsage))
                 .val("swapLimit", opt(m.hasSwap, m.swapLimit))
                 .val("failcnt", opt(m.hasFailcnt, m.failcnt))
                 .val("maxUsage", m.source == "v1" ? Napi::Number::New(env, static_cast<double>(m.maxUsage)) : env.Null())
                 .val("events", events)
                 .val("stat", stat);
  }
  napi_value cpu = env.Null();
  if (!c.cpu.source.empty()) {
    const CgroupCpu& k = c.cpu;
    napi_value quota = k.hasQuota && k.quotaUs >= 0 ? Napi::Number::New(env, static_cast<double>(k.quotaUs)) : env.Null();
    napi_value cores = k.hasQuota && k.quotaUs >= 0 && k.periodUs > 0
                           ? Napi::Number::New(env, static_cast<double>(k.quotaUs) / static_cast<double>(k.periodUs))
                           : env.Null();
    cpu = JsObject(env)
              .str("source", k.source)
              .val("quotaUs", quota)
              .val("periodUs", k.hasQuota ? Napi::Number::New(env, static_cast<double>(k.periodUs)) : env.Null())
              .val("limitCores", cores)
              .val("nrPeriods", opt(k.hasStat, k.nrPeriods))
              .val("nrThrottled", opt(k.hasStat, k.nrThrottled))
              .val("throttledUs", opt(k.hasStat, k.throttledUs))
              .val("usageUs", opt(k.hasUsage, k.usageUs));
  }
  napi_value pressure = env.Null();
  if (c.hasCpuPressure || c.hasMemoryPressure || c.hasIoPressure)
    pressure = JsObject(env)
                   .val("cpu", c.hasCpuPressure ? psiToJs(env, c.cpuPressure) : env.Null())
                   .val("memory", c.hasMemoryPressure ? psiToJs(env, c.memoryPressure) : env.Null())
                   .val("io", c.hasIoPressure ? psiToJs(env, c.ioPressure) : env.Null());
  Napi::Object unavailable = Napi::Object::New(env);
  for (const FieldError& fe : c.errors) unavailable.Set(fe.field, reasonToJs(env, fe.error));
  const CgroupPaths& p = c.paths;
  auto strOrNull = [&](const std::string& s) -> napi_value { return s.empty() ? env.Null() : Napi::String::New(env, s); };
  return JsObject(env)
      .str("layout", p.layout)
      .val("v2Path", strOrNull(p.v2Path))
      .val("v2Dir", strOrNull(p.v2Dir))
      .val("v1MemoryDir", strOrNull(p.v1MemoryDir))
      .val("v1CpuDir", strOrNull(p.v1CpuDir))
      .val("v1CpuacctDir", strOrNull(p.v1CpuacctDir))
      .val("memory", memory)
      .val("cpu", cpu)
      .val("pressure", pressure)
      .val("unavailable", unavailable);
}

napi_value fsToJs(Napi::Env env, const Sourced<FsUsage>& f) {
  if (!f.available) return JsObject(env).str("path", f.value.path).val("error", reasonToJs(env, f.error));
  const FsUsage& u = f.value;
  return JsObject(env)
      .str("path", u.path).u64("totalBytes", u.totalBytes).u64("freeBytes", u.freeBytes)
      .u64("availableBytes", u.availableBytes)
      .u64("usedBytes", u.totalBytes - u.freeBytes)
      .u64("totalInodes", u.totalInodes).u64("freeInodes", u.freeInodes).u64("availableInodes", u.availableInodes)
      .u64("fsid", u.fsid).boolean("readOnly", u.readOnly);
}

class HostReaderWrap : public Napi::ObjectWrap<HostReaderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "HostReader",
                       {InstanceMethod<&HostReaderWrap::Sample>("sample"),
                        InstanceMethod<&HostReaderWrap::SamplePacked>("samplePacked"),
                        InstanceMethod<&HostReaderWrap::Reset>("resetCpuBaseline")});
  }
  explicit HostReaderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HostReaderWrap>(info) {}

 private:
  static HostOptions parseOptions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    HostOptions opts;
    if (info.Length() > 0 && !info[0].IsUndefined() && !info[0].IsNull()) {
      if (!info[0].IsObject()) throw invalidArg(env, "options", "an object");
      Napi::Object o = info[0].As<Napi::Object>();
      opts.cpu = optBool(o, "cpu", true);
      opts.perCpu = optBool(o, "perCpu", true);
      opts.memory = optBool(o, "memory", true);
      opts.load = optBool(o, "load", true);
      opts.psi = optBool(o, "psi", true);
      opts.cgroup = optBool(o, "cgroup", true);
      opts.cgroupPid = static_cast<int>(optIntIn(o, "cgroupPid", 0, 0, INT32_MAX, "a pid >= 0 (0 = this process)"));
      if (o.Has("paths") && !o.Get("paths").IsUndefined()) {
        Napi::Value pv = o.Get("paths");
        if (!pv.IsArray()) throw invalidArg(env, "paths", "an array of strings");
        appendStrings(pv.As<Napi::Array>(), "paths", opts.paths);
      }
    }
    return opts;
  }

  // samplePacked(flags, cgroupPid, paths?): options as a bit mask (1 cpu, 2 perCpu, 4 memory,
  // 8 load, 16 psi, 32 cgroup) — reading an options object costs ~2 µs of N-API lookups per call.
  // Returns { numbers: Float64Array, meta?: object }; meta only when its strings changed.
  Napi::Value SamplePacked(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) throw invalidArg(env, "flags, cgroupPid", "numbers");
    uint32_t f = info[0].As<Napi::Number>().Uint32Value();
    HostOptions opts;
    opts.cpu = f & 1;
    opts.perCpu = f & 2;
    opts.memory = f & 4;
    opts.load = f & 8;
    opts.psi = f & 16;
    opts.cgroup = f & 32;
    double pid = info[1].As<Napi::Number>().DoubleValue();
    if (!(pid >= 0 && pid <= INT32_MAX)) throw invalidArg(env, "cgroupPid", "a pid >= 0 (0 = this process)");
    opts.cgroupPid = static_cast<int>(pid);
    if (info.Length() > 2 && info[2].IsArray()) appendStrings(info[2].As<Napi::Array>(), "paths", opts.paths);
    HostSample s;
    reader_.sample(opts, s);
    std::string sig;
    std::vector<std::pair<std::string, SysError>> reasons;
    packHostSample(opts, s, packed_, sig, reasons);
    Napi::Float64Array nums = Napi::Float64Array::New(env, packed_.size());
    std::copy(packed_.begin(), packed_.end(), nums.Data());
    JsObject out(env);
    out.val("numbers", nums);
    if (sig != lastSig_) {
      lastSig_ = sig;
      out.val("meta", packedMetaToJs(env, opts, s, reasons));
    }
    return out.object();
  }

  Napi::Value Sample(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    HostOptions opts = parseOptions(info);
    HostSample s;
    reader_.sample(opts, s);
    Napi::Object unavailable = Napi::Object::New(env);
    auto part = [&](const char* name, bool wanted, bool ok, const SysError& err, auto make) -> napi_value {
      if (!wanted) return env.Null();
      if (!ok) {
        unavailable.Set(name, reasonToJs(env, err));
        return env.Null();
      }
      return make();
    };
    JsObject out(env);
    out.num("timeMs", s.timeMs).num("monotonicMs", static_cast<double>(s.monotonicNs) / 1e6);
    out.val("memory", part("memory", opts.memory, s.memory.available, s.memory.error, [&] { return memToJs(env, s.memory.value); }));
    out.val("cpu", part("cpu", opts.cpu, s.cpu.available, s.cpu.error, [&] { return cpuToJs(env, s); }));
    out.val("load", part("load", opts.load, s.load.available, s.load.error, [&]() -> napi_value {
      const LoadAvg& l = s.load.value;
      return JsObject(env).num("load1", l.load1).num("load5", l.load5).num("load15", l.load15)
          .u64("runnable", l.runnable).u64("threads", l.threads).u64("lastPid", l.lastPid);
    }));
    out.val("uptime", part("uptime", opts.load, s.uptime.available, s.uptime.error, [&]() -> napi_value {
      return JsObject(env).num("uptimeSec", s.uptime.value.uptimeSec).num("idleSec", s.uptime.value.idleSec);
    }));
    napi_value psi = env.Null();
    if (opts.psi) {
      napi_value cpu = part("psi.cpu", true, s.psiCpu.available, s.psiCpu.error, [&] { return psiToJs(env, s.psiCpu.value); });
      napi_value mem = part("psi.memory", true, s.psiMemory.available, s.psiMemory.error, [&] { return psiToJs(env, s.psiMemory.value); });
      napi_value io = part("psi.io", true, s.psiIo.available, s.psiIo.error, [&] { return psiToJs(env, s.psiIo.value); });
      if (s.psiCpu.available || s.psiMemory.available || s.psiIo.available)
        psi = JsObject(env).val("cpu", cpu).val("memory", mem).val("io", io);
      else
        unavailable.Set("psi", reasonToJs(env, s.psiCpu.error));
    }
    out.val("psi", psi);
    out.val("cgroup", part("cgroup", opts.cgroup, s.cgroup.available, s.cgroup.error, [&] { return cgroupToJs(env, s.cgroup.value); }));
    Napi::Array fs = Napi::Array::New(env, s.filesystems.size());
    for (size_t i = 0; i < s.filesystems.size(); ++i) fs.Set(static_cast<uint32_t>(i), fsToJs(env, s.filesystems[i]));
    out.val("filesystems", fs);
    out.val("unavailable", unavailable);
    return out.object();
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    reader_.resetCpuBaseline();
    return info.Env().Undefined();
  }

  HostReader reader_;
  std::vector<double> packed_;
  std::string lastSig_ = "\x01never sent";  // the first call always sends meta
};

}  // namespace

void registerHostBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("HostReader", HostReaderWrap::Define(env));
}

}  // namespace ovn
