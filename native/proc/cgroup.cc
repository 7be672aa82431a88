#include "cgroup.h"

#include "parse_util.h"

namespace ovn {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeMount(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool hasOption(std::string_view list, std::string_view opt) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item =
        list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item == opt) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

struct Mount {
  std::string root, mountPoint, fsType, superOpts;
};

std::vector<Mount> cgroupMounts(std::string_view mountinfo) {
  std::vector<Mount> out;
  const char* p = mountinfo.data();
  const char* end = p + mountinfo.size();
  while (p < end) {
    const char* lineEnd = p;
    while (lineEnd < end && *lineEnd != '\n') ++lineEnd;
    std::vector<std::string_view> f;
    const char* q = p;
    while (q < lineEnd) {
      std::string_view t = nextToken(q, lineEnd);
      if (!t.empty()) f.push_back(t);
    }
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [optional...] - FSTYPE SOURCE SUPEROPTS
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); ++i)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    if (dash && dash + 2 < f.size()) {
      std::string_view fstype = f[dash + 1];
      if (fstype == "cgroup" || fstype == "cgroup2") {
        Mount m;
        m.root = unescapeMount(f[3]);
        m.mountPoint = unescapeMount(f[4]);
        m.fsType = std::string(fstype);
        m.superOpts = dash + 3 < f.size() ? std::string(f[dash + 3]) : std::string();
        out.push_back(std::move(m));
      }
    }
    p = lineEnd < end ? lineEnd + 1 : end;
  }
  return out;
}

// Maps a cgroup path to a directory under a mount whose root is a prefix of it.
// (In a container the mount root is the container's cgroup, and the path is below it.)
bool dirFor(const std::vector<const Mount*>& mounts, const std::string& path, std::string& dir) {
  const Mount* best = nullptr;
  for (const Mount* m : mounts) {
    if (m->root == "/" || path == m->root || path.rfind(m->root + "/", 0) == 0) {
      if (!best || m->root.size() > best->root.size()) best = m;
    }
  }
  if (!best) return false;
  std::string rel = best->root == "/" ? path : path.substr(best->root.size());
  if (rel == "/") rel.clear();
  dir = best->mountPoint + rel;
  return true;
}

}  // namespace

bool resolveCgroupPaths(std::string_view procCgroup, std::string_view mountinfo, CgroupPaths& out) {
  out = CgroupPaths{};
  std::vector<Mount> mounts = cgroupMounts(mountinfo);
  std::vector<const Mount*> v2mounts;
  for (const Mount& m : mounts)
    if (m.fsType == "cgroup2") v2mounts.push_back(&m);
  auto v1mountsFor = [&](std::string_view controller) {
    std::vector<const Mount*> r;
    for (const Mount& m : mounts)
      if (m.fsType == "cgroup" && hasOption(m.superOpts, controller)) r.push_back(&m);
    return r;
  };
  bool anyV1 = false, anyV2 = false;
  const char* p = procCgroup.data();
  const char* end = p + procCgroup.size();
  while (p < end) {
    const char* lineEnd = p;
    while (lineEnd < end && *lineEnd != '\n') ++lineEnd;
    std::string_view line(p, static_cast<size_t>(lineEnd - p));
    p = lineEnd < end ? lineEnd + 1 : end;
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view hid = line.substr(0, c1);
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path(line.substr(c2 + 1));
    if (hid == "0" && controllers.empty()) {
      out.v2Path = path;
      if (dirFor(v2mounts, path, out.v2Dir)) anyV2 = true;
      continue;
    }
    if (hasOption(controllers, "memory") && dirFor(v1mountsFor("memory"), path, out.v1MemoryDir)) anyV1 = true;
    if (hasOption(controllers, "cpu") && dirFor(v1mountsFor("cpu"), path, out.v1CpuDir)) anyV1 = true;
    if (hasOption(controllers, "cpuacct") && dirFor(v1mountsFor("cpuacct"), path, out.v1CpuacctDir)) anyV1 = true;
  }
  out.layout = anyV1 && anyV2 ? "hybrid" : anyV1 ? "v1" : anyV2 ? "v2" : "";
  return anyV1 || anyV2;
}

