// GPU samples as JS values: one object per device, a field null with its NVML code in `errors` when
// that query failed. Thread: JS thread only (called from the ThreadSafeFunction callbacks).
#include "gpu_convert.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <mutex>
#include <string>
#include <unordered_map>

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

// A device's numbers go to JS in one Float64Array per sample, one row of slots per GPU (NaN where the
// query failed or was not asked for), and a small JS function compiled once per environment builds
// each device object from its row with object literals. Setting ~70 properties a GPU one
// napi_set_named_property at a time (a key string internalized and a map transition looked up in
// the runtime for each) was the addon's largest cost over the same NVML calls in C; a literal in JS
// gets V8's inline caches. The row also carries each failed field's NVML code, from which the JS
// side builds `errors` (each code described once by nvmlError). Strings, arrays and the rare nested
// parts (processes, NVLink, fabric) stay built here.
// clang-format off
#define OVN_GPU_SLOTS(X)                                                                                        \
  X(utilGpu) X(utilMemory) X(memTotal) X(memUsed) X(memFree) X(memReserved) X(temperatureC)                    \
  X(slowdownTemperatureC) X(shutdownTemperatureC) X(maxOperatingTemperatureC) X(powerW) X(powerLimitW)          \
  X(smClockMhz) X(memClockMhz) X(graphicsClockMhz) X(cerMask) X(eccCorrectedVolatile) X(eccUncorrectedVolatile) \
  X(eccCorrectedAggregate) X(eccUncorrectedAggregate) X(retiredPagesSingleBit) X(retiredPagesDoubleBit)         \
  X(retiredPagesPending) X(rrCorrectable) X(rrUncorrectable) X(rrPending) X(rrFailure) X(pcieReplayCounter)     \
  X(performanceState) X(persistenceMode)
// clang-format on
#define OVN_SLOT_ENUM(name) name,
enum Slot : int { OVN_GPU_SLOTS(OVN_SLOT_ENUM) kSlots };
#undef OVN_SLOT_ENUM
// After the slots, one NVML code per field that can fail (NaN: ok or not asked for), in the order
// `errors` lists them: X(key in JS, GpuDevice member).
// clang-format off
#define OVN_GPU_ERRORS(X)                                                                                       \
  X(uuid, uuid) X(name, name) X(busId, busId) X(utilization, utilization) X(memory, memory)                     \
  X(temperatureC, temperature) X(slowdownTemperatureC, tempSlowdown) X(shutdownTemperatureC, tempShutdown)      \
  X(maxOperatingTemperatureC, tempGpuMax) X(powerW, powerMw) X(powerLimitW, powerLimitMw)                       \
  X(smClockMhz, smClockMhz) X(memClockMhz, memClockMhz) X(graphicsClockMhz, graphicsClockMhz)                   \
  X(clocksEventReasons, clocksEventReasons) X(eccCorrectedVolatile, eccCorrectedVolatile)                       \
  X(eccUncorrectedVolatile, eccUncorrectedVolatile) X(eccCorrectedAggregate, eccCorrectedAggregate)             \
  X(eccUncorrectedAggregate, eccUncorrectedAggregate) X(retiredPagesSingleBit, retiredPagesSbe)                 \
  X(retiredPagesDoubleBit, retiredPagesDbe) X(retiredPagesPending, retiredPagesPending)                         \
  X(remappedRows, remappedRows) X(pcieReplayCounter, pcieReplayCounter) X(performanceState, performanceState)   \
  X(persistenceMode, persistenceMode) X(computeMode, computeMode) X(processes, processes)                       \
  X(recoveryAction, recoveryAction) X(nvlinks, nvlinks) X(fabric, fabric)
// clang-format on
#define OVN_ERR_ENUM(key, member) err_##key,
enum ErrorSlot : int { OVN_GPU_ERRORS(OVN_ERR_ENUM) kErrors };
#undef OVN_ERR_ENUM
constexpr int kWidth = kSlots + kErrors;

