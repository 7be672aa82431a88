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

  Entry<FnVoid> init, shutdown;
  Entry<FnErrorString> errorString;
  Entry<FnSystemString> driverVersion, nvmlVersion;
  Entry<FnUintPtr> deviceCount;
  Entry<FnHandleByIndex> handleByIndex;
  Entry<FnDevString> name, uuid;
  Entry<FnDevPci> pciInfo;
  int pciInfoVersion = 0;
  Entry<FnDevMemoryV2> memoryV2;
  Entry<FnDevMemory> memory;
  Entry<FnDevUtil> utilization;
  Entry<FnDevTemp> temperature, temperatureThreshold;
  Entry<FnDevUint> powerUsage, powerLimit, pcieReplay;
  Entry<FnDevClock> clock;
  Entry<FnDevUll> clocksEventReasons, supportedEventTypes;
  Entry<FnDevEcc> totalEcc;
  Entry<FnDevRetired> retiredPages;
  Entry<FnDevInt> retiredPending, performanceState, persistenceMode, computeMode;
  Entry<FnDevRemapped> remappedRows;
  Entry<FnDevProcs> computeProcesses;
  int processInfoStride = 0;  // 24 for _v3/_v2, 16 for the unsuffixed v1 call
  Entry<FnDevFields> fieldValues;
  Entry<FnDevLinkUint> nvLinkState, nvLinkVersion;
  Entry<FnDevLinkPci> nvLinkRemotePci;
  int nvLinkRemotePciVersion = 0;  // 2 for _v2 (nvmlPciInfo_t with busId[32]), 1 for the v1 layout
  Entry<FnDevLinkCounter> nvLinkErrorCounter;
  Entry<FnDevFabricV> fabricInfoV;
  Entry<FnDevFabric> fabricInfo;
  Entry<FnEventSetCreate> eventSetCreate;
  Entry<FnEventSetFree> eventSetFree;
  Entry<FnRegisterEvents> registerEvents;
  Entry<FnEventSetWait> eventSetWait;
  // Setters used by recovery and resource management (through the policy gate only).
  Entry<FnDevSetUint> setPersistenceMode;
  Entry<Return (*)(Device)> resetGpuLockedClocks, resetMemoryLockedClocks, resetApplicationsClocks;

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