namespace {

// "max" (v2) and values near INT64_MAX (v1's page-rounded LONG_MAX) mean no limit.
uint64_t parseLimit(std::string_view text) {
  text = trim(text);
  if (text == "max") return kUnlimited;
  const char* p = text.data();
  uint64_t v = parseU64(p, p + text.size());
  return v >= (1ULL << 62) ? kUnlimited : v;
}

class Reader {
 public:
  Reader(CgroupFileCache& files, CgroupSample& out) : files_(files), out_(out) {}
  // Reads dir/name into buf_; records the error under `field` when it fails.
  bool read(const std::string& dir, const char* name, const char* field) {
    SysError e = files_.get(dir, name).read(buf_);
    if (!e.ok()) {
      out_.errors.push_back({field, e});
      return false;
    }
    return true;
  }
  // Reads without recording an error (for files whose absence is expected on some layouts).
  bool tryRead(const std::string& dir, const char* name) { return files_.get(dir, name).read(buf_).ok(); }
  std::string_view text() const { return buf_; }
  uint64_t u64() const {
    const char* p = buf_.data();
    return parseU64(p, p + buf_.size());
  }
  // Visits "key value" lines.
  template <class F>
  void eachKV(F&& f) const {
    const char* p = buf_.data();
    const char* end = p + buf_.size();
    while (p < end) {
      std::string_view k = nextToken(p, end);
      uint64_t v = parseU64(p, end);
      f(k, v);
      skipToNextLine(p, end);
    }
  }

 private:
  CgroupFileCache& files_;
  CgroupSample& out_;
  std::string buf_;
};

void readV2Memory(Reader& r, const std::string& dir, CgroupMemory& m) {
  m.source = "v2";
  if (r.read(dir, "memory.current", "memory.usage")) {
    m.usage = r.u64();
    m.hasUsage = true;
  }
  if (r.read(dir, "memory.max", "memory.limit")) {
    m.limit = parseLimit(r.text());
    m.hasLimit = true;
  }
  if (r.read(dir, "memory.high", "memory.high")) {
    m.high = parseLimit(r.text());
    m.hasHigh = true;
  }
  if (r.tryRead(dir, "memory.swap.current")) {
    m.swapUsage = r.u64();
    m.hasSwap = true;
    if (r.tryRead(dir, "memory.swap.max")) m.swapLimit = parseLimit(r.text());
  }
  if (r.read(dir, "memory.events", "memory.events")) {
    m.hasEvents = true;
    r.eachKV([&](std::string_view k, uint64_t v) {
      if (k == "low")
        m.eventsLow = v;
      else if (k == "high")
        m.eventsHigh = v;
      else if (k == "max")
        m.eventsMax = v;
      else if (k == "oom")
        m.eventsOom = v;
      else if (k == "oom_kill")
        m.eventsOomKill = v;
    });
  }
  if (r.read(dir, "memory.stat", "memory.stat")) {
    m.hasStat = true;
    r.eachKV([&](std::string_view k, uint64_t v) {
      if (k == "anon")
        m.anon = v;
      else if (k == "file")
        m.file = v;
      else if (k == "inactive_file")
        m.inactiveFile = v;
      else if (k == "active_file")
        m.activeFile = v;
      else if (k == "shmem")
        m.shmem = v;
    });
  }
}

void readV1Memory(Reader& r, const std::string& dir, CgroupMemory& m) {
  m.source = "v1";
  if (r.read(dir, "memory.usage_in_bytes", "memory.usage")) {
    m.usage = r.u64();
    m.hasUsage = true;
  }
  if (r.read(dir, "memory.limit_in_bytes", "memory.limit")) {
    m.limit = parseLimit(r.text());
    m.hasLimit = true;
  }
  // v1's soft limit is the closest thing to v2's memory.high (reclaim target, not a hard stop).
  if (r.tryRead(dir, "memory.soft_limit_in_bytes")) {
    m.high = parseLimit(r.text());
    m.hasHigh = true;
  }
  if (r.read(dir, "memory.failcnt", "memory.failcnt")) {
    m.failcnt = r.u64();
    m.hasFailcnt = true;
  }
  if (r.tryRead(dir, "memory.max_usage_in_bytes")) m.maxUsage = r.u64();
  if (r.tryRead(dir, "memory.memsw.usage_in_bytes")) {
    uint64_t memsw = r.u64();
    m.swapUsage = memsw > m.usage ? memsw - m.usage : 0;
    m.hasSwap = true;
    if (r.tryRead(dir, "memory.memsw.limit_in_bytes")) m.swapLimit = parseLimit(r.text());
  }
  if (r.read(dir, "memory.oom_control", "memory.events")) {
    m.hasEvents = true;
    r.eachKV([&](std::string_view k, uint64_t v) {
      if (k == "under_oom")
        m.underOom = v != 0;
      else if (k == "oom_kill") {
        m.eventsOomKill = v;
        m.eventsOom = v;
      }
    });
  }
  if (r.read(dir, "memory.stat", "memory.stat")) {
    m.hasStat = true;
    // total_* include descendants (hierarchical); the plain keys are this cgroup only.
    r.eachKV([&](std::string_view k, uint64_t v) {
      if (k == "total_rss")
        m.anon = v;
      else if (k == "total_cache")
        m.file = v;
      else if (k == "total_inactive_file")
        m.inactiveFile = v;
      else if (k == "total_active_file")
        m.activeFile = v;
      else if (k == "total_shmem")
        m.shmem = v;
    });
  }
}

void readCpuStat(Reader& r, const std::string& dir, CgroupCpu& c, bool v2) {
  if (!r.read(dir, "cpu.stat", "cpu.stat")) return;
  c.hasStat = true;
  r.eachKV([&](std::string_view k, uint64_t v) {
    if (k == "nr_periods")
      c.nrPeriods = v;
    else if (k == "nr_throttled")
      c.nrThrottled = v;
    else if (k == "throttled_usec")
      c.throttledUs = v;
    else if (k == "throttled_time")
      c.throttledUs = v / 1000;  // v1 reports ns
    else if (v2 && k == "usage_usec") {
      c.usageUs = v;
      c.hasUsage = true;
    }
  });
}

bool readPsiFile(Reader& r, const std::string& dir, const char* name, Psi& out) {
  if (!r.tryRead(dir, name)) return false;
  return parsePsi(r.text(), out);
}

}  // namespace

