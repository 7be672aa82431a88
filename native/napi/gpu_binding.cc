// GPU exports: nvmlInfo(), class GpuWorker (samples and setters on the GPU thread, results through
// a ThreadSafeFunction), class GpuEventWatcher (Xid and other events), parsers.gpuProcesses.
// Thread: constructors and methods run on the JS thread; C++ results are converted to JS values
// only inside the ThreadSafeFunction callbacks, on the JS thread.
#include <napi.h>

#include <memory>

#include "../nvml/event_watcher.h"
#include "../nvml/gpu_names.h"
#include "../nvml/gpu_worker.h"
#include "../nvml/nvml_loader.h"
#include "errors.h"
#include "js_object.h"
#include "tsfn_guard.h"

namespace ovn {
namespace {

using namespace nvml;

napi_value nvmlError(Napi::Env env, Return r) {
  return JsObject(env).str("code", returnName(r)).str("message", errorText(r));
}

// Adds `name: value` when the field is ok, else `name: null` and errors[name] = the NVML code.
template <class T, class Make>
void field(Napi::Env env, JsObject& o, Napi::Object& errors, const char* name, const Field<T>& f, Make make) {
  if (!f.requested()) return;  // a quick sample leaves out what it did not ask for
  if (f.ok()) {
    o.val(name, make(f.value));
  } else {
    o.null(name);
    errors.Set(name, nvmlError(env, f.ret));
  }
}

napi_value deviceToJs(Napi::Env env, const GpuDevice& g) {
  JsObject o(env);
  Napi::Object errors = Napi::Object::New(env);
  o.num("index", g.index);
  if (g.handleRet != SUCCESS) {
    errors.Set("handle", nvmlError(env, g.handleRet));
    return o.val("errors", errors).boolean("lost", g.handleRet == ERROR_GPU_IS_LOST);
  }
  auto num = [&](double v) -> napi_value { return Napi::Number::New(env, v); };
  auto str = [&](const std::string& v) -> napi_value { return Napi::String::New(env, v); };
  field(env, o, errors, "uuid", g.uuid, str);
  field(env, o, errors, "name", g.name, str);
  field(env, o, errors, "busId", g.busId, str);
  field(env, o, errors, "utilization", g.utilization, [&](const Utilization& u) -> napi_value {
    return JsObject(env).num("gpu", u.gpu / 100.0).num("memory", u.memory / 100.0);
  });
  field(env, o, errors, "memory", g.memory, [&](const GpuMemory& m) -> napi_value {
    JsObject mo(env);
    mo.u64("total", m.total).u64("used", m.used).u64("free", m.free);
    if (m.hasReserved)
      mo.u64("reserved", m.reserved);
    else
      mo.null("reserved");
    return mo;
  });
  field(env, o, errors, "temperatureC", g.temperature, num);
  field(env, o, errors, "slowdownTemperatureC", g.tempSlowdown, num);
  field(env, o, errors, "shutdownTemperatureC", g.tempShutdown, num);
  field(env, o, errors, "maxOperatingTemperatureC", g.tempGpuMax, num);
  field(env, o, errors, "powerW", g.powerMw, [&](unsigned int mw) { return num(mw / 1000.0); });
  field(env, o, errors, "powerLimitW", g.powerLimitMw, [&](unsigned int mw) { return num(mw / 1000.0); });
  field(env, o, errors, "smClockMhz", g.smClockMhz, num);
  field(env, o, errors, "memClockMhz", g.memClockMhz, num);
  field(env, o, errors, "graphicsClockMhz", g.graphicsClockMhz, num);
  field(env, o, errors, "clocksEventReasons", g.clocksEventReasons, [&](unsigned long long mask) -> napi_value {
    std::vector<std::string> names = clocksEventReasonNames(mask);
    Napi::Array a = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); ++i) a.Set(static_cast<uint32_t>(i), names[i]);
    return JsObject(env).num("mask", static_cast<double>(mask)).val("names", a);
  });
  auto ull = [&](unsigned long long v) { return num(static_cast<double>(v)); };
  field(env, o, errors, "eccCorrectedVolatile", g.eccCorrectedVolatile, ull);
  field(env, o, errors, "eccUncorrectedVolatile", g.eccUncorrectedVolatile, ull);
  field(env, o, errors, "eccCorrectedAggregate", g.eccCorrectedAggregate, ull);
  field(env, o, errors, "eccUncorrectedAggregate", g.eccUncorrectedAggregate, ull);
  field(env, o, errors, "retiredPagesSingleBit", g.retiredPagesSbe, num);
  field(env, o, errors, "retiredPagesDoubleBit", g.retiredPagesDbe, num);
  field(env, o, errors, "retiredPagesPending", g.retiredPagesPending,
        [&](int v) { return Napi::Boolean::New(env, v != 0); });
  field(env, o, errors, "remappedRows", g.remappedRows, [&](const RemappedRows& r) -> napi_value {
    return JsObject(env)
        .num("correctable", r.correctable)
        .num("uncorrectable", r.uncorrectable)
        .boolean("pending", r.pending != 0)
        .boolean("failure", r.failure != 0);
  });
  field(env, o, errors, "pcieReplayCounter", g.pcieReplayCounter, num);
  field(env, o, errors, "performanceState", g.performanceState, [&](int p) { return num(p); });
  field(env, o, errors, "persistenceMode", g.persistenceMode, [&](int v) { return Napi::Boolean::New(env, v != 0); });
  field(env, o, errors, "computeMode", g.computeMode, [&](int v) { return str(computeModeName(v)); });
  field(env, o, errors, "processes", g.processes, [&](const std::vector<GpuProcess>& ps) -> napi_value {
    Napi::Array a = Napi::Array::New(env, ps.size());
    for (size_t i = 0; i < ps.size(); ++i) {
      JsObject p(env);
      p.num("pid", ps[i].pid);
      if (ps[i].memoryKnown)
        p.u64("usedMemory", ps[i].usedMemory);
      else
        p.null("usedMemory");
      a.Set(static_cast<uint32_t>(i), p.object());
    }
    return a;
  });
  field(env, o, errors, "recoveryAction", g.recoveryAction, [&](unsigned int v) { return str(recoveryActionName(v)); });
  field(env, o, errors, "nvlinks", g.nvlinks, [&](const std::vector<NvLink>& links) -> napi_value {
    Napi::Array arr = Napi::Array::New(env, links.size());
    for (size_t i = 0; i < links.size(); ++i) {
      const NvLink& k = links[i];
      JsObject lo(env);
      Napi::Object lerr = Napi::Object::New(env);
      lo.num("link", k.link).boolean("active", k.active);
      field(env, lo, lerr, "version", k.version, num);
      field(env, lo, lerr, "remoteBusId", k.remoteBusId, str);
      field(env, lo, lerr, "replayErrors", k.replay, ull);
      field(env, lo, lerr, "recoveryErrors", k.recovery, ull);
      field(env, lo, lerr, "crcFlitErrors", k.crcFlit, ull);
      field(env, lo, lerr, "crcDataErrors", k.crcData, ull);
      lo.val("errors", lerr);
      arr.Set(static_cast<uint32_t>(i), lo.object());
    }
    return arr;
  });
  field(env, o, errors, "fabric", g.fabric, [&](const FabricInfo& f) -> napi_value {
    static const char* states[] = {"not_supported", "not_started", "in_progress", "completed"};
    JsObject fo(env);
    fo.str("state", f.state < 4 ? states[f.state] : "unknown").num("stateId", f.state);
    // status is meaningful only once registration completed
    if (f.state == kFabricCompleted)
      fo.val("status", nvmlError(env, f.status));
    else
      fo.null("status");
    fo.num("cliqueId", f.cliqueId).str("clusterUuid", f.clusterUuid);
    if (f.hasHealthMask)
      fo.num("healthMask", f.healthMask);
    else
      fo.null("healthMask");
    return fo;
  });
  bool lost = false;
  for (Return r : {g.uuid.ret, g.memory.ret, g.utilization.ret, g.temperature.ret})
    if (r == ERROR_GPU_IS_LOST) lost = true;
  o.boolean("lost", lost);
  o.num("sampleUs", g.sampleUs);
  o.val("errors", errors);
  return o;
}

