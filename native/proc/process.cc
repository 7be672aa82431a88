#include "process.h"

#include <unistd.h>

#include <cstdio>

#include "kept_open_file.h"
#include "parse_util.h"

namespace ovn {

uint64_t pageSize() {
  static const uint64_t ps = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return ps;
}

long clockTicksPerSecond() {
  static const long t = sysconf(_SC_CLK_TCK);
  return t;
}

bool parseProcStat(std::string_view text, ProcessInfo& o) {
  const char* p = text.data();
  const char* end = p + text.size();
  o.pid = static_cast<int>(parseU64(p, end));
  // comm may contain spaces and parentheses: it runs from the first '(' to the last ')'.
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return false;
  o.comm.assign(text.data() + open + 1, close - open - 1);
  p = text.data() + close + 1;
  skipSpaces(p, end);
  if (p >= end) return false;
  o.state = *p++;
  o.ppid = static_cast<int>(parseI64(p, end));         // 4
  o.pgid = static_cast<int>(parseI64(p, end));         // 5
  o.sid = static_cast<int>(parseI64(p, end));          // 6
  o.ttyNr = static_cast<int>(parseI64(p, end));        // 7
  parseI64(p, end);                                    // 8 tpgid
  o.flags = static_cast<uint32_t>(parseU64(p, end));   // 9
  o.kernelThread = (o.flags & 0x00200000u) != 0;       // PF_KTHREAD
  o.minflt = parseU64(p, end);                         // 10
  parseU64(p, end);                                    // 11 cminflt
  o.majflt = parseU64(p, end);                         // 12
  parseU64(p, end);                                    // 13 cmajflt
  o.utime = parseU64(p, end);                          // 14
  o.stime = parseU64(p, end);                          // 15
  o.cutime = static_cast<uint64_t>(parseI64(p, end));  // 16
  o.cstime = static_cast<uint64_t>(parseI64(p, end));  // 17
  o.priority = parseI64(p, end);                       // 18
  o.nice = parseI64(p, end);                           // 19
  o.numThreads = parseU64(p, end);                     // 20
  parseI64(p, end);                                    // 21 itrealvalue
  o.starttime = parseU64(p, end);                      // 22
  o.vsize = parseU64(p, end);                          // 23 bytes
  o.rss = parseU64(p, end) * pageSize();               // 24 pages
  // 25..38: rsslim startcode endcode startstack kstkesp kstkeip signal blocked sigignore sigcatch
  //         wchan nswap cnswap exit_signal
  for (int i = 25; i <= 38; ++i) parseU64(p, end);
  o.processor = static_cast<int>(parseI64(p, end));  // 39
  parseU64(p, end);                                  // 40 rt_priority
  parseU64(p, end);                                  // 41 policy
  o.blkioTicks = parseU64(p, end);                   // 42 delayacct_blkio_ticks
  return true;
}

void parseProcStatus(std::string_view text, ProcessInfo& o) {
  const char* p = text.data();
  const char* end = p + text.size();
  o.hasStatus = true;
  while (p < end) {
    const char* key = p;
    while (p < end && *p != ':' && *p != '\n') ++p;
    std::string_view k(key, static_cast<size_t>(p - key));
    if (p < end && *p == ':') ++p;
    switch (k.empty() ? 0 : k[0]) {
      case 'U':
        if (k == "Uid") {
          o.uid = static_cast<uint32_t>(parseU64(p, end));
          o.euid = static_cast<uint32_t>(parseU64(p, end));
        }
        break;
      case 'G':
        if (k == "Gid") o.gid = static_cast<uint32_t>(parseU64(p, end));
        break;
      case 'V':
        if (k == "VmSwap") o.vmSwap = parseU64(p, end) * 1024;
        break;
      case 'v':
        if (k == "voluntary_ctxt_switches") o.volCtxSwitches = parseU64(p, end);
        break;
      case 'n':
        if (k == "nonvoluntary_ctxt_switches") {
          o.nonvolCtxSwitches = parseU64(p, end);
          return;  // the last field we need; the file ends soon after
        }
        break;
      default:
        break;
    }
    skipToNextLine(p, end);
  }
}

void parseProcStatm(std::string_view text, ProcessInfo& o) {
  const char* p = text.data();
  const char* end = p + text.size();
  uint64_t ps = pageSize();
  o.statmSize = parseU64(p, end) * ps;
  o.statmResident = parseU64(p, end) * ps;
  o.statmShared = parseU64(p, end) * ps;
  o.statmText = parseU64(p, end) * ps;
  parseU64(p, end);  // lib, always 0
  o.statmData = parseU64(p, end) * ps;
  o.hasStatm = true;
}

void parseProcIo(std::string_view text, IoCounters& io) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const char* key = p;
    while (p < end && *p != ':' && *p != '\n') ++p;
    std::string_view k(key, static_cast<size_t>(p - key));
    if (p < end) ++p;
    uint64_t v = parseU64(p, end);
    if (k == "rchar")
      io.rchar = v;
    else if (k == "wchar")
      io.wchar = v;
    else if (k == "syscr")
      io.syscr = v;
    else if (k == "syscw")
      io.syscw = v;
    else if (k == "read_bytes")
      io.readBytes = v;
    else if (k == "write_bytes")
      io.writeBytes = v;
    else if (k == "cancelled_write_bytes")
      io.cancelledWriteBytes = v;
    skipToNextLine(p, end);
  }
}

