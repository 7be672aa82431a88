// `parsers`: the /proc parsers exposed on text, so tests can feed layouts this machine does not
// have (pure cgroup v2, containers, old kernels) and names it cannot easily make.
// Thread: JS thread.
#include <napi.h>

#include "../proc/cgroup.h"
#include "../proc/meminfo.h"
#include "../proc/process.h"
#include "../proc/psi.h"
#include "errors.h"
#include "js_object.h"

namespace ovn {
namespace {

Napi::Value CgroupPathsJs(const Napi::CallbackInfo& info) {
  CgroupPaths p;
  bool ok = resolveCgroupPaths(stringArg(info, 0, "procCgroup"), stringArg(info, 1, "mountinfo"), p);
  Napi::Env env = info.Env();
  if (!ok) return env.Null();
  return JsObject(env)
      .str("layout", p.layout)
      .str("v2Dir", p.v2Dir)
      .str("v2Path", p.v2Path)
      .str("v1MemoryDir", p.v1MemoryDir)
      .str("v1CpuDir", p.v1CpuDir)
      .str("v1CpuacctDir", p.v1CpuacctDir)
      .object();
}

Napi::Value ProcStatJs(const Napi::CallbackInfo& info) {
  ProcessInfo p;
  Napi::Env env = info.Env();
  if (!parseProcStat(stringArg(info, 0, "text"), p)) return env.Null();
  return JsObject(env)
      .num("pid", p.pid)
      .str("comm", p.comm)
      .str("state", std::string(1, p.state))
      .num("ppid", p.ppid)
      .u64("utime", p.utime)
      .u64("stime", p.stime)
      .u64("starttime", p.starttime)
      .u64("vsize", p.vsize)
      .u64("rss", p.rss)
      .u64("threads", p.numThreads)
      .boolean("kernelThread", p.kernelThread)
      .object();
}

Napi::Value MemInfoJs(const Napi::CallbackInfo& info) {
  MemInfo m;
  Napi::Env env = info.Env();
  if (!parseMemInfo(stringArg(info, 0, "text"), m)) return env.Null();
  return JsObject(env)
      .u64("total", m.total)
      .u64("free", m.free)
      .u64("available", m.available)
      .u64("used", m.used())
      .boolean("availableEstimated", !m.hasAvailable)
      .u64("hugePagesTotal", m.hugePagesTotal)
      .object();
}

Napi::Value PsiJs(const Napi::CallbackInfo& info) {
  Psi p;
  Napi::Env env = info.Env();
  if (!parsePsi(stringArg(info, 0, "text"), p)) return env.Null();
  auto line = [&](const PsiLine& l) -> napi_value {
    if (!l.present) return env.Null();
    return JsObject(env).num("avg10", l.avg10).num("avg60", l.avg60).num("avg300", l.avg300).u64("totalUs", l.totalUs);
  };
  return JsObject(env).val("some", line(p.some)).val("full", line(p.full)).object();
}

}  // namespace

void registerParserBinding(Napi::Env env, Napi::Object exports) {
  Napi::Object parsers = Napi::Object::New(env);
  parsers.Set("cgroupPaths", Napi::Function::New<CgroupPathsJs>(env, "cgroupPaths"));
  parsers.Set("procStat", Napi::Function::New<ProcStatJs>(env, "procStat"));
  parsers.Set("meminfo", Napi::Function::New<MemInfoJs>(env, "meminfo"));
  parsers.Set("psi", Napi::Function::New<PsiJs>(env, "psi"));
  exports.Set("parsers", parsers);
}

}  // namespace ovn
