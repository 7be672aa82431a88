// Writing a file back at a path without following any symlink on the way: every directory
// component is opened with openat(O_DIRECTORY | O_NOFOLLOW) from "/", so a parent directory
// swapped for a symlink (to redirect the write into someone else's directory) is refused and
// named. The file is written beside the target and renamed over it (renameat within the same
// directory fd), so a reader never sees half a file and a symlink at the target is replaced.
// Thread: plain C++; the napi layer runs it on a libuv worker.
#pragma once
#include <string>

#include "../proc/sys_error.h"

namespace ovn {

struct RestoreOutcome {
  bool ok = false;
  std::string error;      // why not, for a person
  std::string refusedAt;  // the path component that is a symlink (or not a directory), if that was why
};

// Copies `source` (a file we trust: the artifact store) to the absolute path `target`, creating
// missing directories (mode 0755), verifying the written bytes against the source before the
// rename, and fsyncing the file and its directory. SysError only for arguments it cannot use.
SysError restoreFileNoFollow(const std::string& source, const std::string& target, RestoreOutcome& out);

}  // namespace ovn
