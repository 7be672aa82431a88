// File-descriptor use: the kernel's file table (/proc/sys/fs/file-nr against file-max) and the
// open descriptors of given processes against their RLIMIT_NOFILE (/proc/<pid>/limits), as GPUd's
// os component reports them.
// Thread: any.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sys_error.h"

namespace ovn {

struct FileNr {
  uint64_t allocated = 0, unused = 0, max = 0;
};

struct ProcessFds {
  int pid = 0;
  uint64_t open = 0;
  uint64_t softLimit = UINT64_MAX;  // "Max open files" soft; UINT64_MAX = unlimited or unknown
  SysError error;
};

// "<allocated>\t<unused>\t<max>" from <procRoot>/sys/fs/file-nr.
SysError readFileNr(const std::string& procRoot, FileNr& out);
bool parseFileNr(const std::string& text, FileNr& out);
// Counts the entries of /proc/<pid>/fd and reads the soft limit from /proc/<pid>/limits.
void readProcessFds(int pid, ProcessFds& out);

}  // namespace ovn