KeptOpenFile& CgroupFileCache::get(const std::string& dir, const char* name) {
  for (Entry& e : entries_)
    if (e.dir == &dir && e.name == name) return *e.file;
  entries_.push_back({&dir, name, std::make_unique<KeptOpenFile>(dir + "/" + name)});
  return *entries_.back().file;
}

void readCgroup(CgroupFileCache& files, const CgroupPaths& paths, CgroupSample& out) {
  out.paths = paths;
  out.errors.clear();
  Reader r(files, out);
  // Memory: the v1 controller where it is mounted (hybrid keeps controllers on v1), else v2.
  if (!paths.v1MemoryDir.empty()) {
    readV1Memory(r, paths.v1MemoryDir, out.memory);
  } else if (!paths.v2Dir.empty()) {
    readV2Memory(r, paths.v2Dir, out.memory);
  }
  // CPU bandwidth: v1 cfs files, else v2 cpu.max.
  if (!paths.v1CpuDir.empty()) {
    out.cpu.source = "v1";
    if (r.read(paths.v1CpuDir, "cpu.cfs_quota_us", "cpu.quota")) {
      const char* p = r.text().data();
      out.cpu.quotaUs = parseI64(p, p + r.text().size());
      out.cpu.hasQuota = true;
    }
    if (r.read(paths.v1CpuDir, "cpu.cfs_period_us", "cpu.period")) out.cpu.periodUs = r.u64();
    readCpuStat(r, paths.v1CpuDir, out.cpu, false);
    const std::string& acct = paths.v1CpuacctDir.empty() ? paths.v1CpuDir : paths.v1CpuacctDir;
    if (r.tryRead(acct, "cpuacct.usage")) {
      out.cpu.usageUs = r.u64() / 1000;
      out.cpu.hasUsage = true;
    }
  } else if (!paths.v2Dir.empty()) {
    out.cpu.source = "v2";
    // cpu.max is absent in the root cgroup and where the cpu controller is not enabled.
    if (r.tryRead(paths.v2Dir, "cpu.max")) {
      const char* p = r.text().data();
      const char* end = p + r.text().size();
      std::string_view q = nextToken(p, end);
      if (q == "max") {
        out.cpu.quotaUs = -1;
      } else {
        const char* qp = q.data();
        out.cpu.quotaUs = static_cast<int64_t>(parseU64(qp, q.data() + q.size()));
      }
      out.cpu.periodUs = parseU64(p, end);
      out.cpu.hasQuota = true;
    }
    readCpuStat(r, paths.v2Dir, out.cpu, true);
  }
  if (!paths.v2Dir.empty()) {
    out.hasCpuPressure = readPsiFile(r, paths.v2Dir, "cpu.pressure", out.cpuPressure);
    out.hasMemoryPressure = readPsiFile(r, paths.v2Dir, "memory.pressure", out.memoryPressure);
    out.hasIoPressure = readPsiFile(r, paths.v2Dir, "io.pressure", out.ioPressure);
  }
}

}  // namespace ovn