// The builder's source. Its slot constants are generated from OVN_GPU_SLOTS, so the two sides
// cannot drift. Key order is the one this file always produced. A field not asked for (quick
// samples, processes: false) is absent; a failed one is null with its code in `errors`.
std::string builderSource() {
  std::string src = "(function (describe) {\n'use strict';\nconst W = " + std::to_string(kWidth) +
                    ", S = " + std::to_string(kSlots) + ", E = " + std::to_string(kErrors) + ";\nconst errNames = [";
#define OVN_ERR_NAME(key, member) src += "'" #key "',";
  OVN_GPU_ERRORS(OVN_ERR_NAME)
#undef OVN_ERR_NAME
  src += "];\n";
#define OVN_SLOT_CONST(name) src += std::string("const ") + #name + " = " + std::to_string(name) + ";\n";
  OVN_GPU_SLOTS(OVN_SLOT_CONST)
#undef OVN_SLOT_CONST
  src += R"JS(
const num = (x) => (x !== x ? null : x);
const bool = (x) => (x !== x ? null : x !== 0);
// { code, message } of an NVML return code: described once by the addon, a fresh object each time.
const described = new Map();
const nvmlError = (c) => {
  let d = described.get(c);
  if (d === undefined) described.set(c, (d = describe(c)));
  return { code: d.code, message: d.message };
};
return function device(v, i, index, uuid, name, busId, cerNames, computeMode, processes, recoveryAction, nvlinks,
                       fabric, lost, sampleUs, quick) {
  const o = i * W;
  const errors = {};
  for (let k = 0; k < E; k++) {
    const c = v[o + S + k];
    if (c === c) errors[errNames[k]] = nvmlError(c);
  }
  const ug = v[o + utilGpu];
  const utilization = ug !== ug ? null : { gpu: ug, memory: v[o + utilMemory] };
  const mt = v[o + memTotal];
  const memory = mt !== mt ? null : { total: mt, used: v[o + memUsed], free: v[o + memFree], reserved: num(v[o + memReserved]) };
  if (quick) {
    if (processes === undefined)
      return { index, uuid, name, utilization, memory, temperatureC: num(v[o + temperatureC]), powerW: num(v[o + powerW]),
               lost, sampleUs, errors };
    return { index, uuid, name, utilization, memory, temperatureC: num(v[o + temperatureC]), powerW: num(v[o + powerW]),
             processes, lost, sampleUs, errors };
  }
  const mask = v[o + cerMask];
  const rc = v[o + rrCorrectable];
)JS";
  // With and without processes (processes: false leaves the key out, as for every field not asked for).
  const std::string full = R"JS({
    index, uuid, name, busId, utilization, memory,
    temperatureC: num(v[o + temperatureC]),
    slowdownTemperatureC: num(v[o + slowdownTemperatureC]),
    shutdownTemperatureC: num(v[o + shutdownTemperatureC]),
    maxOperatingTemperatureC: num(v[o + maxOperatingTemperatureC]),
    powerW: num(v[o + powerW]),
    powerLimitW: num(v[o + powerLimitW]),
    smClockMhz: num(v[o + smClockMhz]),
    memClockMhz: num(v[o + memClockMhz]),
    graphicsClockMhz: num(v[o + graphicsClockMhz]),
    clocksEventReasons: mask !== mask ? null : { mask, names: cerNames },
    eccCorrectedVolatile: num(v[o + eccCorrectedVolatile]),
    eccUncorrectedVolatile: num(v[o + eccUncorrectedVolatile]),
    eccCorrectedAggregate: num(v[o + eccCorrectedAggregate]),
    eccUncorrectedAggregate: num(v[o + eccUncorrectedAggregate]),
    retiredPagesSingleBit: num(v[o + retiredPagesSingleBit]),
    retiredPagesDoubleBit: num(v[o + retiredPagesDoubleBit]),
    retiredPagesPending: bool(v[o + retiredPagesPending]),
    remappedRows: rc !== rc ? null : { correctable: rc, uncorrectable: v[o + rrUncorrectable],
                                       pending: v[o + rrPending] !== 0, failure: v[o + rrFailure] !== 0 },
    pcieReplayCounter: num(v[o + pcieReplayCounter]),
    performanceState: num(v[o + performanceState]),
    persistenceMode: bool(v[o + persistenceMode]),
    computeMode,
    processes,
    recoveryAction, nvlinks, fabric, lost, sampleUs, errors,
  })JS";
  std::string noProcesses = full;
  noProcesses.erase(noProcesses.find("    processes,\n"), std::string("    processes,\n").size());
  src += "  if (processes === undefined) return " + noProcesses + ";\n  return " + full + ";\n};\n})";

  return src;
}

// The compiled builder, one per environment (the main thread and each worker thread have their own).
std::mutex buildersMu;
std::unordered_map<napi_env, napi_ref> builders;

