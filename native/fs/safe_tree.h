// Symlink-safe tree walking, deletion and space reservation, in the way systemd-tmpfiles works:
// every step is openat()/fstatat()/unlinkat() relative to a directory fd opened with O_NOFOLLOW,
// so a symlink (even one swapped in during the walk) is never followed, a mount point is never
// crossed, and a file someone holds with flock() is skipped.
// Thread: plain C++; the napi layer runs walks and deletions on libuv workers.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../proc/sys_error.h"

namespace ovn {

struct TreeEntry {
  std::string path;        // relative to the root
  uint64_t bytes = 0;      // st_size
  uint64_t allocated = 0;  // st_blocks * 512: what deleting it frees
  double mtimeMs = 0;
  bool isDir = false;
};

struct WalkOptions {
  size_t maxEntries = 1000000;
  int maxDepth = 64;
};

struct WalkResult {
  std::vector<TreeEntry> files;  // regular files only
  uint64_t skippedSymlinks = 0, skippedMounts = 0, skippedOther = 0, errors = 0;
  bool truncated = false;
  std::vector<std::string> errorSamples;
};

// Walks `root` (which must itself be a real directory, not a symlink).
SysError walkTree(const std::string& root, const WalkOptions& opts, WalkResult& out);

struct DeleteOutcome {
  std::string path;
  bool deleted = false;
  uint64_t freed = 0;
  std::string skipped;  // why not: "symlink", "locked (flock)", "changed", "not a regular file", errno text
};

// Deletes files given relative to `root`, re-checking each path component without following
// symlinks, on the same filesystem as the root, and skipping files locked with flock().
SysError deleteUnder(const std::string& root, const std::vector<std::string>& relPaths,
                     std::vector<DeleteOutcome>& out);

// Creates `path` (O_EXCL, O_NOFOLLOW) and allocates `bytes` with fallocate (real blocks, ENOSPC if
// they are not there). On failure nothing is left behind.
SysError reserveSpace(const std::string& path, uint64_t bytes);

}  // namespace ovn
