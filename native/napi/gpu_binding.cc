// GPU exports: nvmlInfo(), class GpuWorker (samples and setters on the GPU thread, results through
// a ThreadSafeFunction), parsers.gpuProcesses. Events are gpu_events_binding.cc's; the conversion of
// samples to JS values is gpu_convert.cc's.
// Thread: constructors and methods run on the JS thread; C++ results are converted to JS values
// only inside the ThreadSafeFunction callbacks, on the JS thread.
#include <napi.h>

#include <memory>

#include "../nvml/gpu_names.h"
#include "../nvml/gpu_worker.h"
#include "../nvml/nvml_loader.h"
#include "errors.h"
#include "gpu_convert.h"
#include "js_object.h"
#include "tsfn_guard.h"

namespace ovn {
namespace {

using namespace nvml;

class GpuWorkerWrap : public Napi::ObjectWrap<GpuWorkerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "GpuWorker",
        {InstanceMethod<&GpuWorkerWrap::Sample>("sample"), InstanceMethod<&GpuWorkerWrap::Action>("action"),
         InstanceMethod<&GpuWorkerWrap::BusyForMs>("busyForMs"), InstanceMethod<&GpuWorkerWrap::Stop>("stop")});
  }

  explicit GpuWorkerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GpuWorkerWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) throw invalidArg(env, "onResult", "a function");
    // One reference, owned by the worker thread and released when it exits.
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "overnight:gpu", 0, 1);
    tsfn_.Unref(env);  // pending deadlines are JS timers; the thread alone never keeps Node alive
    Napi::ThreadSafeFunction tsfn = tsfn_;
    worker_ = std::make_unique<GpuWorker>(
        [tsfn](GpuJob* job) mutable {
          napi_status st = tsfn.NonBlockingCall(job, [](Napi::Env env, Napi::Function cb, GpuJob* j) {
            std::unique_ptr<GpuJob> owned(j);
            if (!env) return;
            guarded(env, "overnight:gpu", [&] {
              napi_value result;
              if (j->kind == GpuJob::Sample) {
                result = sampleToJs(env, j->sample);
              } else {
                JsObject r(env);
                r.str("action", j->action)
                    .num("gpuIndex", j->gpuIndex)
                    .boolean("ok", j->actionRet == SUCCESS)
                    .str("code", returnName(j->actionRet))
                    .str("message", errorText(j->actionRet));
                result = r;
              }
              callSafely(env, cb, {Napi::Number::New(env, j->id), result, Napi::Number::New(env, j->elapsedUs)});
            });
          });
          if (st != napi_ok) delete job;
        },
        [tsfn]() mutable { tsfn.Release(); });
  }

  ~GpuWorkerWrap() override {
    if (worker_) worker_->stop();
  }

 private:
  Napi::Value Sample(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!worker_) throw Napi::Error::New(env, "GpuWorker is stopped");
    auto job = std::make_unique<GpuJob>();
    job->kind = GpuJob::Sample;
    job->id = jobId(info);
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      job->sampleOptions.quick = optBool(o, "quick", false);
      job->sampleOptions.processes = optBool(o, "processes", true);
      if (o.Has("indices") && o.Get("indices").IsArray()) {
        Napi::Array a = o.Get("indices").As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) {
          Napi::Value v = a.Get(i);
          if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0)
            throw invalidArg(env, "indices", "an array of GPU indices");
          job->sampleOptions.indices.push_back(v.As<Napi::Number>().Uint32Value());
        }
      }
    }
    worker_->submit(job.release());
    return env.Undefined();
  }

  Napi::Value Action(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!worker_) throw Napi::Error::New(env, "GpuWorker is stopped");
    auto job = std::make_unique<GpuJob>();
    job->kind = GpuJob::Action;
    job->id = jobId(info);
    if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsString())
      throw invalidArg(env, "action", "(jobId, gpuIndex, action, value?)");
    job->gpuIndex = info[1].As<Napi::Number>().Uint32Value();
    job->action = info[2].As<Napi::String>().Utf8Value();
    if (info.Length() > 3 && info[3].IsNumber()) job->value = info[3].As<Napi::Number>().Uint32Value();
    worker_->submit(job.release());
    return env.Undefined();
  }

  Napi::Value BusyForMs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), worker_ ? worker_->busyForUs() / 1000.0 : 0);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (worker_) {
      worker_->stop();
      worker_.reset();
    }
    return info.Env().Undefined();
  }

  static double jobId(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber()) throw invalidArg(info.Env(), "jobId", "a number");
    return info[0].As<Napi::Number>().DoubleValue();
  }

  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<GpuWorker> worker_;
};

// What the loader found: cheap (dlopen + dlsym once), no NVML call.
Napi::Value NvmlInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Api& a = api();
  JsObject o(env);
  o.boolean("loaded", a.loaded).str("libraryPath", a.libraryPath);
  if (!a.loaded) o.str("error", a.loadError);
  Napi::Object fns = Napi::Object::New(env);
  for (const auto& [name, symbol] : a.table()) {
    if (symbol)
      fns.Set(name, symbol);
    else
      fns.Set(name, env.Null());
  }
  o.val("functions", fns).num("processInfoStride", a.processInfoStride);
  return o.object();
}

Napi::Value GpuProcessesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsBuffer()) throw invalidArg(env, "args", "(buffer, count, stride, memTotal)");
  Napi::Buffer<unsigned char> b = info[0].As<Napi::Buffer<unsigned char>>();
  unsigned int count = info[1].As<Napi::Number>().Uint32Value();
  int stride = info[2].As<Napi::Number>().Int32Value();
  if (stride != 16 && stride != 24 && stride != 32) throw invalidArg(env, "stride", "16, 24 or 32");
  if (static_cast<size_t>(count) * static_cast<size_t>(stride) > b.Length())
    throw invalidArg(env, "count", "within the buffer");
  std::vector<GpuProcess> out;
  if (!decodeProcesses(b.Data(), count, stride,
                       static_cast<unsigned long long>(info[3].As<Napi::Number>().DoubleValue()), out))
    return env.Null();
  Napi::Array a = Napi::Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); ++i)
    a.Set(static_cast<uint32_t>(i), JsObject(env).num("pid", out[i].pid).u64("usedMemory", out[i].usedMemory).object());
  return a;
}
}  // namespace

void registerGpuBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("GpuWorker", GpuWorkerWrap::Define(env));
  exports.Set("nvmlInfo", Napi::Function::New<NvmlInfo>(env, "nvmlInfo"));
  Napi::Object parsers = exports.Get("parsers").As<Napi::Object>();
  parsers.Set("gpuProcesses", Napi::Function::New<GpuProcessesJs>(env, "gpuProcesses"));
}

}  // namespace ovn
