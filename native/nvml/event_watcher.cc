#include "event_watcher.h"

#include <chrono>

#include "../proc/clock.h"
#include "gpu_reader.h"
#include "nvml_loader.h"

namespace ovn::nvml {

EventWatcher::EventWatcher(unsigned long long mask, unsigned int pollMs, OnEvent onEvent, OnExit onExit)
    : state_(std::make_shared<State>()) {
  state_->mask = mask;
  state_->pollMs = pollMs;
  state_->onEvent = std::move(onEvent);
  state_->onExit = std::move(onExit);
  thread_ = std::thread(run, state_);
}

EventWatcher::~EventWatcher() { stop(); }

void EventWatcher::stop() {
  state_->stop.store(true);
  if (!thread_.joinable()) return;
  // Wait up to a few poll periods for the thread to leave nvmlEventSetWait; a driver that never
  // returns gets the thread detached instead of hanging the caller.
  unsigned int waitMs = state_->pollMs * 2 + 100;
  for (unsigned int i = 0; i < waitMs / 5 && state_->inWait.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (state_->inWait.load())
    thread_.detach();
  else
    thread_.join();
}

namespace {
void watch(const std::shared_ptr<EventWatcher::State>& s);
}

void EventWatcher::run(std::shared_ptr<State> s) {
  watch(s);
  if (s->onExit) s->onExit();
}

namespace {

void watch(const std::shared_ptr<EventWatcher::State>& s) {
  const Api& a = api();
  auto fail = [&](Return r, const char* where) {
    if (s->stop.load()) return;
    GpuEvent e;
    e.error = r;
    e.errorWhere = where;
    e.timeMs = wallNowMs();
    s->onEvent(e);
  };
  Return r = ensureInit();
  if (r != SUCCESS) return fail(r, "nvmlInit");
  if (!a.eventSetCreate || !a.registerEvents || !a.eventSetWait || !a.eventSetFree)
    return fail(ERROR_FUNCTION_NOT_FOUND, "nvmlEventSetCreate");
  EventSet set = nullptr;
  r = a.eventSetCreate.fn(&set);
  if (r != SUCCESS) return fail(r, "nvmlEventSetCreate");
  unsigned int count = 0;
  if (a.deviceCount) a.deviceCount.fn(&count);
  struct Registered {
    Device dev;
    int index;
    std::string uuid;
  };
  std::vector<Registered> regs;
  for (unsigned int i = 0; i < count; ++i) {
    Device d = nullptr;
    if (!a.handleByIndex || a.handleByIndex.fn(i, &d) != SUCCESS) continue;
    unsigned long long supported = s->mask;
    if (a.supportedEventTypes && a.supportedEventTypes.fn(d, &supported) == SUCCESS) supported &= s->mask;
    if (!supported) continue;
    if (a.registerEvents.fn(d, supported, set) != SUCCESS) continue;
    char uuid[kUuidBuffer] = {0};
    if (a.uuid) a.uuid.fn(d, uuid, sizeof uuid);
    regs.push_back({d, static_cast<int>(i), uuid});
  }
  while (!s->stop.load()) {
    EventData data{};
    s->inWait.store(true);
    r = a.eventSetWait.fn(set, &data, s->pollMs);
    s->inWait.store(false);
    if (s->stop.load()) break;
    if (r == ERROR_TIMEOUT) continue;
    if (r != SUCCESS) {
      // GPU_IS_LOST and friends: report once, then keep waiting (other GPUs may still report)
      // unless the set itself is unusable.
      fail(r, "nvmlEventSetWait");
      if (r == ERROR_UNINITIALIZED || r == ERROR_INVALID_ARGUMENT) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(s->pollMs));
      continue;
    }
    GpuEvent e;
    e.eventType = data.eventType;
    e.eventData = data.eventData;
    e.timeMs = wallNowMs();
    for (const Registered& reg : regs)
      if (reg.dev == data.device) {
        e.gpuIndex = reg.index;
        e.uuid = reg.uuid;
      }
    s->onEvent(e);
  }
  a.eventSetFree.fn(set);
}

}  // namespace

}  // namespace ovn::nvml
