// readProcess(pid, options) and JS class ProcessTable { scan, scanAsync }.
// Thread: scan() runs on the JS thread; scanAsync() scans on a libuv worker thread (PromiseWorker)
// into plain C++ structs and converts them on the JS thread.
#include <napi.h>

#include <algorithm>
#include <cmath>

#include "../proc/process_table.h"
#include "errors.h"
#include "js_object.h"
#include "process_packed.h"
#include "promise_worker.h"

namespace ovn {
namespace {

napi_value processToJs(Napi::Env env, const ProcessInfo& p) {
  JsObject o(env);
  o.num("pid", p.pid)
      .num("ppid", p.ppid)
      .num("pgid", p.pgid)
      .num("sid", p.sid)
      .num("ttyNr", p.ttyNr)
      .str("comm", p.comm)
      .str("state", std::string(1, p.state))
      .boolean("kernelThread", p.kernelThread)
      .u64("utime", p.utime)
      .u64("stime", p.stime)
      .u64("cutime", p.cutime)
      .u64("cstime", p.cstime)
      .u64("starttime", p.starttime)
      .num("priority", static_cast<double>(p.priority))
      .num("nice", static_cast<double>(p.nice))
      .u64("threads", p.numThreads)
      .u64("vsize", p.vsize)
      .u64("rss", p.rss)
      .u64("minflt", p.minflt)
      .u64("majflt", p.majflt)
      .num("processor", p.processor)
      .u64("blkioTicks", p.blkioTicks);
  if (p.hasStatus) {
    o.num("uid", p.uid)
        .num("euid", p.euid)
        .num("gid", p.gid)
        .u64("voluntaryCtxSwitches", p.volCtxSwitches)
        .u64("nonvoluntaryCtxSwitches", p.nonvolCtxSwitches)
        .u64("swap", p.vmSwap);
  } else {
    o.null("uid").null("euid").null("gid").null("voluntaryCtxSwitches").null("nonvoluntaryCtxSwitches").null("swap");
  }
  if (p.hasStatm) {
    o.val("statm", JsObject(env)
                       .u64("size", p.statmSize)
                       .u64("resident", p.statmResident)
                       .u64("shared", p.statmShared)
                       .u64("text", p.statmText)
                       .u64("data", p.statmData));
  }
  if (p.hasIo) {
    const IoCounters& io = p.io;
    o.val("io", JsObject(env)
                    .u64("rchar", io.rchar)
                    .u64("wchar", io.wchar)
                    .u64("syscr", io.syscr)
                    .u64("syscw", io.syscw)
                    .u64("readBytes", io.readBytes)
                    .u64("writeBytes", io.writeBytes)
                    .u64("cancelledWriteBytes", io.cancelledWriteBytes));
  } else if (p.ioError.err) {
    o.null("io").val("ioError", reasonToJs(env, p.ioError));
  }
  if (p.hasWchan) o.str("wchan", p.wchan);
  if (p.hasCmdline) {
    Napi::Array a = Napi::Array::New(env, p.cmdline.size());
    for (size_t i = 0; i < p.cmdline.size(); ++i) a.Set(static_cast<uint32_t>(i), p.cmdline[i]);
    o.val("cmdline", a);
  }
  return o;
}

struct ScanOptions {
  bool packed = false;
  ProcessReadOptions read;
  int descendantsOf = 0;  // 0 = whole table
  bool includeRoot = false;
};

ScanOptions parseScanOptions(const Napi::CallbackInfo& info, size_t idx) {
  ScanOptions s;
  s.read.status = true;
  if (info.Length() <= idx || info[idx].IsUndefined() || info[idx].IsNull()) return s;
  if (!info[idx].IsObject()) throw invalidArg(info.Env(), "options", "an object");
  Napi::Object o = info[idx].As<Napi::Object>();
  s.read.status = optBool(o, "status", true);
  s.read.statm = optBool(o, "statm", false);
  s.read.io = optBool(o, "io", false);
  s.read.wchan = optBool(o, "wchan", false);
  s.read.cmdline = optBool(o, "cmdline", false);
  s.descendantsOf = static_cast<int>(optIntIn(o, "descendantsOf", 0, 0, INT32_MAX, "a pid > 0"));
  s.includeRoot = optBool(o, "includeRoot", false);
  s.packed = optBool(o, "packed", false);
  if (s.packed && (s.read.statm || s.read.wchan || s.read.cmdline))
    throw invalidArg(info.Env(), "packed", "false when statm, wchan or cmdline are asked for");
  return s;
}

// The scan already filtered to the subtree when asked (root first, then descendants breadth first).
std::vector<const ProcessInfo*> select(const std::vector<ProcessInfo>& all, const ScanOptions& opts) {
  std::vector<const ProcessInfo*> out;
  out.reserve(all.size());
  if (opts.descendantsOf > 0 && opts.includeRoot)
    for (const ProcessInfo& p : all)
      if (p.pid == opts.descendantsOf) out.push_back(&p);
  if (opts.descendantsOf > 0) {
    // descendantsOf() over the filtered table keeps the breadth-first order.
    std::vector<const ProcessInfo*> d = descendantsOf(opts.descendantsOf, all);
    out.insert(out.end(), d.begin(), d.end());
    return out;
  }
  for (const ProcessInfo& p : all) out.push_back(&p);
  return out;
}

Napi::Array toArray(Napi::Env env, const std::vector<const ProcessInfo*>& ps) {
  Napi::Array a = Napi::Array::New(env, ps.size());
  for (size_t i = 0; i < ps.size(); ++i) a.Set(static_cast<uint32_t>(i), processToJs(env, *ps[i]));
  return a;
}

class ProcessTableWrap : public Napi::ObjectWrap<ProcessTableWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "ProcessTable",
        {InstanceMethod<&ProcessTableWrap::Scan>("scan"), InstanceMethod<&ProcessTableWrap::ScanAsync>("scanAsync"),
         InstanceMethod<&ProcessTableWrap::CachedPids>("cachedPids"),
         InstanceMethod<&ProcessTableWrap::Clear>("clearCache")});
  }
  explicit ProcessTableWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessTableWrap>(info) {}

 private:
  Napi::Value Scan(const Napi::CallbackInfo& info) {
    ScanOptions opts = parseScanOptions(info, 0);
    std::vector<ProcessInfo> all;
    SysError e = table_.scan(opts.read, all, opts.descendantsOf, true);
    if (!e.ok()) throw sysErrorToJs(info.Env(), e);
    std::vector<const ProcessInfo*> sel = select(all, opts);
    return opts.packed ? toPacked(info.Env(), sel) : Napi::Value(toArray(info.Env(), sel));
  }
  // Scans on a libuv worker thread into plain structs; converts on the JS thread.
  Napi::Value ScanAsync(const Napi::CallbackInfo& info) {
    ScanOptions opts = parseScanOptions(info, 0);
    auto result = std::make_shared<std::vector<ProcessInfo>>();
    auto packed = std::make_shared<PackedRows>();
    // The reference keeps this object (and so the table) alive until the promise settles.
    auto self = std::make_shared<Napi::ObjectReference>(Napi::Persistent(info.This().As<Napi::Object>()));
    ProcessTable* table = &table_;
    return PromiseWorker::run(
        info.Env(), "overnight:processScan",
        [table, result, packed, opts] {
          SysError e = table->scan(opts.read, *result, opts.descendantsOf, true);
          // Packed rows are built here, off the JS thread: at 5,000 processes the JS thread then
          // copies one array and makes one string instead of 5,000 (which stalled its loop).
          if (e.ok() && opts.packed) packRows(select(*result, opts), *packed);
          return e;
        },
        [result, packed, opts, self](Napi::Env env) {
          if (opts.packed) return packedToJs(env, *packed);
          return Napi::Value(toArray(env, select(*result, opts)));
        });
  }
  Napi::Value CachedPids(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(table_.cachedPids()));
  }
  Napi::Value Clear(const Napi::CallbackInfo& info) {
    table_.clearCache();
    return info.Env().Undefined();
  }
  ProcessTable table_;
};

Napi::Value ReadProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw invalidArg(env, "pid", "a positive integer");
  double d = info[0].As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= INT32_MAX) || d != static_cast<double>(static_cast<int>(d)))
    throw invalidArg(env, "pid", "a positive integer");
  ProcessReadOptions opts;
  opts.statm = true;
  opts.io = true;
  opts.wchan = true;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    opts.statm = optBool(o, "statm", true);
    opts.io = optBool(o, "io", true);
    opts.wchan = optBool(o, "wchan", true);
    opts.cmdline = optBool(o, "cmdline", false);
  }
  ProcessInfo p;
  SysError e = readProcess(static_cast<int>(d), opts, p);
  if (!e.ok()) throw sysErrorToJs(env, e);
  return Napi::Value(env, processToJs(env, p));
}

}  // namespace

void registerProcessBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("ProcessTable", ProcessTableWrap::Define(env));
  exports.Set("readProcess", Napi::Function::New<ReadProcess>(env, "readProcess"));
  exports.Set("clockTicksPerSecond", Napi::Number::New(env, static_cast<double>(clockTicksPerSecond())));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(pageSize())));
  exports.Set("processLayout", processLayout(env));
}

}  // namespace ovn
