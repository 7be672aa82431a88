// Names for NVML enum values and bit masks (ABI facts, decoded once here).
#pragma once
#include <string>
#include <vector>

namespace ovn::nvml {

std::vector<std::string> clocksEventReasonNames(unsigned long long mask);
const char* computeModeName(int mode);
const char* recoveryActionName(unsigned int action);
const char* eventTypeName(unsigned long long type);

}  // namespace ovn::nvml
