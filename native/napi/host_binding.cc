// JS class HostReader: samplePacked(flags, cgroupPid, paths?) -> one host sample in packed form
// (host_packed.cc), plus the exported layout tables that the TypeScript decoder reads by name.
// Thread: JS thread (the reads take microseconds; no worker needed).
#include <napi.h>

#include "../proc/host_reader.h"
#include "errors.h"
#include "host_layout.h"
#include "host_packed.h"
#include "js_object.h"

namespace ovn {
namespace {

// { memory: { names: [...], kinds: "uuu...b" }, ... }: the packed groups by name (host_layout.h).
Napi::Object hostLayout(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);
  auto group = [&](const char* groupName, std::initializer_list<const char*> names, const char* kinds) {
    Napi::Array arr = Napi::Array::New(env, names.size());
    uint32_t i = 0;
    for (const char* n : names) arr.Set(i++, n);
    layout.Set(groupName, JsObject(env).val("names", arr).str("kinds", kinds).object());
  };
#define OVN_NAME(kind, name, expr) #name,
#define OVN_KIND(kind, name, expr) #kind
#define OVN_GROUP(groupName, FIELDS) group(#groupName, {FIELDS(OVN_NAME)}, FIELDS(OVN_KIND));
  OVN_HOST_GROUPS(OVN_GROUP)
#undef OVN_GROUP
#undef OVN_KIND
#undef OVN_NAME
  return layout;
}

Napi::Object hostOptionBits(Napi::Env env) {
  Napi::Object bits = Napi::Object::New(env);
#define OVN_BIT(bit, name) bits.Set(#name, bit);
  OVN_HOST_OPTION_BITS(OVN_BIT)
#undef OVN_BIT
  return bits;
}

class HostReaderWrap : public Napi::ObjectWrap<HostReaderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "HostReader",
                       {InstanceMethod<&HostReaderWrap::SamplePacked>("samplePacked"),
                        InstanceMethod<&HostReaderWrap::Reset>("resetCpuBaseline")});
  }
  explicit HostReaderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HostReaderWrap>(info) {}

 private:
  // samplePacked(flags, cgroupPid, paths?): options as a bit mask (OVN_HOST_OPTION_BITS, exported as
  // hostOptionBits) — reading an options object costs ~2 µs of N-API lookups per call.
  // Returns the Float64Array, or { numbers: Float64Array, meta } when the strings changed. The array
  // is this reader's own and is overwritten by its next sample: decode (or copy) it at once.
  Napi::Value SamplePacked(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
      throw invalidArg(env, "flags, cgroupPid", "numbers");
    uint32_t f = info[0].As<Napi::Number>().Uint32Value();
    HostOptions& opts = opts_;  // reused: its paths vector keeps its capacity
    opts.paths.clear();
#define OVN_BIT(bit, name) opts.name = (f & bit) != 0;
    OVN_HOST_OPTION_BITS(OVN_BIT)
#undef OVN_BIT
    double pid = info[1].As<Napi::Number>().DoubleValue();
    if (!(pid >= 0 && pid <= INT32_MAX)) throw invalidArg(env, "cgroupPid", "a pid >= 0 (0 = this process)");
    opts.cgroupPid = static_cast<int>(pid);
    if (info.Length() > 2 && info[2].IsArray()) appendStrings(info[2].As<Napi::Array>(), "paths", opts.paths);
    HostSample& s = sample_;
    reader_.sample(opts, s);
    packHostSample(opts, s, packed_, sig_, reasons_);
    // One array, rewritten by every sample (a new ArrayBuffer each call cost more than decoding it);
    // the JS side decodes it at once and hands out copies only through samplePacked.
    // One reference lookup and one typed-array query a call (each Value() costs both).
    Napi::Float64Array nums = numbers_.IsEmpty() ? Napi::Float64Array() : numbers_.Value();
    if (nums.IsEmpty() || nums.ElementLength() != packed_.size()) {
      nums = Napi::Float64Array::New(env, packed_.size());
      numbers_ = Napi::Persistent(nums);
    }
    std::copy(packed_.begin(), packed_.end(), nums.Data());
    // The usual answer is the array alone; { numbers, meta } only when the strings changed.
    if (sig_ == lastSig_) return nums;
    lastSig_.swap(sig_);
    return JsObject(env).val("numbers", nums).val("meta", packedMetaToJs(env, opts, s, reasons_)).object();
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    reader_.resetCpuBaseline();
    return info.Env().Undefined();
  }

  HostReader reader_;
  // Kept from one sample to the next so that their capacity is reused (a fresh HostSample cost
  // its per-CPU and filesystem vectors' allocations on every call).
  HostOptions opts_;
  HostSample sample_;
  std::vector<double> packed_;
  std::string sig_;
  std::vector<std::pair<std::string, SysError>> reasons_;
  Napi::Reference<Napi::Float64Array> numbers_;
  std::string lastSig_ = "\x01never sent";  // the first call always sends meta
};

}  // namespace

void registerHostBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("HostReader", HostReaderWrap::Define(env));
  exports.Set("hostLayout", hostLayout(env));
  exports.Set("hostOptionBits", hostOptionBits(env));
}

}  // namespace ovn
