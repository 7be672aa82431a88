// PsiTriggerWatcher (class PsiTriggers: calls back on the JS thread when a trigger fires) and
// sdNotify(message), limitMallocArenas(n), trimMalloc(), releaseFilePages() (and
// parsers.releasableFileAreas(smaps), its choice on text). Thread: construction and stop on the JS
// thread; waiting on its own thread.
#include <napi.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <memory>

#include "../proc/file_pages.h"
#include "../proc/psi_trigger.h"
#include "errors.h"
#include "js_object.h"
#include "promise_worker.h"
#include "tsfn_guard.h"

namespace ovn {
namespace {

class PsiTriggersWrap : public Napi::ObjectWrap<PsiTriggersWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "PsiTriggers",
        {InstanceMethod<&PsiTriggersWrap::Stop>("stop"), InstanceMethod<&PsiTriggersWrap::Stalls>("stalls")});
  }

  // new PsiTriggers([{ path | resource, name, full, stallUs, windowUs, arm }], onEvent(name, error?, event), { pollUs
  // }) event: { name, path, kind: "trigger" | "poll" | "error", stallUs, windowUs, error? }.
  explicit PsiTriggersWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PsiTriggersWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsFunction())
      throw invalidArg(env, "arguments", "(specs[], onEvent, options?)");
    std::vector<PsiTriggerSpec> specs;
    Napi::Array a = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      if (!a.Get(i).IsObject())
        throw invalidArg(env, "specs", "objects { path or resource, name, full, stallUs, windowUs, arm }");
      Napi::Object o = a.Get(i).As<Napi::Object>();
      PsiTriggerSpec s;
      // Any pressure file (a cgroup's memory.pressure), or a system-wide resource by name.
      s.path = optString(o, "path", "");
      if (s.path.empty()) {
        std::string resource = optString(o, "resource", "memory");
        if (resource != "memory" && resource != "cpu" && resource != "io")
          throw invalidArg(env, "resource", "\"memory\", \"cpu\" or \"io\"");
        s.path = "/proc/pressure/" + resource;
        s.name = resource;
      }
      s.name = optString(o, "name", s.name.empty() ? s.path : s.name);
      s.full = optBool(o, "full", false);
      s.arm = optBool(o, "arm", true);
      s.stallUs = static_cast<uint64_t>(optInt(o, "stallUs", 150000));
      s.windowUs = static_cast<uint64_t>(optInt(o, "windowUs", 2000000));
      specs.push_back(s);
    }
    uint64_t pollUs = 0;
    if (info.Length() > 2 && info[2].IsObject())
      pollUs = static_cast<uint64_t>(optInt(info[2].As<Napi::Object>(), "pollUs", 0));
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "overnight:psi", 0, 1);
    tsfn_.Unref(env);  // a trigger alone does not keep Node alive; the monitor's loop does
    Napi::ThreadSafeFunction tsfn = tsfn_;
    SysError e = PsiTriggerWatcher::create(
        specs, pollUs,
        [tsfn](const PsiEvent& ev) mutable {
          auto* payload = new PsiEvent(ev);
          if (tsfn.NonBlockingCall(payload, [](Napi::Env env, Napi::Function cb, PsiEvent* p) {
                std::unique_ptr<PsiEvent> owned(p);
                if (!env) return;
                guarded(env, "overnight:psi", [&] {
                  Napi::Object o = Napi::Object::New(env);
                  o.Set("name", p->name);
                  o.Set("path", p->path);
                  o.Set("kind", p->kind);
                  o.Set("stallUs", static_cast<double>(p->stallUs));
                  o.Set("windowUs", static_cast<double>(p->windowUs));
                  if (!p->err.ok()) o.Set("error", reasonToJs(env, p->err));
                  callSafely(env, cb,
                             {Napi::String::New(env, p->name),
                              p->err.ok() ? env.Null() : Napi::Value(env, reasonToJs(env, p->err)), o});
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
  // stalls(windowUs): [{ name, path, known, totalUs, stallUs, coveredUs, ageUs }] from the polled totals.
  Napi::Value Stalls(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() <= 0)
      throw invalidArg(env, "windowUs", "a positive number of microseconds");
    Napi::Array out = Napi::Array::New(env);
    if (!watcher_) return out;
    uint32_t i = 0;
    for (const PsiStall& s : watcher_->stalls(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()))) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", s.name);
      o.Set("path", s.path);
      o.Set("known", s.known);
      o.Set("totalUs", static_cast<double>(s.totalUs));
      o.Set("stallUs", static_cast<double>(s.stallUs));
      o.Set("coveredUs", static_cast<double>(s.coveredUs));
      o.Set("ageUs", static_cast<double>(s.ageUs));
      out.Set(i++, o);
    }
    return out;
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

// glibc gives each thread that allocates its own arena (up to 8 per core). The daemon's scans run on
// worker threads and allocate one row per process: at 5,000 processes three such arenas held about
// 20 MB of freed but resident memory between scans. Capping the arenas before those threads start
// puts their allocations where freed memory is reused. Threads that already have an arena keep it.
// Returns false where the allocator is not glibc's (nothing to tune).
Napi::Value LimitMallocArenas(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw invalidArg(env, "arenas", "an integer from 1 to 64");
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 64) || n != static_cast<int>(n)) throw invalidArg(env, "arenas", "an integer from 1 to 64");
#if defined(__GLIBC__)
  return Napi::Boolean::New(env, mallopt(M_ARENA_MAX, static_cast<int>(n)) == 1);
#else
  return Napi::Boolean::New(env, false);
#endif
}

// glibc returns freed memory to the system only from the top of its heap. After a burst of
// processes ends, the scans' freed rows sit below live allocations: 95 MB of the monitor's heap
// stayed resident with 12 MB in use, until malloc_trim(0) released the free pages inside it
// (madvise) and the heap went back to 5 MB. Trimming ~90 MB took 21-39 ms here. It runs on a libuv
// worker (malloc_trim locks each arena itself), but the trim holds the main arena's lock, so the JS
// thread still waits on its next malloc: about one such pause, once per burst. The caller decides
// when (once after a burst ends). Resolves to whether memory was released (false where the
// allocator is not glibc's).
Napi::Value TrimMalloc(const Napi::CallbackInfo& info) {
  auto released = std::make_shared<bool>(false);
  return PromiseWorker::run(
      info.Env(), "overnight:trimMalloc",
      [released] {
#if defined(__GLIBC__)
        *released = malloc_trim(0) == 1;
#endif
        return SysError{};
      },
      [released](Napi::Env e) { return Napi::Boolean::New(e, *released); });
}

// Drops this process's start-up pages of read-only file mappings (see proc/file_pages.h) on a
// libuv worker: reading /proc/self/smaps walks every area's page tables (a few ms). Resolves to
// { areas, releasedKb }.
Napi::Value ReleaseFilePages(const Napi::CallbackInfo& info) {
  auto result = std::make_shared<FilePageRelease>();
  return PromiseWorker::run(
      info.Env(), "overnight:releaseFilePages", [result] { return releaseFilePages(*result); },
      [result](Napi::Env e) {
        return JsObject(e).u64("areas", result->areas).u64("releasedKb", result->residentKb).object();
      });
}

Napi::Value ReleasableFileAreasJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const FileArea& a : releasableFileAreas(stringArg(info, 0, "smaps")))
    out.Set(i++,
            JsObject(env).u64("start", a.start).u64("end", a.end).u64("rssKb", a.rssKb).str("path", a.path).object());
  return out;
}

}  // namespace

void registerMonitorBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("PsiTriggers", PsiTriggersWrap::Define(env));
  exports.Set("sdNotify", Napi::Function::New<SdNotify>(env, "sdNotify"));
  exports.Set("trimMalloc", Napi::Function::New<TrimMalloc>(env, "trimMalloc"));
  exports.Set("limitMallocArenas", Napi::Function::New<LimitMallocArenas>(env, "limitMallocArenas"));
  exports.Set("releaseFilePages", Napi::Function::New<ReleaseFilePages>(env, "releaseFilePages"));
  exports.Get("parsers").As<Napi::Object>().Set("releasableFileAreas",
                                                Napi::Function::New<ReleasableFileAreasJs>(env, "releasableFileAreas"));
}

}  // namespace ovn
