#include "process_control.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "kept_open_file.h"
#include "process.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace ovn {
namespace {

int pidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Opens a pidfd and checks the process behind it is the one with `starttime`.
SysError openChecked(int pid, uint64_t starttime, int& fd) {
  fd = pidfdOpen(pid);
  if (fd < 0) return SysError::fromErrno(errno, "pidfd_open", "", pid);
  if (starttime == 0) return {};
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  std::string buf;
  ProcessInfo info;
  SysError e = readFileOnce(path, buf);
  if (e.ok() && parseProcStat(buf, info) && info.starttime == starttime) return {};
  ::close(fd);
  fd = -1;
  SysError gone = SysError::fromErrno(ESRCH, "verify", e.ok() ? "pid reused by another process" : "process gone", pid);
  return gone;
}

}  // namespace

SysError signalProcess(int pid, uint64_t starttime, int sig) {
  if (pid <= 0) return SysError::fromErrno(EINVAL, "pidfd_send_signal", "", pid);
  int fd = -1;
  SysError e = openChecked(pid, starttime, fd);
  if (!e.ok()) return e;
  long r = syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0);
  int err = errno;
  ::close(fd);
  if (r < 0) return SysError::fromErrno(err, "pidfd_send_signal", "", pid);
  return {};
}

SysError waitForExit(int pid, uint64_t starttime, int timeoutMs, bool& exited) {
  exited = false;
  int fd = -1;
  SysError e = openChecked(pid, starttime, fd);
  if (!e.ok()) {
    if (e.err == ESRCH) {
      exited = true;  // already gone (or replaced): the process we meant has exited
      return {};
    }
    return e;
  }
  struct pollfd p {
    fd, POLLIN, 0
  };
  for (;;) {
    int r = ::poll(&p, 1, timeoutMs);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int err = errno;
      ::close(fd);
      return SysError::fromErrno(err, "poll", "", pid);
    }
    exited = r > 0;
    break;
  }
  ::close(fd);
  return {};
}

}  // namespace ovn
