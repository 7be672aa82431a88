// Our own declarations of the subset of the NVML ABI we use, written from NVIDIA's documented
// ABI (enum values, struct layouts, symbol names). No NVIDIA header is included and nothing links
// against libnvidia-ml: every entry point is resolved with dlsym at run time (nvml_loader.cc).
#pragma once
#include <cstdint>

namespace ovn::nvml {

using Return = int;                       // nvmlReturn_t
using Device = struct DeviceOpaque*;      // nvmlDevice_t
using EventSet = struct EventSetOpaque*;  // nvmlEventSet_t

enum : Return {
  SUCCESS = 0,
  ERROR_UNINITIALIZED = 1,
  ERROR_INVALID_ARGUMENT = 2,
  ERROR_NOT_SUPPORTED = 3,
  ERROR_NO_PERMISSION = 4,
  ERROR_ALREADY_INITIALIZED = 5,
  ERROR_NOT_FOUND = 6,
  ERROR_INSUFFICIENT_SIZE = 7,
  ERROR_INSUFFICIENT_POWER = 8,
  ERROR_DRIVER_NOT_LOADED = 9,
  ERROR_TIMEOUT = 10,
  ERROR_IRQ_ISSUE = 11,
  ERROR_LIBRARY_NOT_FOUND = 12,
  ERROR_FUNCTION_NOT_FOUND = 13,
  ERROR_CORRUPTED_INFOROM = 14,
  ERROR_GPU_IS_LOST = 15,
  ERROR_RESET_REQUIRED = 16,
  ERROR_OPERATING_SYSTEM = 17,
  ERROR_LIB_RM_VERSION_MISMATCH = 18,
  ERROR_IN_USE = 19,
  ERROR_MEMORY = 20,
  ERROR_NO_DATA = 21,
  ERROR_VGPU_ECC_NOT_ENABLED = 22,
  ERROR_INSUFFICIENT_RESOURCES = 23,
  ERROR_FREQ_NOT_SUPPORTED = 24,
  ERROR_ARGUMENT_VERSION_MISMATCH = 25,
  ERROR_DEPRECATED = 26,
  ERROR_NOT_READY = 27,
  ERROR_GPU_NOT_FOUND = 28,
  ERROR_INVALID_STATE = 29,
  ERROR_UNKNOWN = 999,
};

// Stable name of a return code: "NVML_SUCCESS", "NVML_ERROR_NOT_SUPPORTED", ...
const char* returnName(Return r);

constexpr unsigned kNameBuffer = 96;     // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kUuidBuffer = 96;     // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kVersionBuffer = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

struct Memory {  // nvmlMemory_t
  unsigned long long total, free, used;
};

struct MemoryV2 {  // nvmlMemory_v2_t
  unsigned int version;
  unsigned long long total, reserved, free, used;
};
// NVML_STRUCT_VERSION(Memory, 2): sizeof | (2 << 24)
constexpr unsigned int kMemoryV2Version = static_cast<unsigned int>(sizeof(MemoryV2)) | (2u << 24);

struct Utilization {  // nvmlUtilization_t
  unsigned int gpu, memory;
};

struct PciInfo {  // nvmlPciInfo_t (v3)
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
};

// nvmlProcessInfo_v1_t: 16 bytes.
struct ProcessInfoV1 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
// nvmlProcessInfo_v2_t, and what the _v3 entry points fill on released drivers: 24 bytes.
// (One CUDA 12.0 header briefly declared a 32-byte v3 with usedGpuCcProtectedMemory; drivers kept
// 24. We read _v3 results with the 24-byte stride and sanity-check the pids — see gpu_reader.cc.)
struct ProcessInfoV2 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
};

struct EventData {  // nvmlEventData_t
  Device device;
  unsigned long long eventType;
  unsigned long long eventData;
  unsigned int gpuInstanceId, computeInstanceId;
};

union Value {  // nvmlValue_t
  double dVal;
  unsigned int uiVal;
  unsigned long ulVal;
  unsigned long long ullVal;
  signed long long sllVal;
  signed int siVal;
  unsigned short usVal;
};

struct FieldValue {  // nvmlFieldValue_t
  unsigned int fieldId, scopeId;
  long long timestamp, latencyUsec;
  int valueType;
  Return nvmlReturn;
  Value value;
};

constexpr unsigned int kFieldGpuRecoveryAction = 230;  // NVML_FI_DEV_GET_GPU_RECOVERY_ACTION

// nvmlTemperatureSensors_t / nvmlTemperatureThresholds_t
constexpr int kTemperatureGpu = 0;
constexpr int kThresholdShutdown = 0, kThresholdSlowdown = 1, kThresholdMemMax = 2, kThresholdGpuMax = 3;
// nvmlClockType_t
constexpr int kClockGraphics = 0, kClockSm = 1, kClockMem = 2;
// nvmlMemoryErrorType_t / nvmlEccCounterType_t
constexpr int kEccCorrected = 0, kEccUncorrected = 1;
constexpr int kCounterVolatile = 0, kCounterAggregate = 1;
// nvmlPageRetirementCause_t
constexpr int kRetireMultipleSbe = 0, kRetireDbe = 1;

