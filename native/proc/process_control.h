// Signalling and waiting through pidfds: the pidfd pins the process, so after checking that the
// pid still names the process we meant (its starttime), the signal cannot reach a newcomer that
// reused the pid. Only the policy gate calls these (through src/policy/).
// Thread: signalProcess on any thread; waitForExit blocks (run it on a worker).
#pragma once
#include <cstdint>

#include "sys_error.h"

namespace ovn {

// Sends `sig` to pid if it still has `starttime` (0 = do not check). ESRCH when it is gone or the
// pid was reused (path says which).
SysError signalProcess(int pid, uint64_t starttime, int sig);

// Waits up to timeoutMs for the process to exit (a zombie counts as exited). `exited` says which.
SysError waitForExit(int pid, uint64_t starttime, int timeoutMs, bool& exited);

}  // namespace ovn
