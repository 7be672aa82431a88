#include "gpu_worker.h"

#include "../proc/clock.h"
#include "nvml_loader.h"

namespace ovn::nvml {

GpuWorker::GpuWorker(Done onDone, OnExit onExit) : state_(std::make_shared<State>()) {
  state_->onDone = std::move(onDone);
  state_->onExit = std::move(onExit);
  thread_ = std::thread(run, state_);
}

GpuWorker::~GpuWorker() { stop(); }

void GpuWorker::submit(GpuJob* job) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->queue.push_back(job);
  }
  state_->cv.notify_one();
}

double GpuWorker::busyForUs() const {
  double since = state_->busySinceUs.load();
  return since > 0 ? monotonicNowUs() - since : 0;
}

void GpuWorker::stop() {
  bool busy;
  {
    // Read under the lock that run() holds while popping a job and marking itself busy, so a job
    // popped but not yet started is seen as busy (joining then could wait on the driver).
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping) return;
    state_->stopping = true;
    busy = state_->busySinceUs.load() > 0;
  }
  state_->cv.notify_one();
  if (!thread_.joinable()) return;
  // A thread blocked inside the driver cannot be interrupted; joining it would hang the caller
  // (and process exit). Detach it: it finishes on its own, holding its own state.
  if (busy)
    thread_.detach();
  else
    thread_.join();
}

void GpuWorker::run(std::shared_ptr<State> s) {
  for (;;) {
    GpuJob* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(s->mu);
      s->cv.wait(lock, [&] { return s->stopping || !s->queue.empty(); });
      if (s->stopping) {
        for (GpuJob* j : s->queue) delete j;
        s->queue.clear();
        break;
      }
      job = s->queue.front();
      s->queue.pop_front();
      s->busySinceUs.store(monotonicNowUs());  // under the lock: stop() sees the job as running
    }
    double t0 = s->busySinceUs.load();
    if (job->kind == GpuJob::Sample)
      sampleGpus(job->sampleOptions, job->sample);
    else
      runAction(*job);
    job->elapsedUs = monotonicNowUs() - t0;
    s->busySinceUs.store(0);
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      stopping = s->stopping;
    }
    if (stopping)
      delete job;
    else
      s->onDone(job);  // takes ownership
  }
  if (s->onExit) s->onExit();
}

void runAction(GpuJob& job) {
  const Api& a = api();
  Return r = ensureInit();
  if (r != SUCCESS) {
    job.actionRet = r;
    return;
  }
  Device d = nullptr;
  r = a.handleByIndex ? a.handleByIndex.fn(job.gpuIndex, &d) : ERROR_FUNCTION_NOT_FOUND;
  if (r != SUCCESS) {
    job.actionRet = r;
    return;
  }
  auto call = [&](const Entry<Return (*)(Device)>& e) { return e ? e.fn(d) : ERROR_FUNCTION_NOT_FOUND; };
  if (job.action == "resetGpuLockedClocks")
    r = call(a.resetGpuLockedClocks);
  else if (job.action == "resetMemoryLockedClocks")
    r = call(a.resetMemoryLockedClocks);
  else if (job.action == "resetApplicationsClocks")
    r = call(a.resetApplicationsClocks);
  else if (job.action == "setPersistenceMode")
    r = a.setPersistenceMode ? a.setPersistenceMode.fn(d, job.value) : ERROR_FUNCTION_NOT_FOUND;
  else
    r = ERROR_INVALID_ARGUMENT;
  job.actionRet = r;
}

}  // namespace ovn::nvml
