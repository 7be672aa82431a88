#include "errors.h"

namespace ovn {

Napi::Error sysErrorToJs(Napi::Env env, const SysError& e) {
  Napi::Error err = Napi::Error::New(env, e.message());
  Napi::Object o = err.Value();
  o.Set("code", errnoName(e.err));
  o.Set("errno", -e.err);
  if (!e.syscall.empty()) o.Set("syscall", e.syscall);
  if (!e.path.empty()) o.Set("path", e.path);
  if (e.pid) o.Set("pid", e.pid);
  return err;
}

Napi::Object reasonToJs(Napi::Env env, const SysError& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", errnoName(e.err));
  o.Set("message", e.message());
  if (!e.path.empty()) o.Set("path", e.path);
  return o;
}

Napi::TypeError invalidArg(Napi::Env env, const char* name, const char* expected) {
  std::string msg = std::string("Invalid argument ") + name + ": expected " + expected;
  Napi::TypeError err = Napi::TypeError::New(env, msg);
  err.Value().Set("code", "ERR_INVALID_ARG_TYPE");
  return err;
}

}  // namespace ovn