// nvmlEventType bits
constexpr unsigned long long kEventSingleBitEcc = 0x1, kEventDoubleBitEcc = 0x2, kEventPState = 0x4,
                             kEventXidCritical = 0x8, kEventClock = 0x10, kEventPowerSourceChange = 0x80,
                             kEventMigConfigChange = 0x100;

// nvmlClocksEventReasons (formerly ClocksThrottleReasons) bits
constexpr unsigned long long kReasonGpuIdle = 0x1, kReasonAppClocks = 0x2, kReasonSwPowerCap = 0x4,
                             kReasonHwSlowdown = 0x8, kReasonSyncBoost = 0x10, kReasonSwThermal = 0x20,
                             kReasonHwThermal = 0x40, kReasonHwPowerBrake = 0x80, kReasonDisplayClock = 0x100;

// NVLink (nvmlDeviceGetNvLink*): links are numbered 0 .. NVML_NVLINK_MAX_LINKS - 1 (18 on Hopper).
constexpr unsigned int kNvLinkMaxLinks = 18;
// nvmlNvLinkErrorCounter_t
constexpr int kNvLinkErrorReplay = 0, kNvLinkErrorRecovery = 1, kNvLinkErrorCrcFlit = 2, kNvLinkErrorCrcData = 3;

// NVSwitch systems: a GPU's registration with the fabric manager. nvmlGpuFabricState_t is an
// unsigned char: NOT_SUPPORTED 0, NOT_STARTED 1, IN_PROGRESS 2, COMPLETED 3.
constexpr unsigned char kFabricNotSupported = 0, kFabricNotStarted = 1, kFabricInProgress = 2, kFabricCompleted = 3;
constexpr unsigned int kFabricUuidLen = 16;  // NVML_GPU_FABRIC_UUID_LEN
struct GpuFabricInfo {                       // nvmlGpuFabricInfo_t (nvmlDeviceGetGpuFabricInfo, R535+)
  unsigned char clusterUuid[kFabricUuidLen];
  Return status;  // meaningful once state is COMPLETED
  unsigned int cliqueId;
  unsigned char state;
};
struct GpuFabricInfoV2 {  // nvmlGpuFabricInfo_v2_t (nvmlDeviceGetGpuFabricInfoV, R550+)
  unsigned int version;
  unsigned char clusterUuid[kFabricUuidLen];
  Return status;
  unsigned int cliqueId;
  unsigned char state;
  unsigned int healthMask;  // NVML_GPU_FABRIC_HEALTH_MASK_*: 2-bit fields (1 = true, 2 = false, 0 = not supported)
};
static_assert(sizeof(GpuFabricInfoV2) == 36, "nvmlGpuFabricInfo_v2_t is 36 bytes (nvmlGpuFabricInfo_v2 = 0x02000024)");
constexpr unsigned int kGpuFabricInfoV2Version = static_cast<unsigned int>(sizeof(GpuFabricInfoV2)) | (2u << 24);

// Function pointer types, one per entry point we resolve.
using FnVoid = Return (*)();
using FnUintPtr = Return (*)(unsigned int*);
using FnErrorString = const char* (*)(Return);
using FnSystemString = Return (*)(char*, unsigned int);
using FnHandleByIndex = Return (*)(unsigned int, Device*);
using FnDevString = Return (*)(Device, char*, unsigned int);
using FnDevUint = Return (*)(Device, unsigned int*);
using FnDevInt = Return (*)(Device, int*);
using FnDevUll = Return (*)(Device, unsigned long long*);
using FnDevPci = Return (*)(Device, PciInfo*);
using FnDevMemory = Return (*)(Device, Memory*);
using FnDevMemoryV2 = Return (*)(Device, MemoryV2*);
using FnDevUtil = Return (*)(Device, Utilization*);
using FnDevTemp = Return (*)(Device, int, unsigned int*);
using FnDevClock = Return (*)(Device, int, unsigned int*);
using FnDevEcc = Return (*)(Device, int, int, unsigned long long*);
using FnDevRetired = Return (*)(Device, int, unsigned int*, unsigned long long*);
using FnDevRemapped = Return (*)(Device, unsigned int*, unsigned int*, unsigned int*, unsigned int*);
using FnDevProcs = Return (*)(Device, unsigned int*, void*);
using FnDevFields = Return (*)(Device, int, FieldValue*);
using FnDevSetUint = Return (*)(Device, unsigned int);
using FnDevLinkUint = Return (*)(Device, unsigned int,
                                 unsigned int*);  // NvLinkState (nvmlEnableState_t), NvLinkVersion
using FnDevLinkPci = Return (*)(Device, unsigned int, PciInfo*);
using FnDevLinkCounter = Return (*)(Device, unsigned int, int, unsigned long long*);
using FnDevFabric = Return (*)(Device, GpuFabricInfo*);
using FnDevFabricV = Return (*)(Device, GpuFabricInfoV2*);
using FnEventSetCreate = Return (*)(EventSet*);
using FnEventSetFree = Return (*)(EventSet);
using FnRegisterEvents = Return (*)(Device, unsigned long long, EventSet);
using FnEventSetWait = Return (*)(EventSet, EventData*, unsigned int);

}  // namespace ovn::nvml
