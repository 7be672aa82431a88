// The GPU thread: every NVML call runs here, never on the JS thread or libuv's pool, because a
// sick driver can block a call for minutes. Callers get their result through `onDone` (called on
// this thread); deadlines are enforced by the caller, which stops waiting and drops late results.
// Thread: submit() from any thread; jobs run one at a time on the worker thread.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gpu_reader.h"

namespace ovn::nvml {

struct GpuJob {
  enum Kind { Sample, Action } kind = Sample;
  double id = 0;
  GpuSampleOptions sampleOptions;
  GpuSample sample;
  // Action: a setter on one GPU ("resetGpuLockedClocks", "resetMemoryLockedClocks",
  // "resetApplicationsClocks", "setPersistenceMode").
  std::string action;
  unsigned int gpuIndex = 0;
  unsigned int value = 0;
  Return actionRet = SUCCESS;
  double elapsedUs = 0;
};

// State is shared with the thread, so a thread detached while stuck in the driver never touches a
// destroyed object. `onExit` runs on the thread as it ends.
class GpuWorker {
 public:
  using Done = std::function<void(GpuJob*)>;
  using OnExit = std::function<void()>;
  GpuWorker(Done onDone, OnExit onExit);
  ~GpuWorker();
  void submit(GpuJob* job);
  // Microseconds the current job has been running (0 when idle): lets callers tell "stuck" from "slow".
  double busyForUs() const;
  // Stops the thread. If a job is stuck in the driver, the thread is detached rather than joined.
  void stop();

 public:
  struct State {
    Done onDone;
    OnExit onExit;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<GpuJob*> queue;
    bool stopping = false;
    std::atomic<double> busySinceUs{0};
  };

 private:
  static void run(std::shared_ptr<State> s);
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// Runs one action job (a setter); fills actionRet.
void runAction(GpuJob& job);

}  // namespace ovn::nvml
