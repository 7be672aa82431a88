// Pressure stall information (/proc/pressure/{cpu,memory,io} and cgroup v2 *.pressure files).
#pragma once
#include <cstdint>
#include <string_view>

namespace ovn {

struct PsiLine {
  bool present = false;
  double avg10 = 0, avg60 = 0, avg300 = 0;  // percent of wall time stalled
  uint64_t totalUs = 0;                     // cumulative stall time, microseconds
};

struct Psi {
  PsiLine some, full;  // "full" is absent for cpu on kernels before 5.13
};

bool parsePsi(std::string_view text, Psi& out);

}  // namespace ovn
