// JS class Sampler: start(), stop() -> report, read() -> typed arrays (no per-sample objects),
// window(ms) -> per-channel statistics, channels(); with a process channel, readProcesses() ->
// packed scans and scanProcesses() -> Promise (a scan now, on a libuv worker thread).
// Thread: every method but scanProcesses' work runs on the JS thread and only copies from the ring
// or the statistics; the sampling itself is on the sampler's and the process scanner's threads.
#include <napi.h>

#include <cmath>

#include "../sampler/sampler.h"
#include "errors.h"
#include "js_object.h"
#include "process_packed.h"
#include "promise_worker.h"

namespace ovn {
namespace {

napi_value num(Napi::Env env, double v) { return std::isnan(v) ? env.Null() : Napi::Number::New(env, v); }

napi_value statsToJs(Napi::Env env, const ChannelStats& s) {
  return JsObject(env)
      .u64("count", s.count)
      .val("min", num(env, s.min))
      .val("max", num(env, s.max))
      .val("mean", num(env, s.mean))
      .val("p50", num(env, s.p50))
      .val("p95", num(env, s.p95))
      .val("p99", num(env, s.p99))
      .object();
}

napi_value reportToJs(Napi::Env env, const SamplerReport& r) {
  Napi::Object stats = Napi::Object::New(env);
  for (size_t i = 0; i < r.channels.size(); ++i) stats.Set(r.channels[i], statsToJs(env, r.stats[i]));
  Napi::Array warnings = Napi::Array::New(env, r.warnings.size());
  for (size_t i = 0; i < r.warnings.size(); ++i) warnings.Set(static_cast<uint32_t>(i), r.warnings[i]);
  Napi::Object intervals = Napi::Object::New(env);
  for (const auto& [group, us] : r.readIntervalsUs)
    intervals.Set(group, Napi::Number::New(env, static_cast<double>(us)));
  return JsObject(env)
      .val("signals", stats)
      .u64("samples", r.samples)
      .u64("missedDeadlines", r.missedDeadlines)
      .u64("dropped", r.dropped)
      .num("durationMs", r.durationMs)
      .num("threadCpuMs", r.threadCpuMs)
      .val("intervalUs", statsToJs(env, r.intervalUs))
      .val("warnings", warnings)
      .val("readIntervalsUs", intervals)
      .u64("processScans", r.processScans)
      .num("processThreadCpuMs", r.processThreadCpuMs)
      .object();
}

class SamplerWrap : public Napi::ObjectWrap<SamplerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Sampler",
        {InstanceMethod<&SamplerWrap::Start>("start"), InstanceMethod<&SamplerWrap::Stop>("stop"),
         InstanceMethod<&SamplerWrap::Read>("read"), InstanceMethod<&SamplerWrap::Window>("window"),
         InstanceMethod<&SamplerWrap::Snapshot>("snapshot"), InstanceMethod<&SamplerWrap::Channels>("channels"),
         InstanceMethod<&SamplerWrap::Running>("running"), InstanceMethod<&SamplerWrap::ReadProcesses>("readProcesses"),
         InstanceMethod<&SamplerWrap::ScanProcesses>("scanProcesses"),
         InstanceMethod<&SamplerWrap::HeldProcessRows>("heldProcessRows")});
  }

  explicit SamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SamplerWrap>(info) {
    Napi::Env env = info.Env();
    SamplerOptions o;
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Object opts = info[0].As<Napi::Object>();
      constexpr int64_t kMaxUs = 3'600'000'000LL;
      o.intervalUs =
          static_cast<uint64_t>(optIntIn(opts, "intervalUs", 1000, 50, kMaxUs, "microseconds in [50, 3600000000]"));
      o.memory = optBool(opts, "memory", true);
      o.cpu = optBool(opts, "cpu", true);
      o.psi = optBool(opts, "psi", true);
      o.cgroup = optBool(opts, "cgroup", false);
      o.allGpus = optBool(opts, "allGpus", false);
      o.realtime = optBool(opts, "realtime", false);
      const char* everySample = "microseconds in [0, 3600000000] (0: every sample)";
      o.gpuIntervalUs = static_cast<uint64_t>(optIntIn(opts, "gpuIntervalUs", 0, 0, kMaxUs, everySample));
      o.cpuIntervalUs = optIntIn(opts, "cpuIntervalUs", -1, 0, kMaxUs, everySample);
      o.psiIntervalUs = optIntIn(opts, "psiIntervalUs", -1, 0, kMaxUs, everySample);
      o.cgroupIntervalUs = optIntIn(opts, "cgroupIntervalUs", -1, 0, kMaxUs, everySample);
      if (opts.Has("processes") && opts.Get("processes").IsObject()) {
        Napi::Object p = opts.Get("processes").As<Napi::Object>();
        o.processes = {
            static_cast<int>(optIntIn(p, "descendantsOf", 0, 0, INT32_MAX, "a pid > 0 (0: every process)",
                                      "processes.descendantsOf")),
            static_cast<uint64_t>(optIntIn(p, "intervalUs", 0, 0, kMaxUs,
                                           "microseconds in [0, 3600000000] (0: on demand only)",
                                           "processes.intervalUs")),
            static_cast<size_t>(optIntIn(p, "keep", 16, 1, 1024, "an integer in [1, 1024]", "processes.keep")),
            optBool(p, "io", true)};
      }
      o.ringSize = static_cast<size_t>(optIntIn(opts, "ringSize", 0, 16, 1'000'000, "samples in [16, 1000000]"));
      auto ints = [&](const char* k, auto& out) {
        if (!opts.Has(k) || opts.Get(k).IsUndefined()) return;
        if (!opts.Get(k).IsArray()) throw invalidArg(env, k, "an array of integers");
        Napi::Array a = opts.Get(k).As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) {
          Napi::Value v = a.Get(i);
          if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0)
            throw invalidArg(env, k, "an array of integers >= 0");
          out.push_back(
              static_cast<typename std::decay_t<decltype(out)>::value_type>(v.As<Napi::Number>().Int64Value()));
        }
      };
      ints("pids", o.pids);
      ints("gpus", o.gpus);
      if (o.pids.size() > 256) throw invalidArg(env, "pids", "at most 256 pids");
    }
    sampler_ = std::make_unique<Sampler>(std::move(o));
  }

  ~SamplerWrap() override {
    if (sampler_) sampler_->stop();
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    sampler_->start();
    return info.Env().Undefined();
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    return Napi::Value(info.Env(), reportToJs(info.Env(), sampler_->stop()));
  }
  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    return Napi::Value(info.Env(), reportToJs(info.Env(), sampler_->snapshot()));
  }
  Napi::Value Running(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), sampler_->running()); }

  Napi::Value Channels(const Napi::CallbackInfo& info) {
    const auto& ch = sampler_->channels();
    Napi::Array a = Napi::Array::New(info.Env(), ch.size());
    for (size_t i = 0; i < ch.size(); ++i) a.Set(static_cast<uint32_t>(i), ch[i]);
    return a;
  }

  // New samples as two typed arrays: timestamps (ms, CLOCK_MONOTONIC) and values (row-major).
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t lost = sampler_->read(buf_);
    size_t width = sampler_->channels().size();
    size_t n = buf_.size() / (width + 1);
    Napi::Float64Array ts = Napi::Float64Array::New(env, n);
    Napi::Float64Array vals = Napi::Float64Array::New(env, n * width);
    for (size_t i = 0; i < n; ++i) {
      ts[i] = buf_[i * (width + 1)];
      for (size_t c = 0; c < width; ++c) vals[i * width + c] = buf_[i * (width + 1) + 1 + c];
    }
    return JsObject(env)
        .num("count", static_cast<double>(n))
        .num("width", static_cast<double>(width))
        .val("timestamps", ts)
        .val("values", vals)
        .u64("lost", lost)
        .object();
  }

  Napi::Value Window(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() <= 0)
      throw invalidArg(env, "windowMs", "milliseconds > 0");
    uint64_t count = 0;
    std::vector<ChannelStats> s = sampler_->window(info[0].As<Napi::Number>().DoubleValue(), count);
    Napi::Object stats = Napi::Object::New(env);
    const auto& ch = sampler_->channels();
    for (size_t i = 0; i < ch.size(); ++i) stats.Set(ch[i], statsToJs(env, s[i]));
    return JsObject(env).u64("count", count).val("signals", stats).object();
  }

  ProcessScanner& scanner(Napi::Env env) {
    ProcessScanner* s = sampler_->processes();
    if (!s) throw invalidArg(env, "processes", "set when the Sampler is created ({ descendantsOf, intervalUs })");
    return *s;
  }

  // Scans since the previous call: [{ monotonicMs, processes: packed }], and how many were lost.
  Napi::Value ReadProcesses(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<ProcessScan> scans;
    uint64_t lost = scanner(env).read(scans);
    Napi::Array a = Napi::Array::New(env, scans.size());
    std::vector<const ProcessInfo*> ps;
    for (size_t i = 0; i < scans.size(); ++i) {
      ps.clear();
      for (const ProcessInfo& p : scans[i].processes) ps.push_back(&p);
      a.Set(static_cast<uint32_t>(i),
            JsObject(env).num("monotonicMs", scans[i].monotonicMs).val("processes", toPacked(env, ps)).object());
    }
    return JsObject(env).val("scans", a).u64("lost", lost).object();
  }

  // Rows of the published scans not read yet (the channel's own retained state).
  Napi::Value HeldProcessRows(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(scanner(info.Env()).heldRows()));
  }

  // A scan now (on a libuv worker); resolves once it is published for readProcesses().
  Napi::Value ScanProcesses(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ProcessScanner* s = &scanner(env);
    // The reference keeps this object (and so the scanner) alive until the promise settles.
    auto self = std::make_shared<Napi::ObjectReference>(Napi::Persistent(info.This().As<Napi::Object>()));
    return PromiseWorker::run(
        env, "overnight:samplerProcessScan", [s] { return s->scanNow(); },
        [self](Napi::Env e) { return e.Undefined(); });
  }

  std::unique_ptr<Sampler> sampler_;
  std::vector<double> buf_;
};

}  // namespace

void registerSamplerBinding(Napi::Env env, Napi::Object exports) { exports.Set("Sampler", SamplerWrap::Define(env)); }

}  // namespace ovn
