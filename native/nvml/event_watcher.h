// Xid and other critical NVML events, waited for on a thread of their own
// (nvmlEventSetCreate / nvmlDeviceRegisterEvents / nvmlEventSetWait_v2).
// Thread: start/stop from the JS thread; onEvent is called on the watcher thread.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nvml_abi.h"

namespace ovn::nvml {

struct GpuEvent {
  int gpuIndex = -1;
  std::string uuid;
  unsigned long long eventType = 0;
  unsigned long long eventData = 0;  // the Xid for XidCriticalError events
  double timeMs = 0;                 // wall clock
  // Set on the last callback when the watcher stops because of an error.
  Return error = SUCCESS;
  std::string errorWhere;
};

// The thread owns its state through a shared_ptr: if stop() has to detach a thread stuck in the
// driver, the thread can still finish safely later. `onExit` runs on the thread as it ends (the
// napi layer releases its ThreadSafeFunction there, so it is never called after release).
class EventWatcher {
 public:
  using OnEvent = std::function<void(const GpuEvent&)>;
  using OnExit = std::function<void()>;
  EventWatcher(unsigned long long eventMask, unsigned int pollMs, OnEvent onEvent, OnExit onExit);
  ~EventWatcher();
  void stop();

 public:
  struct State {
    unsigned long long mask;
    unsigned int pollMs;
    OnEvent onEvent;
    OnExit onExit;
    std::atomic<bool> stop{false};
    std::atomic<bool> inWait{false};
  };

 private:
  static void run(std::shared_ptr<State> s);
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace ovn::nvml
