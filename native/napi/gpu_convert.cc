// GPU samples as JS values: one object per device, a field null with its NVML code in `errors` when
// that query failed. Thread: JS thread only (called from the ThreadSafeFunction callbacks).
#include "gpu_convert.h"

#include "../nvml/gpu_names.h"
#include "errors.h"
#include "js_object.h"

namespace ovn {

using namespace nvml;

napi_value nvmlError(Napi::Env env, Return r) {
  return JsObject(env).str("code", returnName(r)).str("message", errorText(r));
}

namespace {

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

}  // namespace

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

}  // namespace ovn
