// PSI triggers: the kernel wakes us when tasks stall on a resource for more than `stallUs` within
// `windowUs` (/proc/pressure/<resource>, poll POLLPRI). Without CAP_SYS_RESOURCE the window must be
// a multiple of 2 s. A thread waits on all triggers and a stop pipe; onEvent runs on that thread.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sys_error.h"

namespace ovn {

struct PsiTriggerSpec {
  std::string resource;  // "memory", "cpu", "io"
  bool full = false;     // "full" instead of "some"
  uint64_t stallUs = 150000;
  uint64_t windowUs = 2000000;
};

class PsiTriggerWatcher {
 public:
  using OnEvent = std::function<void(const std::string& resource, const SysError& err)>;
  using OnExit = std::function<void()>;
  // Opens and arms the triggers on the calling thread (errors come back here), then waits on a thread.
  static SysError create(const std::vector<PsiTriggerSpec>& specs, OnEvent onEvent, OnExit onExit,
                         std::unique_ptr<PsiTriggerWatcher>& out);
  ~PsiTriggerWatcher();
  void stop();

  struct State {
    std::vector<int> fds;
    std::vector<std::string> names;
    int stopPipe[2] = {-1, -1};
    OnEvent onEvent;
    OnExit onExit;
    std::atomic<bool> stop{false};
  };

 private:
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// sd_notify(3): sends `message` to $NOTIFY_SOCKET (a unix datagram socket; '@' = abstract).
// Returns ENOENT-free success (err 0) when NOTIFY_SOCKET is unset, with `sent` false.
SysError sdNotify(const std::string& message, bool& sent);

}  // namespace ovn
