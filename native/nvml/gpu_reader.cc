#include "gpu_reader.h"

#include <cstring>
#include <mutex>

#include "../proc/clock.h"
#include "nvml_loader.h"

namespace ovn::nvml {
namespace {

std::mutex initMu;
bool initialized = false;

template <class T, class Fn, class... Args>
void get(Field<T>& f, const Entry<Fn>& e, Args... args) {
  if (!e) {
    f.ret = ERROR_FUNCTION_NOT_FOUND;
    return;
  }
  f.ret = e.fn(args..., &f.value);
}

constexpr unsigned long long kValueNotAvailable = ~0ULL;  // NVML_VALUE_NOT_AVAILABLE
constexpr unsigned int kPidMaxLimit = 4u << 20;           // PID_MAX_LIMIT on 64-bit Linux

void readProcesses(const Api& a, Device d, GpuDevice& g) {
  Field<std::vector<GpuProcess>>& f = g.processes;
  if (!a.computeProcesses) {
    f.ret = ERROR_FUNCTION_NOT_FOUND;
    return;
  }
  // Room for the widest layout any header has declared (32 bytes), so a driver that fills a wider
  // struct than we expect can never write past the buffer.
  constexpr size_t kMaxStride = 32;
  unsigned int count = 0;
  Return r = a.computeProcesses.fn(d, &count, nullptr);
  if (r == SUCCESS && count == 0) {
    f.ret = SUCCESS;
    return;
  }
  if (r != SUCCESS && r != ERROR_INSUFFICIENT_SIZE) {
    f.ret = r;
    return;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    unsigned int cap = count + 8;  // processes may start between the two calls
    std::vector<unsigned char> buf(cap * kMaxStride, 0);
    unsigned int n = cap;
    r = a.computeProcesses.fn(d, &n, buf.data());
    if (r == ERROR_INSUFFICIENT_SIZE) {
      count = n;
      continue;
    }
    if (r != SUCCESS) {
      f.ret = r;
      return;
    }
    unsigned long long total = g.memory.ok() ? g.memory.value.total : 0;
    if (decodeProcesses(buf.data(), n, a.processInfoStride, total, f.value) ||
        (a.processInfoStride == 24 && decodeProcesses(buf.data(), n, 32, total, f.value))) {
      f.ret = SUCCESS;
    } else {
      f.value.clear();
      f.ret = ERROR_UNKNOWN;  // entries did not decode with any known layout
    }
    return;
  }
  f.ret = ERROR_INSUFFICIENT_SIZE;
}

// Every populated NVLink link. A GPU without NVLink answers NOT_SUPPORTED for link 0, which is the
// field's result (not an error to report); a link that is not populated answers NOT_SUPPORTED or
// INVALID_ARGUMENT and is left out.
void readNvLinks(const Api& a, Device d, GpuDevice& g) {
  Field<std::vector<NvLink>>& f = g.nvlinks;
  if (!a.nvLinkState) {
    f.ret = ERROR_FUNCTION_NOT_FOUND;
    return;
  }
  Return first = SUCCESS;
  for (unsigned int l = 0; l < kNvLinkMaxLinks; ++l) {
    unsigned int active = 0;
    Return r = a.nvLinkState.fn(d, l, &active);
    if (l == 0) first = r;
    // Links are populated from 0: a GPU that says NOT_SUPPORTED for link 0 is PCIe-only, and the
    // other 17 queries would only cost time (one driver call each) on every full sample.
    if (l == 0 && r == ERROR_NOT_SUPPORTED) break;
    if (r == ERROR_NOT_SUPPORTED || r == ERROR_INVALID_ARGUMENT) continue;
    if (r != SUCCESS) {
      // GPU lost, timeout: the whole field fails with it.
      f.ret = r;
      f.value.clear();
      return;
    }
    NvLink k;
    k.link = l;
    k.active = active != 0;
    get(k.version, a.nvLinkVersion, d, l);
    if (a.nvLinkRemotePci) {
      PciInfo p{};
      k.remoteBusId.ret = a.nvLinkRemotePci.fn(d, l, &p);
      if (k.remoteBusId.ok()) k.remoteBusId.value = a.nvLinkRemotePciVersion >= 2 ? p.busId : p.busIdLegacy;
    } else {
      k.remoteBusId.ret = ERROR_FUNCTION_NOT_FOUND;
    }
    get(k.replay, a.nvLinkErrorCounter, d, l, kNvLinkErrorReplay);
    get(k.recovery, a.nvLinkErrorCounter, d, l, kNvLinkErrorRecovery);
    get(k.crcFlit, a.nvLinkErrorCounter, d, l, kNvLinkErrorCrcFlit);
    get(k.crcData, a.nvLinkErrorCounter, d, l, kNvLinkErrorCrcData);
    f.value.push_back(std::move(k));
  }
  f.ret = f.value.empty() ? (first == SUCCESS ? ERROR_NOT_SUPPORTED : first) : SUCCESS;
}

void readFabric(const Api& a, Device d, GpuDevice& g) {
  Field<FabricInfo>& f = g.fabric;
  const unsigned char* uuid = nullptr;
  GpuFabricInfoV2 v2{};
  GpuFabricInfo v1{};
  if (a.fabricInfoV) {
    v2.version = kGpuFabricInfoV2Version;
    f.ret = a.fabricInfoV.fn(d, &v2);
    if (f.ok()) {
      f.value.state = v2.state;
      f.value.status = v2.status;
      f.value.cliqueId = v2.cliqueId;
      f.value.hasHealthMask = true;
      f.value.healthMask = v2.healthMask;
      uuid = v2.clusterUuid;
    }
  }
  if (!f.ok() && a.fabricInfo &&
      (!a.fabricInfoV || f.ret == ERROR_ARGUMENT_VERSION_MISMATCH || f.ret == ERROR_FUNCTION_NOT_FOUND)) {
    f.ret = a.fabricInfo.fn(d, &v1);
    if (f.ok()) {
      f.value.state = v1.state;
      f.value.status = v1.status;
      f.value.cliqueId = v1.cliqueId;
      uuid = v1.clusterUuid;
    }
  }
  if (!f.requested()) f.ret = ERROR_FUNCTION_NOT_FOUND;
  if (f.ok() && f.value.state == kFabricNotSupported) f.ret = ERROR_NOT_SUPPORTED;  // not an NVSwitch system
  if (f.ok() && uuid) {
    static const char* hex = "0123456789abcdef";
    bool any = false;
    std::string u;
    for (unsigned int i = 0; i < kFabricUuidLen; ++i) {
      any = any || uuid[i] != 0;
      u.push_back(hex[uuid[i] >> 4]);
      u.push_back(hex[uuid[i] & 15]);
    }
    if (any) f.value.clusterUuid = u;
  }
}

}  // namespace

bool decodeProcesses(const unsigned char* buf, unsigned int count, int stride, unsigned long long memTotal,
                     std::vector<GpuProcess>& out) {
  out.clear();
  for (unsigned int i = 0; i < count; ++i) {
    const unsigned char* e = buf + static_cast<size_t>(i) * static_cast<size_t>(stride);
    unsigned int pid;
    unsigned long long mem;
    std::memcpy(&pid, e, sizeof pid);
    std::memcpy(&mem, e + 8, sizeof mem);  // usedGpuMemory is 8-aligned in every layout
    if (pid == 0 || pid > kPidMaxLimit) return false;
    bool known = mem != kValueNotAvailable;
    if (known && memTotal && mem > memTotal) return false;
    out.push_back({pid, known ? mem : 0, known});
  }
  return true;
}

Return ensureInit(double* initMs) {
  const Api& a = api();
  if (!a.loaded) return ERROR_LIBRARY_NOT_FOUND;
  std::lock_guard<std::mutex> lock(initMu);
  if (initialized) return SUCCESS;
  if (!a.init) return ERROR_FUNCTION_NOT_FOUND;
  double t0 = monotonicNowUs();
  Return r = a.init.fn();
  if (initMs) *initMs = (monotonicNowUs() - t0) / 1000.0;
  if (r == SUCCESS) initialized = true;
  return r;
}

void sampleGpus(const GpuSampleOptions& opts, GpuSample& out) {
  double t0 = monotonicNowUs();
  const Api& a = api();
  out.quick = opts.quick;
  out.libraryPath = a.libraryPath;
  out.libraryLoaded = a.loaded;
  if (!a.loaded) {
    out.loadError = a.loadError;
    out.initRet = ERROR_LIBRARY_NOT_FOUND;
    return;
  }
  out.initRet = ensureInit(&out.initMs);
  if (out.initRet != SUCCESS) return;
  char buf[kNameBuffer];
  if (a.driverVersion && a.driverVersion.fn(buf, sizeof buf) == SUCCESS) out.driverVersion = buf;
  if (a.nvmlVersion && a.nvmlVersion.fn(buf, sizeof buf) == SUCCESS) out.nvmlVersion = buf;
  get(out.deviceCount, a.deviceCount);
  if (!out.deviceCount.ok()) return;
  std::vector<unsigned int> which = opts.indices;
  if (which.empty())
    for (unsigned int i = 0; i < out.deviceCount.value; ++i) which.push_back(i);
  for (unsigned int i : which) {
    double d0 = monotonicNowUs();
    GpuDevice g;
    g.index = i;
    Device d = nullptr;
    g.handleRet = a.handleByIndex ? a.handleByIndex.fn(i, &d) : ERROR_FUNCTION_NOT_FOUND;
    if (g.handleRet != SUCCESS) {
      out.devices.push_back(std::move(g));
      continue;
    }
    auto str = [&](Field<std::string>& f, const Entry<FnDevString>& e) {
      char b[kUuidBuffer] = {0};
      if (!e) {
        f.ret = ERROR_FUNCTION_NOT_FOUND;
        return;
      }
      f.ret = e.fn(d, b, sizeof b);
      if (f.ok()) f.value = b;
    };
    str(g.uuid, a.uuid);
    str(g.name, a.name);
    if (a.memoryV2) {
      MemoryV2 m{};
      m.version = kMemoryV2Version;
      g.memory.ret = a.memoryV2.fn(d, &m);
      if (g.memory.ok()) g.memory.value = {m.total, m.used, m.free, m.reserved, true};
    }
    if (!g.memory.ok() && a.memory) {
      Memory m{};
      g.memory.ret = a.memory.fn(d, &m);
      if (g.memory.ok()) g.memory.value = {m.total, m.used, m.free, 0, false};
    }
    if (!g.memory.requested()) g.memory.ret = ERROR_FUNCTION_NOT_FOUND;
    get(g.utilization, a.utilization, d);
    get(g.temperature, a.temperature, d, kTemperatureGpu);
    get(g.powerMw, a.powerUsage, d);
    if (!opts.quick) {
      if (a.pciInfo) {
        PciInfo p{};
        g.busId.ret = a.pciInfo.fn(d, &p);
        if (g.busId.ok()) g.busId.value = a.pciInfoVersion >= 2 ? p.busId : p.busIdLegacy;
      } else {
        g.busId.ret = ERROR_FUNCTION_NOT_FOUND;
      }
      get(g.tempSlowdown, a.temperatureThreshold, d, kThresholdSlowdown);
      get(g.tempShutdown, a.temperatureThreshold, d, kThresholdShutdown);
      get(g.tempGpuMax, a.temperatureThreshold, d, kThresholdGpuMax);
      get(g.powerLimitMw, a.powerLimit, d);
      get(g.smClockMhz, a.clock, d, kClockSm);
      get(g.memClockMhz, a.clock, d, kClockMem);
      get(g.graphicsClockMhz, a.clock, d, kClockGraphics);
      get(g.clocksEventReasons, a.clocksEventReasons, d);
      get(g.eccCorrectedVolatile, a.totalEcc, d, kEccCorrected, kCounterVolatile);
      get(g.eccUncorrectedVolatile, a.totalEcc, d, kEccUncorrected, kCounterVolatile);
      get(g.eccCorrectedAggregate, a.totalEcc, d, kEccCorrected, kCounterAggregate);
      get(g.eccUncorrectedAggregate, a.totalEcc, d, kEccUncorrected, kCounterAggregate);
      if (a.retiredPages) {
        // pageCount 0 with a null buffer asks only for the count.
        g.retiredPagesSbe.ret = a.retiredPages.fn(d, kRetireMultipleSbe, &g.retiredPagesSbe.value, nullptr);
        if (g.retiredPagesSbe.ret == ERROR_INSUFFICIENT_SIZE) g.retiredPagesSbe.ret = SUCCESS;
        g.retiredPagesDbe.ret = a.retiredPages.fn(d, kRetireDbe, &g.retiredPagesDbe.value, nullptr);
        if (g.retiredPagesDbe.ret == ERROR_INSUFFICIENT_SIZE) g.retiredPagesDbe.ret = SUCCESS;
      } else {
        g.retiredPagesSbe.ret = g.retiredPagesDbe.ret = ERROR_FUNCTION_NOT_FOUND;
      }
      get(g.retiredPagesPending, a.retiredPending, d);
      if (a.remappedRows) {
        RemappedRows& rr = g.remappedRows.value;
        g.remappedRows.ret = a.remappedRows.fn(d, &rr.correctable, &rr.uncorrectable, &rr.pending, &rr.failure);
      } else {
        g.remappedRows.ret = ERROR_FUNCTION_NOT_FOUND;
      }
      get(g.pcieReplayCounter, a.pcieReplay, d);
      get(g.performanceState, a.performanceState, d);
      get(g.persistenceMode, a.persistenceMode, d);
      get(g.computeMode, a.computeMode, d);
      if (a.fieldValues) {
        FieldValue fv{};
        fv.fieldId = kFieldGpuRecoveryAction;
        Return r = a.fieldValues.fn(d, 1, &fv);
        g.recoveryAction.ret = r != SUCCESS ? r : fv.nvmlReturn;
        if (g.recoveryAction.ok()) g.recoveryAction.value = fv.value.uiVal;
      } else {
        g.recoveryAction.ret = ERROR_FUNCTION_NOT_FOUND;
      }
    }
    if (!opts.quick) {
      readNvLinks(a, d, g);
      readFabric(a, d, g);
    }
    if (opts.processes) readProcesses(a, d, g);
    g.sampleUs = monotonicNowUs() - d0;
    out.devices.push_back(std::move(g));
  }
  out.totalUs = monotonicNowUs() - t0;
}

}  // namespace ovn::nvml