napi_value sampleToJs(Napi::Env env, const GpuSample& s) {
  JsObject o(env);
  if (!s.libraryLoaded) {
    return o.boolean("available", false)
        .str("reason", s.libraryPath + " not found")
        .str("code", "NVML_ERROR_LIBRARY_NOT_FOUND")
        .str("detail", s.loadError)
        .str("libraryPath", s.libraryPath);
  }
  o.str("libraryPath", s.libraryPath);
  if (s.initRet != SUCCESS) {
    return o.boolean("available", false)
        .str("reason", "nvmlInit failed: " + errorText(s.initRet))
        .str("code", returnName(s.initRet))
        .num("initMs", s.initMs);
  }
  if (!s.deviceCount.ok()) {
    return o.boolean("available", false)
        .str("reason", "nvmlDeviceGetCount failed: " + errorText(s.deviceCount.ret))
        .str("code", returnName(s.deviceCount.ret));
  }
  Napi::Array devs = Napi::Array::New(env, s.devices.size());
  for (size_t i = 0; i < s.devices.size(); ++i) devs.Set(static_cast<uint32_t>(i), deviceToJs(env, s.devices[i]));
  return o.boolean("available", true)
      .str("driverVersion", s.driverVersion)
      .str("nvmlVersion", s.nvmlVersion)
      .num("deviceCount", s.deviceCount.value)
      .num("initMs", s.initMs)
      .num("totalUs", s.totalUs)
      .val("devices", devs);
}

