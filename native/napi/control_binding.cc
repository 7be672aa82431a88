// signalProcess(pid, starttime, signal) and waitForExit(pid, starttime, timeoutMs) -> Promise<bool>.
// The policy gate (src/policy/) is the only caller. Thread: signal on the JS thread (one syscall);
// the wait runs on a libuv worker (AsyncWorker) and resolves on the JS thread.
#include <napi.h>

#include <memory>

#include "../proc/process_control.h"
#include "errors.h"
#include "promise_worker.h"

namespace ovn {
namespace {

struct Target {
  int pid;
  uint64_t starttime;
};

Target targetArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw invalidArg(env, "pid, starttime", "numbers");
  double pid = info[0].As<Napi::Number>().DoubleValue();
  double st = info[1].As<Napi::Number>().DoubleValue();
  if (!(pid >= 1 && pid <= INT32_MAX) || pid != static_cast<int>(pid))
    throw invalidArg(env, "pid", "a positive integer");
  if (st < 0) throw invalidArg(env, "starttime", "clock ticks >= 0 (0: do not check)");
  return {static_cast<int>(pid), static_cast<uint64_t>(st)};
}

Napi::Value SignalProcess(const Napi::CallbackInfo& info) {
  Target t = targetArgs(info);
  if (info.Length() < 3 || !info[2].IsNumber()) throw invalidArg(info.Env(), "signal", "a signal number");
  SysError e = signalProcess(t.pid, t.starttime, info[2].As<Napi::Number>().Int32Value());
  if (!e.ok()) throw sysErrorToJs(info.Env(), e);
  return info.Env().Undefined();
}

Napi::Value WaitForExit(const Napi::CallbackInfo& info) {
  Target t = targetArgs(info);
  if (info.Length() < 3 || !info[2].IsNumber()) throw invalidArg(info.Env(), "timeoutMs", "milliseconds");
  double ms = info[2].As<Napi::Number>().DoubleValue();
  if (!(ms >= 0 && ms <= 3600000)) throw invalidArg(info.Env(), "timeoutMs", "milliseconds in [0, 3600000]");
  auto exited = std::make_shared<bool>(false);
  int timeoutMs = static_cast<int>(ms);
  return PromiseWorker::run(
      info.Env(), "overnight:waitForExit",
      [t, timeoutMs, exited] { return waitForExit(t.pid, t.starttime, timeoutMs, *exited); },
      [exited](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *exited); });
}

}  // namespace

void registerControlBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("signalProcess", Napi::Function::New<SignalProcess>(env, "signalProcess"));
  exports.Set("waitForExit", Napi::Function::New<WaitForExit>(env, "waitForExit"));
}

}  // namespace ovn
