#include "filesystem.h"

#include <sys/statvfs.h>

namespace ovn {

SysError statFilesystem(const std::string& path, FsUsage& o) {
  struct statvfs s;
  o.path = path;
  if (::statvfs(path.c_str(), &s) != 0) return SysError::fromErrno(errno, "statvfs", path);
  uint64_t bs = s.f_frsize ? s.f_frsize : s.f_bsize;
  o.totalBytes = static_cast<uint64_t>(s.f_blocks) * bs;
  o.freeBytes = static_cast<uint64_t>(s.f_bfree) * bs;
  o.availableBytes = static_cast<uint64_t>(s.f_bavail) * bs;
  o.totalInodes = s.f_files;
  o.freeInodes = s.f_ffree;
  o.availableInodes = s.f_favail;
  o.fsid = s.f_fsid;
  o.readOnly = (s.f_flag & ST_RDONLY) != 0;
  return {};
}

}  // namespace ovn