Napi::Function builder(Napi::Env env) {
  {
    std::lock_guard<std::mutex> lock(buildersMu);
    auto it = builders.find(env);
    if (it != builders.end()) {
      napi_value fn;
      if (napi_get_reference_value(env, it->second, &fn) == napi_ok && fn) return Napi::Function(env, fn);
    }
  }
  napi_value src = Napi::String::New(env, builderSource());
  napi_value outer, fn;
  NAPI_THROW_IF_FAILED(env, napi_run_script(env, src, &outer), Napi::Function());
  napi_value describe = Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Value(info.Env(), nvmlError(info.Env(), static_cast<Return>(info[0].As<Napi::Number>().Int32Value())));
  });
  NAPI_THROW_IF_FAILED(env, napi_call_function(env, env.Undefined(), outer, 1, &describe, &fn), Napi::Function());
  napi_ref ref;
  NAPI_THROW_IF_FAILED(env, napi_create_reference(env, fn, 1, &ref), Napi::Function());
  {
    std::lock_guard<std::mutex> lock(buildersMu);
    builders[env] = ref;
  }
  napi_add_env_cleanup_hook(
      env,
      [](void* arg) {
        napi_env e = static_cast<napi_env>(arg);
        std::lock_guard<std::mutex> lock(buildersMu);
        auto it = builders.find(e);
        if (it == builders.end()) return;
        napi_delete_reference(e, it->second);
        builders.erase(it);
      },
      env);
  return Napi::Function(env, fn);
}

// A double slot: the value when the field is ok, NaN otherwise (its code goes to errors, or it was
// not asked for).
template <class T, class Conv>
void slot(double* row, Slot k, const Field<T>& f, Conv conv) {
  row[k] = f.ok() ? conv(f.value) : NAN;
}

// The NVML code of a field that was asked for and failed; NaN otherwise.
template <class T>
double errorCode(const Field<T>& f) {
  return f.requested() && !f.ok() ? static_cast<double>(f.ret) : NAN;
}

// A string-like or nested field as a JS value: undefined when not asked for (left out), null when
// it failed, else make(value).
template <class T, class Make>
napi_value part(Napi::Env env, const Field<T>& f, Make make) {
  if (!f.requested()) return env.Undefined();
  if (!f.ok()) return env.Null();
  return make(f.value);
}

// The part of a device a lost handle leaves: index, errors.handle, lost.
napi_value lostDeviceToJs(Napi::Env env, const GpuDevice& g) {
  JsObject o(env);
  Napi::Object errors = Napi::Object::New(env);
  o.num("index", g.index);
  errors.Set("handle", nvmlError(env, g.handleRet));
  return o.val("errors", errors).boolean("lost", g.handleRet == ERROR_GPU_IS_LOST);
}

