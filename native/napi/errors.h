// The one error boundary: C++ SysErrors become JS Errors with a stable `code`.
// Thread: JS thread only (creates JS values).
#pragma once
#include <napi.h>

#include "../proc/sys_error.h"

namespace ovn {

// Error with code ("ENOENT"), errno, syscall, and path/pid where known — shaped like Node's fs errors.
Napi::Error sysErrorToJs(Napi::Env env, const SysError& e);

// { code, message, path? } — the reason a part of a sample is missing.
Napi::Object reasonToJs(Napi::Env env, const SysError& e);

// TypeError naming the argument and what is allowed (code ERR_INVALID_ARG_TYPE). The value
// received is echoed by the TypeScript validation in front of every binding, not here.
Napi::TypeError invalidArg(Napi::Env env, const char* name, const char* expected);

}  // namespace ovn
