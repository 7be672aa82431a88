// PSI triggers: the kernel wakes us when tasks stall on a resource for more than `stallUs` within
// `windowUs` (POLLPRI on a pressure file: /proc/pressure/<resource> system-wide, or a cgroup v2
// <cgroup>/memory.pressure). Without CAP_SYS_RESOURCE the window must be a multiple of 2 s.
// The kernel's trigger can be late by tens of seconds under thrashing (its growth tracking runs on
// its own schedule), so the same thread ("ovn-psi") also reads each file's cumulative `total=` every
// `pollUs` (less often while every file is far from its threshold: pollWaitNs) and reports when the
// stall within the window passes the same threshold ("poll" events): the same arithmetic the kernel
// does, on totals we read ourselves. Thread: create/stop/stalls on the JS thread; waiting, reading
// and onEvent on the watcher's own thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sys_error.h"

namespace ovn {

struct PsiTriggerSpec {
  std::string path;   // the pressure file
  std::string name;   // what events call it ("system", "cgroup:/agent", ...)
  bool full = false;  // "full" instead of "some"
  bool arm = true;    // write a kernel trigger; false: polled only
  uint64_t stallUs = 150000;
  uint64_t windowUs = 2000000;
};

struct PsiEvent {
  std::string name, path;
  const char* kind = "trigger";  // "trigger" (the kernel's), "poll" (ours) or "error"
  uint64_t stallUs = 0;          // measured stall within the window (0 when not yet known)
  uint64_t windowUs = 0;
  SysError err;
};

// The stall of one file over a window, from the totals the poll read (plain numbers).
struct PsiStall {
  std::string name, path;
  bool known = false;      // at least one total read
  uint64_t totalUs = 0;    // the newest total
  uint64_t stallUs = 0;    // total growth over the covered span
  uint64_t coveredUs = 0;  // the span the growth is over (<= the window asked for)
  uint64_t ageUs = 0;      // how old the newest total is
};

// How long the poll may sleep after a reading: pollNs, or longer while every file lacks more than
// pollNs of stall to pass its threshold (see psi_trigger.cc). headroomNs: the least any file lacks.
uint64_t pollWaitNs(uint64_t pollNs, uint64_t headroomNs);
// The longest such sleep, in polls.
constexpr uint64_t kMaxQuietPolls = 2;

class PsiTriggerWatcher {
 public:
  using OnEvent = std::function<void(const PsiEvent&)>;
  using OnExit = std::function<void()>;
  // Opens and arms the triggers on the calling thread (errors come back here and name the file),
  // then waits on a thread. pollUs 0: no polled reading.
  static SysError create(const std::vector<PsiTriggerSpec>& specs, uint64_t pollUs, OnEvent onEvent, OnExit onExit,
                         std::unique_ptr<PsiTriggerWatcher>& out);
  ~PsiTriggerWatcher();
  void stop();
  // Each file's stall over the last windowUs, from the polled totals (empty figures without polling).
  std::vector<PsiStall> stalls(uint64_t windowUs) const;

  struct Sample {
    uint64_t tNs, totalUs;
  };
  struct File {
    PsiTriggerSpec spec;
    int fd = -1;
    std::deque<Sample> history;  // polled totals, oldest first, at most keepNs old
    uint64_t lastFireNs = 0;
    bool fired = false;
  };
  struct State {
    std::vector<File> files;
    uint64_t pollNs = 0, keepNs = 0;
    int stopPipe[2] = {-1, -1};
    OnEvent onEvent;
    OnExit onExit;
    std::atomic<bool> stop{false};
    mutable std::mutex mu;  // guards each File's history
  };

 private:
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// sd_notify(3): sends `message` to $NOTIFY_SOCKET (a unix datagram socket; '@' = abstract).
// Returns ENOENT-free success (err 0) when NOTIFY_SOCKET is unset, with `sent` false.
SysError sdNotify(const std::string& message, bool& sent);

}  // namespace ovn
