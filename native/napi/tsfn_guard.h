// Helpers for ThreadSafeFunction callbacks (JS thread). While Node tears the environment down,
// napi calls fail and node-addon-api turns that into C++ exceptions, which must not escape into
// libuv; a JS exception thrown by the callback becomes an uncaught exception, as for any event.
#pragma once
#include <napi.h>

#include <initializer_list>

namespace ovn {

inline void callSafely(Napi::Env env, Napi::Function cb, std::initializer_list<napi_value> args) {
  try {
    cb.Call(args);
  } catch (const Napi::Error& e) {
    napi_throw(env, e.Value());  // during teardown nothing can be thrown: this then does nothing
  } catch (...) {
  }
}

template <class F>
void guarded(F&& f) {
  try {
    f();
  } catch (...) {
  }
}

}  // namespace ovn