class GpuWorkerWrap : public Napi::ObjectWrap<GpuWorkerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "GpuWorker",
        {InstanceMethod<&GpuWorkerWrap::Sample>("sample"), InstanceMethod<&GpuWorkerWrap::Action>("action"),
         InstanceMethod<&GpuWorkerWrap::BusyForMs>("busyForMs"), InstanceMethod<&GpuWorkerWrap::Stop>("stop")});
  }

  explicit GpuWorkerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GpuWorkerWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) throw invalidArg(env, "onResult", "a function");
    // One reference, owned by the worker thread and released when it exits.
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "overnight:gpu", 0, 1);
    tsfn_.Unref(env);  // pending deadlines are JS timers; the thread alone never keeps Node alive
    Napi::ThreadSafeFunction tsfn = tsfn_;
    worker_ = std::make_unique<GpuWorker>(
        [tsfn](GpuJob* job) mutable {
          napi_status st = tsfn.NonBlockingCall(job, [](Napi::Env env, Napi::Function cb, GpuJob* j) {
            std::unique_ptr<GpuJob> owned(j);
            if (!env) return;
            guarded(env, "overnight:gpu", [&] {
              napi_value result;
              if (j->kind == GpuJob::Sample) {
                result = sampleToJs(env, j->sample);
              } else {
                JsObject r(env);
                r.str("action", j->action)
                    .num("gpuIndex", j->gpuIndex)
                    .boolean("ok", j->actionRet == SUCCESS)
                    .str("code", returnName(j->actionRet))
                    .str("message", errorText(j->actionRet));
                result = r;
              }
              callSafely(env, cb, {Napi::Number::New(env, j->id), result, Napi::Number::New(env, j->elapsedUs)});
            });
          });
          if (st != napi_ok) delete job;
        },
        [tsfn]() mutable { tsfn.Release(); });
  }

  ~GpuWorkerWrap() override {
    if (worker_) worker_->stop();
  }

 private:
  Napi::Value Sample(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!worker_) throw Napi::Error::New(env, "GpuWorker is stopped");
    auto job = std::make_unique<GpuJob>();
    job->kind = GpuJob::Sample;
    job->id = jobId(info);
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      job->sampleOptions.quick = optBool(o, "quick", false);
      job->sampleOptions.processes = optBool(o, "processes", true);
      if (o.Has("indices") && o.Get("indices").IsArray()) {
        Napi::Array a = o.Get("indices").As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) {
          Napi::Value v = a.Get(i);
          if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0)
            throw invalidArg(env, "indices", "an array of GPU indices");
          job->sampleOptions.indices.push_back(v.As<Napi::Number>().Uint32Value());
        }
      }
    }
    worker_->submit(job.release());
    return env.Undefined();
  }

  Napi::Value Action(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!worker_) throw Napi::Error::New(env, "GpuWorker is stopped");
    auto job = std::make_unique<GpuJob>();
    job->kind = GpuJob::Action;
    job->id = jobId(info);
    if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsString())
      throw invalidArg(env, "action", "(jobId, gpuIndex, action, value?)");
    job->gpuIndex = info[1].As<Napi::Number>().Uint32Value();
    job->action = info[2].As<Napi::String>().Utf8Value();
    if (info.Length() > 3 && info[3].IsNumber()) job->value = info[3].As<Napi::Number>().Uint32Value();
    worker_->submit(job.release());
    return env.Undefined();
  }

  Napi::Value BusyForMs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), worker_ ? worker_->busyForUs() / 1000.0 : 0);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (worker_) {
      worker_->stop();
      worker_.reset();
    }
    return info.Env().Undefined();
  }

  static double jobId(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber()) throw invalidArg(info.Env(), "jobId", "a number");
    return info[0].As<Napi::Number>().DoubleValue();
  }

  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<GpuWorker> worker_;
};

