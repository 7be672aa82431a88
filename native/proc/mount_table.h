// The mount table from /proc/self/mountinfo (proc(5)): where each filesystem is mounted, its type,
// source and options. NHC's check_fs_mount_rw reads /proc/mounts; mountinfo says the same plus the
// per-mount and per-superblock options apart (a read-only remount shows in either).
// Thread: any.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "sys_error.h"

namespace ovn {

struct MountEntry {
  std::string mountPoint;  // unescaped (\040 -> space)
  std::string fsType;
  std::string source;
  std::string mountOptions;  // per-mount: "rw,nosuid,relatime"
  std::string superOptions;  // per-superblock: "rw,size=..."
  bool readOnly = false;     // "ro" in either option list
};

// Parses mountinfo text; malformed lines are skipped.
void parseMountInfo(std::string_view text, std::vector<MountEntry>& out);
// Reads and parses `path` (normally /proc/self/mountinfo).
SysError readMountTable(const std::string& path, std::vector<MountEntry>& out);

}  // namespace ovn
