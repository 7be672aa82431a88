// Small helpers to build plain JS objects from C++ structs.
// Thread: JS thread only.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ovn {

class JsObject {
 public:
  explicit JsObject(Napi::Env env) : env_(env), obj_(Napi::Object::New(env)) {}
  JsObject& num(const char* k, double v) {
    set(k, Napi::Number::New(env_, v));
    return *this;
  }
  // uint64 counters and byte counts: exact up to 2^53 (8 PiB), which no counter here reaches.
  JsObject& u64(const char* k, uint64_t v) { return num(k, static_cast<double>(v)); }
  // A limit where UINT64_MAX means "none": null in JS.
  JsObject& limit(const char* k, uint64_t v) {
    if (v == UINT64_MAX)
      set(k, env_.Null());
    else
      num(k, static_cast<double>(v));
    return *this;
  }
  JsObject& str(const char* k, const std::string& v) {
    set(k, Napi::String::New(env_, v));
    return *this;
  }
  JsObject& boolean(const char* k, bool v) {
    set(k, Napi::Boolean::New(env_, v));
    return *this;
  }
  JsObject& null(const char* k) {
    set(k, env_.Null());
    return *this;
  }
  JsObject& val(const char* k, napi_value v) {
    set(k, v);
    return *this;
  }
  Napi::Object object() const { return obj_; }
  operator napi_value() const { return obj_; }

 private:
  void set(const char* k, napi_value v) { napi_set_named_property(env_, obj_, k, v); }
  Napi::Env env_;
  Napi::Object obj_;
};

// Reads optional fields of an options object (missing or undefined -> default).
bool optBool(const Napi::Object& o, const char* k, bool def);
int64_t optInt(const Napi::Object& o, const char* k, int64_t def);
// An optional integer in [lo, hi]; anything else throws invalidArg naming `name` (the field as the
// caller knows it, e.g. "processes.keep"; default the key) and `allowed`.
int64_t optIntIn(const Napi::Object& o, const char* k, int64_t def, int64_t lo, int64_t hi, const char* allowed,
                 const char* name = nullptr);
double optNumber(const Napi::Object& o, const char* k, double def);
std::string optString(const Napi::Object& o, const char* k, const std::string& def);

// Reads a required string argument info[i]; throws naming `name` otherwise.
std::string stringArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// Appends every element of arr to out; throws naming `name` ("an array of strings") at the first
// element that is not a string.
void appendStrings(const Napi::Array& arr, const char* name, std::vector<std::string>& out);

}  // namespace ovn
