#include "gpu_names.h"

#include "nvml_abi.h"

namespace ovn::nvml {

std::vector<std::string> clocksEventReasonNames(unsigned long long mask) {
  static const std::pair<unsigned long long, const char*> names[] = {
      {kReasonGpuIdle, "gpu_idle"},
      {kReasonAppClocks, "applications_clocks_setting"},
      {kReasonSwPowerCap, "sw_power_cap"},
      {kReasonHwSlowdown, "hw_slowdown"},
      {kReasonSyncBoost, "sync_boost"},
      {kReasonSwThermal, "sw_thermal_slowdown"},
      {kReasonHwThermal, "hw_thermal_slowdown"},
      {kReasonHwPowerBrake, "hw_power_brake_slowdown"},
      {kReasonDisplayClock, "display_clock_setting"},
  };
  std::vector<std::string> out;
  unsigned long long known = 0;
  for (const auto& n : names) {
    known |= n.first;
    if (mask & n.first) out.emplace_back(n.second);
  }
  if (mask & ~known) out.emplace_back("unknown");
  return out;
}

const char* computeModeName(int mode) {
  switch (mode) {
    case 0:
      return "default";
    case 1:
      return "exclusive_thread";
    case 2:
      return "prohibited";
    case 3:
      return "exclusive_process";
    default:
      return "unknown";
  }
}

// nvmlDeviceGpuRecoveryAction_t
const char* recoveryActionName(unsigned int action) {
  switch (action) {
    case 0:
      return "none";
    case 1:
      return "gpu_reset";
    case 2:
      return "node_reboot";
    case 3:
      return "drain_p2p";
    case 4:
      return "drain_and_reset";
    default:
      return "unknown";
  }
}

const char* eventTypeName(unsigned long long type) {
  switch (type) {
    case kEventSingleBitEcc:
      return "single_bit_ecc_error";
    case kEventDoubleBitEcc:
      return "double_bit_ecc_error";
    case kEventPState:
      return "pstate_change";
    case kEventXidCritical:
      return "xid_critical_error";
    case kEventClock:
      return "clock_change";
    case kEventPowerSourceChange:
      return "power_source_change";
    case kEventMigConfigChange:
      return "mig_config_change";
    default:
      return "unknown";
  }
}

}  // namespace ovn::nvml
