#include "fd_usage.h"

#include <dirent.h>

#include "kept_open_file.h"
#include "parse_util.h"

namespace ovn {

bool parseFileNr(const std::string& text, FileNr& o) {
  const char* p = text.c_str();
  const char* end = p + text.size();
  skipSpaces(p, end);
  if (p == end || *p < '0' || *p > '9') return false;
  o.allocated = parseU64(p, end);
  o.unused = parseU64(p, end);
  o.max = parseU64(p, end);
  return true;
}

SysError readFileNr(const std::string& procRoot, FileNr& out) {
  std::string path = procRoot + "/sys/fs/file-nr", text;
  SysError e = readFileOnce(path.c_str(), text, 256);
  if (!e.ok()) return e;
  if (!parseFileNr(text, out)) return SysError::fromErrno(EINVAL, "parse", path);
  return {};
}

void readProcessFds(int pid, ProcessFds& o) {
  o.pid = pid;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    o.error = SysError::fromErrno(errno, "opendir", dir, pid);
    return;
  }
  uint64_t n = 0;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  o.open = n;
  std::string limits, path = "/proc/" + std::to_string(pid) + "/limits";
  if (!readFileOnce(path.c_str(), limits, 8192).ok()) return;
  size_t at = limits.find("Max open files");
  if (at == std::string::npos) return;
  const char* p = limits.c_str() + at + 14;
  const char* end = limits.c_str() + limits.size();
  skipSpaces(p, end);
  if (p < end && *p >= '0' && *p <= '9') o.softLimit = parseU64(p, end);
}

}  // namespace ovn
