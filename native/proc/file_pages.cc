#include "file_pages.h"

#include <sys/mman.h>

#include "kept_open_file.h"
#include "parse_util.h"

namespace ovn {
namespace {

uint64_t parseHex(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) break;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  return v;
}

// The next space-separated field of a header line, advancing `s`.
std::string_view field(std::string_view& s) {
  size_t b = s.find_first_not_of(' ');
  if (b == std::string_view::npos) return s = {}, std::string_view{};
  s.remove_prefix(b);
  size_t e = s.find(' ');
  std::string_view f = s.substr(0, e);
  s.remove_prefix(e == std::string_view::npos ? s.size() : e);
  return f;
}

struct Area {
  FileArea a;
  bool candidate = false;  // header: private, read-only, a file
  bool safe = true;        // no anonymous, swapped or locked pages, not huge-TLB
  bool anonSeen = false;   // a record cut short (a read that stopped early) proves nothing
  bool flagsSeen = false;  // VmFlags is each record's last line
};

void finish(Area& cur, std::vector<FileArea>& out) {
  if (cur.candidate && cur.safe && cur.anonSeen && cur.flagsSeen && cur.a.rssKb > 0) out.push_back(std::move(cur.a));
  cur = Area{};
}

// "Name:   123 kB" -> 123
uint64_t kb(std::string_view line) {
  const char* p = line.data() + line.find(':') + 1;
  return parseU64(p, line.data() + line.size());
}

}  // namespace

std::vector<FileArea> releasableFileAreas(std::string_view smaps) {
  std::vector<FileArea> out;
  Area cur;
  while (!smaps.empty()) {
    size_t nl = smaps.find('\n');
    std::string_view line = smaps.substr(0, nl);
    smaps.remove_prefix(nl == std::string_view::npos ? smaps.size() : nl + 1);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    size_t dash = line.find('-');
    // A header starts with "start-end " in hex; field lines with "Name:".
    bool header =
        dash != std::string_view::npos && (colon == std::string_view::npos || dash < colon) && line.find(' ') > dash;
    if (header) {
      finish(cur, out);
      std::string_view rest = line;
      std::string_view range = field(rest), perms = field(rest);
      field(rest);  // offset
      field(rest);  // device
      std::string_view inode = field(rest);
      size_t p = rest.find_first_not_of(' ');
      std::string_view path = p == std::string_view::npos ? std::string_view{} : rest.substr(p);
      cur.a.start = parseHex(range.substr(0, range.find('-')));
      cur.a.end = parseHex(range.substr(range.find('-') + 1));
      cur.a.path = std::string(path);
      cur.candidate = perms.size() == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' && inode != "0" &&
                      !inode.empty() && !path.empty() && path[0] == '/' && path.substr(0, 5) != "/dev/" &&
                      cur.a.end > cur.a.start;
      continue;
    }
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    if (name == "Rss")
      cur.a.rssKb = kb(line);
    else if (name == "Anonymous" || name == "Locked" || name == "Swap") {
      if (kb(line) != 0) cur.safe = false;
      if (name == "Anonymous") cur.anonSeen = true;
    } else if (name == "VmFlags") {
      cur.flagsSeen = true;
      // lo: mlocked; ht: huge-TLB; io/pf: device memory.
      std::string_view flags = line.substr(colon + 1);
      for (std::string_view f; !(f = field(flags)).empty();)
        if (f == "lo" || f == "ht" || f == "io" || f == "pf") cur.safe = false;
    }
  }
  finish(cur, out);
  return out;
}

SysError releaseFilePages(FilePageRelease& out) {
  out = {};
  std::string text;
  // About 1 KB per area; a process with NVML loaded has a few thousand areas.
  SysError e = readFileOnce("/proc/self/smaps", text, 64u << 20);
  if (!e.ok()) return e;
  for (const FileArea& a : releasableFileAreas(text)) {
    if (::madvise(reinterpret_cast<void*>(a.start), a.end - a.start, MADV_DONTNEED) != 0) continue;
    out.areas++;
    out.residentKb += a.rssKb;
  }
  return {};
}

}  // namespace ovn
