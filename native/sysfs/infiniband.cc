#include "infiniband.h"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>

#include "../proc/kept_open_file.h"
#include "../proc/parse_util.h"

namespace ovn {
namespace {

// Entries of a directory other than "." and "..", sorted so output order is stable.
SysError listDir(const std::string& dir, std::vector<std::string>& names) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return SysError::fromErrno(errno, "opendir", dir);
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return {};
}

// A sysfs attribute, trimmed; sysfs files are one page at most.
SysError readAttr(const std::string& path, std::string& out) {
  std::string raw;
  SysError e = readFileOnce(path.c_str(), raw, 4096);
  if (!e.ok()) return e;
  out = std::string(trim(raw));
  return {};
}

void readPort(const std::string& dir, IbPort& p) {
  std::string text;
  SysError e = readAttr(dir + "/state", text);
  if (e.ok())
    parseIbEnum(text, p.state, p.stateName);
  else
    p.error = e;
  if (readAttr(dir + "/phys_state", text).ok()) parseIbEnum(text, p.physState, p.physStateName);
  if (readAttr(dir + "/rate", text).ok()) {
    p.rateText = text;
    parseIbRate(text, p.rateGbps);
  }
  if (readAttr(dir + "/link_layer", text).ok()) p.linkLayer = text;
  std::vector<std::string> names;
  if (!listDir(dir + "/counters", names).ok()) return;  // Ethernet (RoCE) ports may have none
  for (const std::string& n : names) {
    // Some counters are unreadable on some HCAs (EINVAL on read): skip them, as node_exporter does.
    if (!readAttr(dir + "/counters/" + n, text).ok() || text.empty()) continue;
    const char* s = text.c_str();
    const char* end = s + text.size();
    if (*s < '0' || *s > '9') continue;
    p.counters.emplace_back(n, parseU64(s, end));
  }
}

}  // namespace

bool parseIbEnum(const std::string& text, int& id, std::string& name) {
  const char* s = text.c_str();
  const char* end = s + text.size();
  skipSpaces(s, end);
  if (s == end || *s < '0' || *s > '9') return false;
  id = static_cast<int>(parseU64(s, end));
  if (s < end && *s == ':') ++s;
  name = std::string(trim(std::string_view(s, static_cast<size_t>(end - s))));
  return true;
}

bool parseIbRate(const std::string& text, double& gbps) {
  const char* s = text.c_str();
  const char* end = s + text.size();
  skipSpaces(s, end);
  if (s == end || *s < '0' || *s > '9') return false;
  gbps = parseDouble(s, end);
  return true;
}

SysError readInfiniband(const std::string& sysfsRoot, std::vector<IbDevice>& out) {
  const std::string cls = sysfsRoot + "/class/infiniband";
  std::vector<std::string> devs;
  SysError e = listDir(cls, devs);
  if (!e.ok()) return e;
  for (const std::string& name : devs) {
    IbDevice d;
    d.name = name;
    const std::string dir = cls + "/" + name;
    readAttr(dir + "/board_id", d.boardId);
    readAttr(dir + "/fw_ver", d.firmwareVersion);
    readAttr(dir + "/hca_type", d.hcaType);
    std::vector<std::string> ports;
    listDir(dir + "/ports", ports);
    for (const std::string& pn : ports) {
      IbPort p;
      p.port = static_cast<uint32_t>(std::strtoul(pn.c_str(), nullptr, 10));
      readPort(dir + "/ports/" + pn, p);
      d.ports.push_back(std::move(p));
    }
    std::sort(d.ports.begin(), d.ports.end(), [](const IbPort& a, const IbPort& b) { return a.port < b.port; });
    out.push_back(std::move(d));
  }
  return {};
}

}  // namespace ovn
