// statvfs of a path: capacity in bytes and inodes.
#pragma once
#include <cstdint>
#include <string>

#include "sys_error.h"

namespace ovn {

struct FsUsage {
  std::string path;
  uint64_t totalBytes = 0, freeBytes = 0, availableBytes = 0;  // available: for unprivileged users
  uint64_t totalInodes = 0, freeInodes = 0, availableInodes = 0;
  uint64_t fsid = 0;
  bool readOnly = false;
};

SysError statFilesystem(const std::string& path, FsUsage& out);

}  // namespace ovn
