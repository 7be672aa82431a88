// The daemon's start-up pages: the parts of the node binary, its libraries and the addons that a
// process touches while it starts (the dynamic linker's symbol tables, Node's own JS sources, the
// parser and compilers at full tilt) and seldom again. They are clean pages of read-only file
// mappings: the page cache keeps them and a later touch maps them back (a minor fault), so dropping
// them from this process's page tables loses nothing. Measured on the 2-core VM: `overnight monitor`
// held 47 MB of file-backed pages after start-up; its working set came back to 17-25 MB.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sys_error.h"

namespace ovn {

struct FileArea {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t rssKb = 0;
  std::string path;
};

// From /proc/self/smaps text, the areas whose pages can be dropped and faulted back unchanged:
// private, not writable, backed by a file (an inode, not a device under /dev/), with resident pages,
// none of them anonymous, resident or swapped out (a copy made by a write, a relocation or a
// debugger's breakpoint would be lost), not locked and not huge-TLB. Dirty file pages are allowed:
// smaps counts a page the page cache has not yet written back (a binary installed a minute ago) as
// dirty in every mapping of it, and unmapping leaves it in the cache, to be written back as before.
std::vector<FileArea> releasableFileAreas(std::string_view smaps);

struct FilePageRelease {
  uint64_t areas = 0;       // areas advised
  uint64_t residentKb = 0;  // their resident pages before (what left the RSS)
};

// madvise(MADV_DONTNEED) on each releasable area of this process. Areas that refuse (EINVAL on a
// locked one, ENOMEM if it went away since the read) are skipped; only reading smaps fails.
SysError releaseFilePages(FilePageRelease& out);

}  // namespace ovn
