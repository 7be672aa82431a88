// One process, read from /proc/<pid>/{stat,status,statm,io,wchan,cmdline}.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sys_error.h"

namespace ovn {

struct IoCounters {
  uint64_t rchar = 0, wchar = 0, syscr = 0, syscw = 0, readBytes = 0, writeBytes = 0, cancelledWriteBytes = 0;
};

struct ProcessInfo {
  int pid = 0, ppid = 0, pgid = 0, sid = 0, ttyNr = 0, processor = -1;
  char state = '?';  // R S D Z T t X I ...
  std::string comm;
  uint32_t flags = 0;
  bool kernelThread = false;                              // PF_KTHREAD
  uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;  // clock ticks
  uint64_t starttime = 0;  // clock ticks after boot: (pid, starttime) names a process uniquely
  int64_t priority = 0, nice = 0;
  uint64_t numThreads = 0, vsize = 0, rss = 0;  // bytes
  uint64_t minflt = 0, majflt = 0, blkioTicks = 0;
  // status
  bool hasStatus = false;
  uint32_t uid = UINT32_MAX, euid = UINT32_MAX, gid = UINT32_MAX;
  uint64_t volCtxSwitches = 0, nonvolCtxSwitches = 0, vmSwap = 0;
  // statm (bytes)
  bool hasStatm = false;
  uint64_t statmSize = 0, statmResident = 0, statmShared = 0, statmText = 0, statmData = 0;
  // io: unreadable for other users' processes (and for pid 1 even as root)
  bool hasIo = false;
  IoCounters io;
  SysError ioError;
  bool hasWchan = false;
  std::string wchan;
  bool hasCmdline = false;
  std::vector<std::string> cmdline;
};

struct ProcessReadOptions {
  bool status = true;
  bool statm = false;
  bool io = false;
  bool wchan = false;
  bool cmdline = false;
};

// Parsers (exposed for unit tests of odd comm names like "a) b (c").
bool parseProcStat(std::string_view text, ProcessInfo& out);
void parseProcStatus(std::string_view text, ProcessInfo& out);
void parseProcStatm(std::string_view text, ProcessInfo& out);
void parseProcIo(std::string_view text, IoCounters& out);
void parseCmdline(std::string_view text, std::vector<std::string>& out);

// Reads the optional per-pid files (statm, io, wchan, cmdline) for an already-read process.
void readProcessExtras(int pid, const ProcessReadOptions& opts, ProcessInfo& out, std::string& buf);

// Reads one process. A pid that does not exist is ESRCH.
SysError readProcess(int pid, const ProcessReadOptions& opts, ProcessInfo& out);

uint64_t pageSize();
long clockTicksPerSecond();

}  // namespace ovn