void parseCmdline(std::string_view text, std::vector<std::string>& out) {
  out.clear();
  size_t start = 0;
  while (start < text.size()) {
    size_t nul = text.find('\0', start);
    if (nul == std::string_view::npos) nul = text.size();
    out.emplace_back(text.substr(start, nul - start));
    start = nul + 1;
  }
}

static std::string pidPath(int pid, const char* file) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "/proc/%d/%s", pid, file);
  return buf;
}

void readProcessExtras(int pid, const ProcessReadOptions& opts, ProcessInfo& o, std::string& buf) {
  if (opts.statm && readFileOnce(pidPath(pid, "statm").c_str(), buf).ok()) parseProcStatm(buf, o);
  if (opts.io) {
    SysError e = readFileOnce(pidPath(pid, "io").c_str(), buf);
    if (e.ok()) {
      parseProcIo(buf, o.io);
      o.hasIo = true;
    } else {
      e.pid = pid;
      o.ioError = e;
    }
  }
  if (opts.wchan && readFileOnce(pidPath(pid, "wchan").c_str(), buf).ok()) {
    o.wchan = buf;
    o.hasWchan = true;
  }
  if (opts.cmdline && readFileOnce(pidPath(pid, "cmdline").c_str(), buf, 1 << 20).ok()) {
    parseCmdline(buf, o.cmdline);
    o.hasCmdline = true;
  }
}

SysError readProcess(int pid, const ProcessReadOptions& opts, ProcessInfo& o) {
  o = ProcessInfo{};
  std::string buf;
  std::string path = pidPath(pid, "stat");
  SysError e = readFileOnce(path.c_str(), buf);
  if (!e.ok()) {
    if (e.err == ENOENT) e.err = ESRCH;  // /proc/<pid> is gone: the process does not exist
    e.pid = pid;
    return e;
  }
  if (!parseProcStat(buf, o)) return SysError::fromErrno(EINVAL, "parse", path, pid);
  if (opts.status) {
    SysError se = readFileOnce(pidPath(pid, "status").c_str(), buf);
    if (se.ok())
      parseProcStatus(buf, o);
    else if (se.err == ENOENT || se.err == ESRCH)
      return SysError::fromErrno(ESRCH, "open", pidPath(pid, "status"), pid);
  }
  readProcessExtras(pid, opts, o, buf);
  return {};
}

}  // namespace ovn
