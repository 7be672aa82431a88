// Opens libnvidia-ml.so.1 with dlopen at first use and resolves each entry point with dlsym,
// preferring the newest versioned symbol that exists (nvmlInit_v2 over nvmlInit, ...).
// A machine without the NVIDIA driver gets `loaded == false` and the dlerror text; nothing here
// links against NVML. The library path can be overridden with OVERNIGHT_NVML_LIBRARY.
// Thread: load() is guarded by std::call_once; the table is read-only afterwards.
#pragma once
#include <mutex>
#include <string>
#include <vector>

#include "nvml_abi.h"

namespace ovn::nvml {

using FnDevReset = Return (*)(Device);

// The NVML entry points we use, defined once: X(field, function type, symbols newest first).
// The Api struct's members, the dlsym bindings and the name table (nvmlInfo().symbols) are all
// generated from this list, so an entry point cannot be declared without being bound or reported.
// Setters (the last rows) are used by recovery and resource management, through the policy gate only.
// Tables below are laid out by hand (clang-format does not keep X-macro bodies stable).
// clang-format off
#define OVN_NVML_SYMBOLS(X)                                                                                     \
  X(init, FnVoid, "nvmlInit_v2", "nvmlInit")                                                                   \
  X(shutdown, FnVoid, "nvmlShutdown")                                                                          \
  X(errorString, FnErrorString, "nvmlErrorString")                                                             \
  X(driverVersion, FnSystemString, "nvmlSystemGetDriverVersion")                                              \
  X(nvmlVersion, FnSystemString, "nvmlSystemGetNVMLVersion")                                                   \
  X(deviceCount, FnUintPtr, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")                                     \
  X(handleByIndex, FnHandleByIndex, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex")             \
  X(name, FnDevString, "nvmlDeviceGetName")                                                                    \
  X(uuid, FnDevString, "nvmlDeviceGetUUID")                                                                    \
  X(pciInfo, FnDevPci, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2", "nvmlDeviceGetPciInfo")           \
  X(memoryV2, FnDevMemoryV2, "nvmlDeviceGetMemoryInfo_v2")                                                     \
  X(memory, FnDevMemory, "nvmlDeviceGetMemoryInfo")                                                            \
  X(utilization, FnDevUtil, "nvmlDeviceGetUtilizationRates")                                                   \
  X(temperature, FnDevTemp, "nvmlDeviceGetTemperature")                                                        \
  X(temperatureThreshold, FnDevTemp, "nvmlDeviceGetTemperatureThreshold")                                      \
  X(powerUsage, FnDevUint, "nvmlDeviceGetPowerUsage")                                                          \
  X(powerLimit, FnDevUint, "nvmlDeviceGetEnforcedPowerLimit", "nvmlDeviceGetPowerManagementLimit")             \
  X(pcieReplay, FnDevUint, "nvmlDeviceGetPcieReplayCounter")                                                   \
  X(clock, FnDevClock, "nvmlDeviceGetClockInfo")                                                               \
  X(clocksEventReasons, FnDevUll, "nvmlDeviceGetCurrentClocksEventReasons",                                    \
    "nvmlDeviceGetCurrentClocksThrottleReasons")                                                               \
  X(supportedEventTypes, FnDevUll, "nvmlDeviceGetSupportedEventTypes")                                         \
  X(totalEcc, FnDevEcc, "nvmlDeviceGetTotalEccErrors")                                                         \
  X(retiredPages, FnDevRetired, "nvmlDeviceGetRetiredPages")                                                   \
  X(retiredPending, FnDevInt, "nvmlDeviceGetRetiredPagesPendingStatus")                                        \
  X(performanceState, FnDevInt, "nvmlDeviceGetPerformanceState")                                              \
  X(persistenceMode, FnDevInt, "nvmlDeviceGetPersistenceMode")                                                 \
  X(computeMode, FnDevInt, "nvmlDeviceGetComputeMode")                                                         \
  X(remappedRows, FnDevRemapped, "nvmlDeviceGetRemappedRows")                                                  \
  X(computeProcesses, FnDevProcs, "nvmlDeviceGetComputeRunningProcesses_v3",                                   \
    "nvmlDeviceGetComputeRunningProcesses_v2", "nvmlDeviceGetComputeRunningProcesses")                         \
  X(fieldValues, FnDevFields, "nvmlDeviceGetFieldValues")                                                      \
  X(nvLinkState, FnDevLinkUint, "nvmlDeviceGetNvLinkState")                                                    \
  X(nvLinkVersion, FnDevLinkUint, "nvmlDeviceGetNvLinkVersion")                                                \
  X(nvLinkRemotePci, FnDevLinkPci, "nvmlDeviceGetNvLinkRemotePciInfo_v2", "nvmlDeviceGetNvLinkRemotePciInfo")  \
  X(nvLinkErrorCounter, FnDevLinkCounter, "nvmlDeviceGetNvLinkErrorCounter")                                   \
  X(fabricInfoV, FnDevFabricV, "nvmlDeviceGetGpuFabricInfoV")                                                  \
  X(fabricInfo, FnDevFabric, "nvmlDeviceGetGpuFabricInfo")                                                     \
  X(eventSetCreate, FnEventSetCreate, "nvmlEventSetCreate")                                                    \
  X(eventSetFree, FnEventSetFree, "nvmlEventSetFree")                                                          \
  X(registerEvents, FnRegisterEvents, "nvmlDeviceRegisterEvents")                                              \
  X(eventSetWait, FnEventSetWait, "nvmlEventSetWait_v2", "nvmlEventSetWait")                                   \
  X(setPersistenceMode, FnDevSetUint, "nvmlDeviceSetPersistenceMode")                                          \
  X(resetGpuLockedClocks, FnDevReset, "nvmlDeviceResetGpuLockedClocks")                                        \
  X(resetMemoryLockedClocks, FnDevReset, "nvmlDeviceResetMemoryLockedClocks")                                  \
  X(resetApplicationsClocks, FnDevReset, "nvmlDeviceResetApplicationsClocks")

template <class Fn>
struct Entry {
  Fn fn = nullptr;
  const char* symbol = nullptr;  // the name that resolved, or nullptr
  explicit operator bool() const { return fn != nullptr; }
};

struct Api {
  bool loaded = false;
  std::string libraryPath;
  std::string loadError;  // dlerror() text when not loaded

  // One entry per OVN_NVML_SYMBOLS row (the field, its type, the symbols it may resolve to).
#define OVN_NVML_FIELD(field, Fn, ...) Entry<Fn> field;
  // clang-format on
  OVN_NVML_SYMBOLS(OVN_NVML_FIELD)
#undef OVN_NVML_FIELD
  // Derived from which symbol resolved (the layouts differ between versions).
  int pciInfoVersion = 0;          // 3 for _v3/_v2, 1 for the unsuffixed call
  int processInfoStride = 0;       // 24 for _v3/_v2, 16 for the unsuffixed v1 call
  int nvLinkRemotePciVersion = 0;  // 2 for _v2 (nvmlPciInfo_t with busId[32]), 1 for the v1 layout

  // name -> resolved symbol (or nullptr), for reporting which calls this driver has.
  std::vector<std::pair<const char*, const char*>> table() const;
};

// Loads once per process. Never throws.
const Api& api();

// Resolves "the newest symbol that exists" of a preference list.
const char* resolveFirst(void* handle, std::initializer_list<const char*> names, void** out);

// nvmlErrorString when the library has it, else our own name table.
std::string errorText(Return r);

}  // namespace ovn::nvml
