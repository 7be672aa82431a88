#include "js_object.h"

#include <cmath>

#include "errors.h"

namespace ovn {

static Napi::Value field(const Napi::Object& o, const char* k) {
  if (!o.Has(k)) return o.Env().Undefined();
  return o.Get(k);
}

bool optBool(const Napi::Object& o, const char* k, bool def) {
  Napi::Value v = field(o, k);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsBoolean()) throw invalidArg(o.Env(), k, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

int64_t optInt(const Napi::Object& o, const char* k, int64_t def) {
  Napi::Value v = field(o, k);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsNumber()) throw invalidArg(o.Env(), k, "an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) throw invalidArg(o.Env(), k, "an integer");
  return static_cast<int64_t>(d);
}

int64_t optIntIn(const Napi::Object& o, const char* k, int64_t def, int64_t lo, int64_t hi, const char* allowed,
                 const char* name) {
  Napi::Value v = field(o, k);
  if (v.IsUndefined() || v.IsNull()) return def;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) ||
      d != static_cast<double>(static_cast<int64_t>(d)))
    throw invalidArg(o.Env(), name ? name : k, allowed);
  return static_cast<int64_t>(d);
}

double optNumber(const Napi::Object& o, const char* k, double def) {
  Napi::Value v = field(o, k);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsNumber()) throw invalidArg(o.Env(), k, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::string optString(const Napi::Object& o, const char* k, const std::string& def) {
  Napi::Value v = field(o, k);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsString()) throw invalidArg(o.Env(), k, "a string");
  return v.As<Napi::String>().Utf8Value();
}

std::string stringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) throw invalidArg(info.Env(), name, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

void appendStrings(const Napi::Array& arr, const char* name, std::vector<std::string>& out) {
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsString()) throw invalidArg(arr.Env(), name, "an array of strings");
    out.push_back(v.As<Napi::String>().Utf8Value());
  }
}

}  // namespace ovn
