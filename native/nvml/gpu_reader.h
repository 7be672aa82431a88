// Per-GPU sample through NVML: every field carries its own NVML return code, so a missing function
// or an unsupported query nulls that field only, never the whole sample.
// Thread: call from the GPU worker thread (NVML calls can block for seconds on a sick driver).
#pragma once
#include <string>
#include <vector>

#include "nvml_abi.h"

namespace ovn::nvml {

// A field that was not asked for (quick samples): left out of the result rather than reported
// as an error.
constexpr Return kNotRequested = -1;

template <class T>
struct Field {
  T value{};
  Return ret = kNotRequested;
  bool ok() const { return ret == SUCCESS; }
  bool requested() const { return ret != kNotRequested; }
};

struct GpuProcess {
  unsigned int pid = 0;
  unsigned long long usedMemory = 0;
  bool memoryKnown = false;  // NVML_VALUE_NOT_AVAILABLE under some virtualization/MIG setups
};

struct RemappedRows {
  unsigned int correctable = 0, uncorrectable = 0, pending = 0, failure = 0;
};

// One NVLink link. Each query has its own return code (an older driver may lack a counter).
struct NvLink {
  unsigned int link = 0;
  bool active = false;
  Field<unsigned int> version;
  Field<std::string> remoteBusId;
  Field<unsigned long long> replay, recovery, crcFlit, crcData;
};

struct FabricInfo {
  unsigned char state = 0;  // kFabric*
  Return status = SUCCESS;
  unsigned int cliqueId = 0;
  std::string clusterUuid;     // hex, empty when all zero
  bool hasHealthMask = false;  // only from the V entry point
  unsigned int healthMask = 0;
};

struct GpuMemory {
  unsigned long long total = 0, used = 0, free = 0, reserved = 0;
  bool hasReserved = false;
};

struct GpuDevice {
  unsigned int index = 0;
  Return handleRet = SUCCESS;
  Field<std::string> uuid, name, busId;
  Field<Utilization> utilization;
  Field<GpuMemory> memory;
  Field<unsigned int> temperature, tempSlowdown, tempShutdown, tempGpuMax;
  Field<unsigned int> powerMw, powerLimitMw;
  Field<unsigned int> smClockMhz, memClockMhz, graphicsClockMhz;
  Field<unsigned long long> clocksEventReasons;
  Field<unsigned long long> eccCorrectedVolatile, eccUncorrectedVolatile, eccCorrectedAggregate,
      eccUncorrectedAggregate;
  Field<unsigned int> retiredPagesSbe, retiredPagesDbe;
  Field<int> retiredPagesPending;
  Field<RemappedRows> remappedRows;
  Field<unsigned int> pcieReplayCounter;
  Field<int> performanceState, persistenceMode, computeMode;
  Field<std::vector<GpuProcess>> processes;
  Field<unsigned int> recoveryAction;
  // Full samples only. NOT_SUPPORTED for a GPU without NVLink / outside an NVSwitch system.
  Field<std::vector<NvLink>> nvlinks;
  Field<FabricInfo> fabric;
  double sampleUs = 0;
};

struct GpuSampleOptions {
  bool quick = false;  // utilization, memory, temperature, power only
  bool processes = true;
  std::vector<unsigned int> indices;  // empty = every GPU
};

struct GpuSample {
  bool quick = false;  // the options' quick: each device carries the quick fields only
  bool libraryLoaded = false;
  std::string libraryPath, loadError;
  Return initRet = ERROR_UNINITIALIZED;
  double initMs = 0;
  std::string driverVersion, nvmlVersion;
  Field<unsigned int> deviceCount;
  std::vector<GpuDevice> devices;
  double totalUs = 0;
};

// Initializes NVML once (retrying after a failure) and samples the GPUs.
void sampleGpus(const GpuSampleOptions& opts, GpuSample& out);

// Initializes NVML if needed; returns the init result (SUCCESS once initialized).
Return ensureInit(double* initMs = nullptr);

// Decodes a process list returned by a Get*RunningProcesses call with the given stride, checking
// that the entries are plausible. Exposed for tests of the _v3 stride trap.
bool decodeProcesses(const unsigned char* buf, unsigned int count, int stride, unsigned long long memTotal,
                     std::vector<GpuProcess>& out);

}  // namespace ovn::nvml
