// An AsyncWorker that runs plain C++ work on a libuv worker thread and settles a Promise on the
// JS thread: `work` returns a SysError (rejects with it), `convert` builds the resolved value.
// A C++ exception thrown by `work` (node-addon-api catches it in Execute and passes its text to
// OnError) rejects with that text and code EINTERNAL, never as a contentless "E0: Success".
#pragma once
#include <napi.h>

#include <functional>
#include <string>

#include "../proc/sys_error.h"
#include "errors.h"

namespace ovn {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<SysError()>;                 // worker thread: no JS values
  using Convert = std::function<Napi::Value(Napi::Env)>;  // JS thread
  PromiseWorker(Napi::Env env, const char* name, Work work, Convert convert)
      : Napi::AsyncWorker(env, name),
        work_(std::move(work)),
        convert_(std::move(convert)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  // Queues the work and returns its promise.
  static Napi::Promise run(Napi::Env env, const char* name, Work work, Convert convert) {
    auto* w = new PromiseWorker(env, name, std::move(work), std::move(convert));
    Napi::Promise p = w->deferred_.Promise();
    w->Queue();
    return p;
  }

  void Execute() override {
    err_ = work_();
    if (!err_.ok()) SetError(err_.message());
  }
  void OnOK() override {
    // A conversion that throws rejects the promise instead of leaving it pending forever.
    try {
      deferred_.Resolve(convert_(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    if (!err_.ok()) {
      deferred_.Reject(sysErrorToJs(Env(), err_).Value());
      return;
    }
    Napi::Error internal = Napi::Error::New(Env(), std::string("internal error in native work: ") + e.Message());
    internal.Value().Set("code", "EINTERNAL");
    deferred_.Reject(internal.Value());
  }

 private:
  Work work_;
  Convert convert_;
  SysError err_;
  Napi::Promise::Deferred deferred_;
};

}  // namespace ovn