napi_value deviceToJs(Napi::Env env, const Napi::Function& build, napi_value rows, size_t i, const GpuDevice& g,
                      double* row, bool quick) {
  auto num = [&](double v) -> napi_value { return Napi::Number::New(env, v); };
  auto str = [&](const std::string& v) -> napi_value { return Napi::String::New(env, v); };
  auto d = [](auto v) { return static_cast<double>(v); };
  slot(row, utilGpu, g.utilization, [](const Utilization& u) { return u.gpu / 100.0; });
  slot(row, utilMemory, g.utilization, [](const Utilization& u) { return u.memory / 100.0; });
  slot(row, memTotal, g.memory, [](const GpuMemory& m) { return static_cast<double>(m.total); });
  slot(row, memUsed, g.memory, [](const GpuMemory& m) { return static_cast<double>(m.used); });
  slot(row, memFree, g.memory, [](const GpuMemory& m) { return static_cast<double>(m.free); });
  slot(row, memReserved, g.memory,
       [](const GpuMemory& m) { return m.hasReserved ? static_cast<double>(m.reserved) : NAN; });
  slot(row, temperatureC, g.temperature, d);
  slot(row, slowdownTemperatureC, g.tempSlowdown, d);
  slot(row, shutdownTemperatureC, g.tempShutdown, d);
  slot(row, maxOperatingTemperatureC, g.tempGpuMax, d);
  slot(row, powerW, g.powerMw, [](unsigned int mw) { return mw / 1000.0; });
  slot(row, powerLimitW, g.powerLimitMw, [](unsigned int mw) { return mw / 1000.0; });
  slot(row, smClockMhz, g.smClockMhz, d);
  slot(row, memClockMhz, g.memClockMhz, d);
  slot(row, graphicsClockMhz, g.graphicsClockMhz, d);
  slot(row, cerMask, g.clocksEventReasons, d);
  slot(row, eccCorrectedVolatile, g.eccCorrectedVolatile, d);
  slot(row, eccUncorrectedVolatile, g.eccUncorrectedVolatile, d);
  slot(row, eccCorrectedAggregate, g.eccCorrectedAggregate, d);
  slot(row, eccUncorrectedAggregate, g.eccUncorrectedAggregate, d);
  slot(row, retiredPagesSingleBit, g.retiredPagesSbe, d);
  slot(row, retiredPagesDoubleBit, g.retiredPagesDbe, d);
  slot(row, retiredPagesPending, g.retiredPagesPending, d);
  slot(row, rrCorrectable, g.remappedRows, [](const RemappedRows& r) { return static_cast<double>(r.correctable); });
  slot(row, rrUncorrectable, g.remappedRows,
       [](const RemappedRows& r) { return static_cast<double>(r.uncorrectable); });
  slot(row, rrPending, g.remappedRows, [](const RemappedRows& r) { return static_cast<double>(r.pending); });
  slot(row, rrFailure, g.remappedRows, [](const RemappedRows& r) { return static_cast<double>(r.failure); });
  slot(row, pcieReplayCounter, g.pcieReplayCounter, d);
  slot(row, performanceState, g.performanceState, d);
  slot(row, persistenceMode, g.persistenceMode, d);

  // errors, in the order the fields appear.
#define OVN_ERR_CODE(key, member) row[kSlots + err_##key] = errorCode(g.member);
  OVN_GPU_ERRORS(OVN_ERR_CODE)
#undef OVN_ERR_CODE

  napi_value cerNames = env.Null();
  if (g.clocksEventReasons.ok()) {
    std::vector<std::string> names = clocksEventReasonNames(g.clocksEventReasons.value);
    Napi::Array a = Napi::Array::New(env, names.size());
    for (size_t k = 0; k < names.size(); ++k) a.Set(static_cast<uint32_t>(k), names[k]);
    cerNames = a;
  }
  auto ull = [&](unsigned long long v) { return num(static_cast<double>(v)); };
  napi_value processes = part(env, g.processes, [&](const std::vector<GpuProcess>& ps) -> napi_value {
    Napi::Array a = Napi::Array::New(env, ps.size());
    for (size_t k = 0; k < ps.size(); ++k) {
      JsObject p(env);
      p.num("pid", ps[k].pid);
      if (ps[k].memoryKnown)
        p.u64("usedMemory", ps[k].usedMemory);
      else
        p.null("usedMemory");
      a.Set(static_cast<uint32_t>(k), p.object());
    }
    return a;
  });
  napi_value nvlinks = part(env, g.nvlinks, [&](const std::vector<NvLink>& links) -> napi_value {
    Napi::Array arr = Napi::Array::New(env, links.size());
    for (size_t k = 0; k < links.size(); ++k) {
      const NvLink& l = links[k];
      JsObject lo(env);
      Napi::Object lerr = Napi::Object::New(env);
      lo.num("link", l.link).boolean("active", l.active);
      field(env, lo, lerr, "version", l.version, num);
      field(env, lo, lerr, "remoteBusId", l.remoteBusId, str);
      field(env, lo, lerr, "replayErrors", l.replay, ull);
      field(env, lo, lerr, "recoveryErrors", l.recovery, ull);
      field(env, lo, lerr, "crcFlitErrors", l.crcFlit, ull);
      field(env, lo, lerr, "crcDataErrors", l.crcData, ull);
      lo.val("errors", lerr);
      arr.Set(static_cast<uint32_t>(k), lo.object());
    }
    return arr;
  });
  napi_value fabric = part(env, g.fabric, [&](const FabricInfo& f) -> napi_value {
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
  napi_value argv[] = {rows,
                       num(static_cast<double>(i)),
                       num(g.index),
                       part(env, g.uuid, str),
                       part(env, g.name, str),
                       part(env, g.busId, str),
                       cerNames,
                       part(env, g.computeMode, [&](int v) { return str(computeModeName(v)); }),
                       processes,
                       part(env, g.recoveryAction, [&](unsigned int v) { return str(recoveryActionName(v)); }),
                       nvlinks,
                       fabric,
                       Napi::Boolean::New(env, lost),
                       num(g.sampleUs),
                       Napi::Boolean::New(env, quick)};
  napi_value out;
  NAPI_THROW_IF_FAILED(env, napi_call_function(env, env.Undefined(), build, std::size(argv), argv, &out), nullptr);
  return out;
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
  Napi::Function build = builder(env);
  // One row of slots per device.
  const size_t n = s.devices.size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, std::max<size_t>(1, n) * kWidth * sizeof(double));
  Napi::Float64Array rows = Napi::Float64Array::New(env, n * kWidth, buf, 0);
  double* data = rows.Data();
  Napi::Array devs = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; ++i) {
    const GpuDevice& g = s.devices[i];
    napi_value d = g.handleRet != SUCCESS ? lostDeviceToJs(env, g)
                                          : deviceToJs(env, build, rows, i, g, data + i * kWidth, s.quick);
    devs.Set(static_cast<uint32_t>(i), d);
  }
  return o.boolean("available", true)
      .str("driverVersion", s.driverVersion)
      .str("nvmlVersion", s.nvmlVersion)
      .num("deviceCount", s.deviceCount.value)
      .num("initMs", s.initMs)
      .num("totalUs", s.totalUs)
      .val("devices", devs);
}

}  // namespace ovn
