// PsiTriggerWatcher (class PsiTriggers: calls back on the JS thread when a trigger fires) and
// sdNotify(message). Thread: construction and stop on the JS thread; waiting on its own thread.
#include <napi.h>

#include "../proc/psi_trigger.h"
#include "errors.h"
#include "js_object.h"
#include "tsfn_guard.h"

namespace ovn {
namespace {

class PsiTriggersWrap : public Napi::ObjectWrap<PsiTriggersWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PsiTriggers", {InstanceMethod<&PsiTriggersWrap::Stop>("stop")});
  }

  // new PsiTriggers([{ resource, full, stallUs, windowUs }], onEvent(resource, error?))
  explicit PsiTriggersWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PsiTriggersWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsFunction())
      throw invalidArg(env, "arguments", "(specs[], onEvent)");
    std::vector<PsiTriggerSpec> specs;
    Napi::Array a = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      if (!a.Get(i).IsObject()) throw invalidArg(env, "specs", "objects { resource, full, stallUs, windowUs }");
      Napi::Object o = a.Get(i).As<Napi::Object>();
      PsiTriggerSpec s;
      s.resource = optString(o, "resource", "memory");
      if (s.resource != "memory" && s.resource != "cpu" && s.resource != "io")
        throw invalidArg(env, "resource", "\"memory\", \"cpu\" or \"io\"");
      s.full = optBool(o, "full", false);
      s.stallUs = static_cast<uint64_t>(optInt(o, "stallUs", 150000));
      s.windowUs = static_cast<uint64_t>(optInt(o, "windowUs", 2000000));
      specs.push_back(s);
    }
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "overnight:psi", 0, 1);
    tsfn_.Unref(env);  // a trigger alone does not keep Node alive; the monitor's loop does
    Napi::ThreadSafeFunction tsfn = tsfn_;
    SysError e = PsiTriggerWatcher::create(
        specs,
        [tsfn](const std::string& resource, const SysError& err) mutable {
          auto* payload = new std::pair<std::string, SysError>(resource, err);
          if (tsfn.NonBlockingCall(payload, [](Napi::Env env, Napi::Function cb, std::pair<std::string, SysError>* p) {
                std::unique_ptr<std::pair<std::string, SysError>> owned(p);
                if (!env) return;
                guarded(env, "overnight:psi", [&] {
                  callSafely(env, cb,
                             {Napi::String::New(env, p->first),
                              p->second.ok() ? env.Null() : Napi::Value(env, reasonToJs(env, p->second))});
                });
              }) != napi_ok)
            delete payload;
        },
        [tsfn]() mutable { tsfn.Release(); }, watcher_);
    if (!e.ok()) {
      tsfn_.Release();
      throw sysErrorToJs(env, e);
    }
  }

  ~PsiTriggersWrap() override {
    if (watcher_) watcher_->stop();
  }

 private:
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (watcher_) {
      watcher_->stop();
      watcher_.reset();
    }
    return info.Env().Undefined();
  }
  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<PsiTriggerWatcher> watcher_;
};

Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw invalidArg(info.Env(), "message", "a string such as \"READY=1\"");
  bool sent = false;
  SysError e = sdNotify(info[0].As<Napi::String>().Utf8Value(), sent);
  if (!e.ok()) throw sysErrorToJs(info.Env(), e);
  return Napi::Boolean::New(info.Env(), sent);
}

}  // namespace

void registerMonitorBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("PsiTriggers", PsiTriggersWrap::Define(env));
  exports.Set("sdNotify", Napi::Function::New<SdNotify>(env, "sdNotify"));
}

}  // namespace ovn
