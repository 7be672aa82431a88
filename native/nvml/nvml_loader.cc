#include "nvml_loader.h"

#include <string>

#include <dlfcn.h>

#include <cstdlib>

namespace ovn::nvml {

const char* returnName(Return r) {
  switch (r) {
#define N(x) case x: return "NVML_" #x;
    N(SUCCESS) N(ERROR_UNINITIALIZED) N(ERROR_INVALID_ARGUMENT) N(ERROR_NOT_SUPPORTED) N(ERROR_NO_PERMISSION)
    N(ERROR_ALREADY_INITIALIZED) N(ERROR_NOT_FOUND) N(ERROR_INSUFFICIENT_SIZE) N(ERROR_INSUFFICIENT_POWER)
    N(ERROR_DRIVER_NOT_LOADED) N(ERROR_TIMEOUT) N(ERROR_IRQ_ISSUE) N(ERROR_LIBRARY_NOT_FOUND)
    N(ERROR_FUNCTION_NOT_FOUND) N(ERROR_CORRUPTED_INFOROM) N(ERROR_GPU_IS_LOST) N(ERROR_RESET_REQUIRED)
    N(ERROR_OPERATING_SYSTEM) N(ERROR_LIB_RM_VERSION_MISMATCH) N(ERROR_IN_USE) N(ERROR_MEMORY) N(ERROR_NO_DATA)
    N(ERROR_VGPU_ECC_NOT_ENABLED) N(ERROR_INSUFFICIENT_RESOURCES) N(ERROR_FREQ_NOT_SUPPORTED)
    N(ERROR_ARGUMENT_VERSION_MISMATCH) N(ERROR_DEPRECATED) N(ERROR_NOT_READY) N(ERROR_GPU_NOT_FOUND)
    N(ERROR_INVALID_STATE) N(ERROR_UNKNOWN)
#undef N
    default: return "NVML_ERROR_UNKNOWN";
  }
}

const char* resolveFirst(void* handle, std::initializer_list<const char*> names, void** out) {
  for (const char* n : names) {
    void* p = dlsym(handle, n);
    if (p) {
      *out = p;
      return n;
    }
  }
  *out = nullptr;
  return nullptr;
}

template <class Fn>
static void bind(void* h, Entry<Fn>& e, std::initializer_list<const char*> names) {
  void* p = nullptr;
  e.symbol = resolveFirst(h, names, &p);
  e.fn = reinterpret_cast<Fn>(p);
}

static Api loadApi() {
  Api a;
  const char* env = std::getenv("OVERNIGHT_NVML_LIBRARY");
  a.libraryPath = env && *env ? env : "libnvidia-ml.so.1";
  // RTLD_LOCAL: NVML's symbols stay out of the global namespace of the Node process.
  void* h = dlopen(a.libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    a.loadError = e ? e : (a.libraryPath + " not found");
    return a;
  }
  a.loaded = true;
  bind(h, a.init, {"nvmlInit_v2", "nvmlInit"});
  bind(h, a.shutdown, {"nvmlShutdown"});
  bind(h, a.errorString, {"nvmlErrorString"});
  bind(h, a.driverVersion, {"nvmlSystemGetDriverVersion"});
  bind(h, a.nvmlVersion, {"nvmlSystemGetNVMLVersion"});
  bind(h, a.deviceCount, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
  bind(h, a.handleByIndex, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  bind(h, a.name, {"nvmlDeviceGetName"});
  bind(h, a.uuid, {"nvmlDeviceGetUUID"});
  bind(h, a.pciInfo, {"nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2", "nvmlDeviceGetPciInfo"});
  a.pciInfoVersion = !a.pciInfo.symbol ? 0 : a.pciInfo.symbol[sizeof("nvmlDeviceGetPciInfo") - 1] == '_' ? 3 : 1;
  bind(h, a.memoryV2, {"nvmlDeviceGetMemoryInfo_v2"});
  bind(h, a.memory, {"nvmlDeviceGetMemoryInfo"});
  bind(h, a.utilization, {"nvmlDeviceGetUtilizationRates"});
  bind(h, a.temperature, {"nvmlDeviceGetTemperature"});
  bind(h, a.temperatureThreshold, {"nvmlDeviceGetTemperatureThreshold"});
  bind(h, a.powerUsage, {"nvmlDeviceGetPowerUsage"});
  bind(h, a.powerLimit, {"nvmlDeviceGetEnforcedPowerLimit", "nvmlDeviceGetPowerManagementLimit"});
  bind(h, a.pcieReplay, {"nvmlDeviceGetPcieReplayCounter"});
  bind(h, a.clock, {"nvmlDeviceGetClockInfo"});
  bind(h, a.clocksEventReasons, {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"});
  bind(h, a.supportedEventTypes, {"nvmlDeviceGetSupportedEventTypes"});
  bind(h, a.totalEcc, {"nvmlDeviceGetTotalEccErrors"});
  bind(h, a.retiredPages, {"nvmlDeviceGetRetiredPages"});
  bind(h, a.retiredPending, {"nvmlDeviceGetRetiredPagesPendingStatus"});
  bind(h, a.performanceState, {"nvmlDeviceGetPerformanceState"});
  bind(h, a.persistenceMode, {"nvmlDeviceGetPersistenceMode"});
  bind(h, a.computeMode, {"nvmlDeviceGetComputeMode"});
  bind(h, a.remappedRows, {"nvmlDeviceGetRemappedRows"});
  bind(h, a.computeProcesses,
       {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2",
        "nvmlDeviceGetComputeRunningProcesses"});
  if (a.computeProcesses.symbol) {
    std::string s = a.computeProcesses.symbol;
    a.processInfoStride = (s.size() > 3 && s[s.size() - 3] == '_') ? static_cast<int>(sizeof(ProcessInfoV2))
                                                                   : static_cast<int>(sizeof(ProcessInfoV1));
  }
  bind(h, a.fieldValues, {"nvmlDeviceGetFieldValues"});
  bind(h, a.nvLinkState, {"nvmlDeviceGetNvLinkState"});
  bind(h, a.nvLinkVersion, {"nvmlDeviceGetNvLinkVersion"});
  bind(h, a.nvLinkRemotePci, {"nvmlDeviceGetNvLinkRemotePciInfo_v2", "nvmlDeviceGetNvLinkRemotePciInfo"});
  a.nvLinkRemotePciVersion = !a.nvLinkRemotePci.symbol ? 0 : std::string(a.nvLinkRemotePci.symbol).back() == '2' ? 2 : 1;
  bind(h, a.nvLinkErrorCounter, {"nvmlDeviceGetNvLinkErrorCounter"});
  bind(h, a.fabricInfoV, {"nvmlDeviceGetGpuFabricInfoV"});
  bind(h, a.fabricInfo, {"nvmlDeviceGetGpuFabricInfo"});
  bind(h, a.eventSetCreate, {"nvmlEventSetCreate"});
  bind(h, a.eventSetFree, {"nvmlEventSetFree"});
  bind(h, a.registerEvents, {"nvmlDeviceRegisterEvents"});
  bind(h, a.eventSetWait, {"nvmlEventSetWait_v2", "nvmlEventSetWait"});
  bind(h, a.setPersistenceMode, {"nvmlDeviceSetPersistenceMode"});
  bind(h, a.resetGpuLockedClocks, {"nvmlDeviceResetGpuLockedClocks"});
  bind(h, a.resetMemoryLockedClocks, {"nvmlDeviceResetMemoryLockedClocks"});
  bind(h, a.resetApplicationsClocks, {"nvmlDeviceResetApplicationsClocks"});
  // The library stays open for the life of the process: NVML keeps driver state behind it.
  return a;
}

const Api& api() {
  static std::once_flag once;
  static Api* a = nullptr;
  std::call_once(once, [] { a = new Api(loadApi()); });
  return *a;
}

std::string errorText(Return r) {
  const Api& a = api();
  if (a.errorString) {
    const char* s = a.errorString.fn(r);
    if (s) return s;
  }
  return returnName(r);
}

std::vector<std::pair<const char*, const char*>> Api::table() const {
  return {
      {"init", init.symbol}, {"shutdown", shutdown.symbol}, {"errorString", errorString.symbol},
      {"driverVersion", driverVersion.symbol}, {"nvmlVersion", nvmlVersion.symbol},
      {"deviceCount", deviceCount.symbol}, {"handleByIndex", handleByIndex.symbol}, {"name", name.symbol},
      {"uuid", uuid.symbol}, {"pciInfo", pciInfo.symbol}, {"memoryV2", memoryV2.symbol},
      {"memory", memory.symbol}, {"utilization", utilization.symbol}, {"temperature", temperature.symbol},
      {"temperatureThreshold", temperatureThreshold.symbol}, {"powerUsage", powerUsage.symbol},
      {"powerLimit", powerLimit.symbol}, {"pcieReplay", pcieReplay.symbol}, {"clock", clock.symbol},
      {"clocksEventReasons", clocksEventReasons.symbol}, {"supportedEventTypes", supportedEventTypes.symbol},
      {"totalEcc", totalEcc.symbol}, {"retiredPages", retiredPages.symbol}, {"retiredPending", retiredPending.symbol},
      {"performanceState", performanceState.symbol}, {"persistenceMode", persistenceMode.symbol},
      {"computeMode", computeMode.symbol}, {"remappedRows", remappedRows.symbol},
      {"computeProcesses", computeProcesses.symbol}, {"fieldValues", fieldValues.symbol},
      {"nvLinkState", nvLinkState.symbol}, {"nvLinkVersion", nvLinkVersion.symbol},
      {"nvLinkRemotePci", nvLinkRemotePci.symbol}, {"nvLinkErrorCounter", nvLinkErrorCounter.symbol},
      {"fabricInfoV", fabricInfoV.symbol}, {"fabricInfo", fabricInfo.symbol},
      {"eventSetCreate", eventSetCreate.symbol}, {"eventSetFree", eventSetFree.symbol},
      {"registerEvents", registerEvents.symbol}, {"eventSetWait", eventSetWait.symbol},
      {"setPersistenceMode", setPersistenceMode.symbol}, {"resetGpuLockedClocks", resetGpuLockedClocks.symbol},
      {"resetMemoryLockedClocks", resetMemoryLockedClocks.symbol},
      {"resetApplicationsClocks", resetApplicationsClocks.symbol},
  };
}

}  // namespace ovn::nvml
