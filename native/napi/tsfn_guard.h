// Helpers for ThreadSafeFunction callbacks (JS thread). An exception must not escape into libuv,
// but it must not vanish either: a bug in converting a result would otherwise show up only as a
// caller's time-out. Whatever is thrown becomes a JS exception (an uncaught exception, as for any
// event callback); while Node tears the environment down nothing can be thrown, so it goes to stderr.
#pragma once
#include <napi.h>

#include <cstdio>
#include <exception>
#include <initializer_list>
#include <string>

namespace ovn {

// Throws `error` into JS; when the environment cannot take it (teardown), says so on stderr.
inline void throwOrReport(Napi::Env env, const char* where, napi_value error, const char* text) {
  if (error != nullptr && napi_throw(env, error) == napi_ok) return;
  std::fprintf(stderr, "overnight: %s: %s (not delivered: the JS environment is shutting down)\n", where, text);
}

// Runs f, turning any exception into a JS exception named after `where` (e.g. "overnight:gpu").
template <class F>
void guarded(Napi::Env env, const char* where, F&& f) {
  std::string text;
  try {
    f();
    return;
  } catch (const Napi::Error& e) {
    throwOrReport(env, where, e.Value(), e.what());
    return;
  } catch (const std::exception& e) {
    text = e.what();
  } catch (...) {
    text = "unknown C++ exception";
  }
  napi_value err = nullptr, msg = nullptr;
  std::string full = std::string(where) + ": " + text;
  if (napi_create_string_utf8(env, full.c_str(), full.size(), &msg) != napi_ok ||
      napi_create_error(env, nullptr, msg, &err) != napi_ok)
    err = nullptr;
  throwOrReport(env, where, err, full.c_str());
}

// Calls the JS callback; a JS exception it throws propagates as an uncaught exception.
inline void callSafely(Napi::Env env, Napi::Function cb, std::initializer_list<napi_value> args) {
  guarded(env, "callback", [&] { cb.Call(args); });
}

}  // namespace ovn