class GpuEventWatcherWrap : public Napi::ObjectWrap<GpuEventWatcherWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GpuEventWatcher", {InstanceMethod<&GpuEventWatcherWrap::Stop>("stop")});
  }

  explicit GpuEventWatcherWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GpuEventWatcherWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) throw invalidArg(env, "onEvent", "a function");
    unsigned long long mask = kEventXidCritical | kEventDoubleBitEcc | kEventSingleBitEcc;
    unsigned int pollMs = 500;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      double m = optNumber(o, "mask", static_cast<double>(mask));
      if (m <= 0) throw invalidArg(env, "mask", "a positive event-type bit mask");
      mask = static_cast<unsigned long long>(m);
      pollMs = static_cast<unsigned int>(optIntIn(o, "pollMs", pollMs, 10, 60000, "milliseconds in [10, 60000]"));
    }
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "overnight:gpuEvents", 0, 1);
    // A subscription keeps the process alive until stop(), like an fs.watch handle.
    Napi::ThreadSafeFunction tsfn = tsfn_;
    watcher_ = std::make_unique<EventWatcher>(
        mask, pollMs,
        [tsfn](const GpuEvent& e) mutable {
          auto* copy = new GpuEvent(e);
          napi_status st = tsfn.NonBlockingCall(copy, [](Napi::Env env, Napi::Function cb, GpuEvent* ev) {
            std::unique_ptr<GpuEvent> owned(ev);
            if (!env) return;
            guarded(env, "overnight:gpuEvents", [&] {
              JsObject o(env);
              o.num("timeMs", ev->timeMs);
              if (ev->error != SUCCESS) {
                o.str("type", "error").val("error", nvmlError(env, ev->error)).str("where", ev->errorWhere);
              } else {
                o.str("type", eventTypeName(ev->eventType))
                    .num("eventType", static_cast<double>(ev->eventType))
                    .num("gpuIndex", ev->gpuIndex)
                    .str("uuid", ev->uuid)
                    .num("data", static_cast<double>(ev->eventData));
                if (ev->eventType == kEventXidCritical) o.num("xid", static_cast<double>(ev->eventData));
              }
              callSafely(env, cb, {o.object()});
            });
          });
          if (st != napi_ok) delete copy;
        },
        [tsfn]() mutable { tsfn.Release(); });
  }

  ~GpuEventWatcherWrap() override {
    if (watcher_) watcher_->stop();
  }

 private:
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (watcher_) {
      watcher_->stop();
      watcher_.reset();
      tsfn_.Unref(info.Env());
    }
    return info.Env().Undefined();
  }
  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<EventWatcher> watcher_;
};

// What the loader found: cheap (dlopen + dlsym once), no NVML call.
Napi::Value NvmlInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Api& a = api();
  JsObject o(env);
  o.boolean("loaded", a.loaded).str("libraryPath", a.libraryPath);
  if (!a.loaded) o.str("error", a.loadError);
  Napi::Object fns = Napi::Object::New(env);
  for (const auto& [name, symbol] : a.table()) {
    if (symbol)
      fns.Set(name, symbol);
    else
      fns.Set(name, env.Null());
  }
  o.val("functions", fns).num("processInfoStride", a.processInfoStride);
  return o.object();
}

Napi::Value GpuProcessesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsBuffer()) throw invalidArg(env, "args", "(buffer, count, stride, memTotal)");
  Napi::Buffer<unsigned char> b = info[0].As<Napi::Buffer<unsigned char>>();
  unsigned int count = info[1].As<Napi::Number>().Uint32Value();
  int stride = info[2].As<Napi::Number>().Int32Value();
  if (stride != 16 && stride != 24 && stride != 32) throw invalidArg(env, "stride", "16, 24 or 32");
  if (static_cast<size_t>(count) * static_cast<size_t>(stride) > b.Length())
    throw invalidArg(env, "count", "within the buffer");
  std::vector<GpuProcess> out;
  if (!decodeProcesses(b.Data(), count, stride,
                       static_cast<unsigned long long>(info[3].As<Napi::Number>().DoubleValue()), out))
    return env.Null();
  Napi::Array a = Napi::Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); ++i)
    a.Set(static_cast<uint32_t>(i), JsObject(env).num("pid", out[i].pid).u64("usedMemory", out[i].usedMemory).object());
  return a;
}

}  // namespace

void registerGpuBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("GpuWorker", GpuWorkerWrap::Define(env));
  exports.Set("GpuEventWatcher", GpuEventWatcherWrap::Define(env));
  exports.Set("nvmlInfo", Napi::Function::New<NvmlInfo>(env, "nvmlInfo"));
  Napi::Object parsers = exports.Get("parsers").As<Napi::Object>();
  parsers.Set("gpuProcesses", Napi::Function::New<GpuProcessesJs>(env, "gpuProcesses"));
}

}  // namespace ovn
