// InfiniBand HCAs and ports from sysfs (<root>/class/infiniband/<dev>/ports/<n>/...), read the way
// node_exporter's procfs/sysfs package reads them. The root is a parameter so tests point it at a
// fake tree in a temp dir. Plain data only: no verdicts here.
// Thread: any (called on a libuv worker by the binding).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../proc/sys_error.h"

namespace ovn {

struct IbPort {
  uint32_t port = 0;
  int state = -1;             // "4: ACTIVE" -> 4; -1 when unreadable
  std::string stateName;      // "ACTIVE"
  int physState = -1;         // "5: LinkUp" -> 5
  std::string physStateName;  // "LinkUp"
  double rateGbps = -1;       // "200 Gb/sec (4X HDR)" -> 200
  std::string rateText;       // the whole rate line
  std::string linkLayer;      // "InfiniBand" or "Ethernet"
  // Every file under counters/ that holds a number, by file name ("symbol_error": 0).
  std::vector<std::pair<std::string, uint64_t>> counters;
  SysError error;  // the first failure reading this port (state unreadable and so on)
};

struct IbDevice {
  std::string name;  // "mlx5_0"
  std::string boardId, firmwareVersion, hcaType;
  std::vector<IbPort> ports;
};

// Reads every device and port under <sysfsRoot>/class/infiniband. A missing class directory is
// ENOENT (no InfiniBand on this node); per-port failures are recorded on the port.
SysError readInfiniband(const std::string& sysfsRoot, std::vector<IbDevice>& out);

// "4: ACTIVE" -> (4, "ACTIVE"); returns false when the text has no leading number.
bool parseIbEnum(const std::string& text, int& id, std::string& name);
// "200 Gb/sec (4X HDR)" -> 200; "2.5 Gb/sec (1X SDR)" -> 2.5; false when there is no number.
bool parseIbRate(const std::string& text, double& gbps);

}  // namespace ovn
