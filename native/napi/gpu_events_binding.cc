// JS class GpuEventWatcher: Xid and other NVML events from the event thread (nvml/event_watcher),
// delivered through one ThreadSafeFunction; a subscription keeps the process alive until stop().
// Thread: constructor and stop() on the JS thread; events become JS values in the TSFN callback.
#include <napi.h>

#include <memory>

#include "../nvml/event_watcher.h"
#include "../nvml/gpu_names.h"
#include "../nvml/nvml_loader.h"
#include "errors.h"
#include "gpu_convert.h"
#include "js_object.h"
#include "tsfn_guard.h"

namespace ovn {
namespace {

using namespace nvml;

class GpuEventWatcherWrap : public Napi::ObjectWrap<GpuEventWatcherWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GpuEventWatcher", {InstanceMethod<&GpuEventWatcherWrap::Stop>("stop")});
  }

  explicit GpuEventWatcherWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GpuEventWatcherWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) throw invalidArg(env, "onEvent", "a function");
    unsigned long long mask = kEventXidCritical | kEventDoubleBitEcc | kEventSingleBitEcc;
    unsigned int pollMs = 500;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      double m = optNumber(o, "mask", static_cast<double>(mask));
      if (m <= 0) throw invalidArg(env, "mask", "a positive event-type bit mask");
      mask = static_cast<unsigned long long>(m);
      pollMs = static_cast<unsigned int>(optIntIn(o, "pollMs", pollMs, 10, 60000, "milliseconds in [10, 60000]"));
    }
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "overnight:gpuEvents", 0, 1);
    // A subscription keeps the process alive until stop(), like an fs.watch handle.
    Napi::ThreadSafeFunction tsfn = tsfn_;
    watcher_ = std::make_unique<EventWatcher>(
        mask, pollMs,
        [tsfn](const GpuEvent& e) mutable {
          auto* copy = new GpuEvent(e);
          napi_status st = tsfn.NonBlockingCall(copy, [](Napi::Env env, Napi::Function cb, GpuEvent* ev) {
            std::unique_ptr<GpuEvent> owned(ev);
            if (!env) return;
            guarded(env, "overnight:gpuEvents", [&] {
              JsObject o(env);
              o.num("timeMs", ev->timeMs);
              if (ev->error != SUCCESS) {
                o.str("type", "error").val("error", nvmlError(env, ev->error)).str("where", ev->errorWhere);
              } else {
                o.str("type", eventTypeName(ev->eventType))
                    .num("eventType", static_cast<double>(ev->eventType))
                    .num("gpuIndex", ev->gpuIndex)
                    .str("uuid", ev->uuid)
                    .num("data", static_cast<double>(ev->eventData));
                if (ev->eventType == kEventXidCritical) o.num("xid", static_cast<double>(ev->eventData));
              }
              callSafely(env, cb, {o.object()});
            });
          });
          if (st != napi_ok) delete copy;
        },
        [tsfn]() mutable { tsfn.Release(); });
  }

  ~GpuEventWatcherWrap() override {
    if (watcher_) watcher_->stop();
  }

 private:
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (watcher_) {
      watcher_->stop();
      watcher_.reset();
      tsfn_.Unref(info.Env());
    }
    return info.Env().Undefined();
  }
  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<EventWatcher> watcher_;
};

}  // namespace

void registerGpuEventsBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("GpuEventWatcher", GpuEventWatcherWrap::Define(env));
}

}  // namespace ovn
