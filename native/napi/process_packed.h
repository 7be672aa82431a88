// The packed form of process samples: one Float64Array row of kPackedFields numbers per process,
// plus comm strings. Building ~30 properties per process through N-API costs more than reading
// /proc does; JS builds the objects from typed arrays far faster. The row layout is read by
// src/sampling/packed-processes.ts: change both together.
// Thread: JS thread only (creates JS values).
#pragma once
#include <napi.h>

#include <vector>

#include "../proc/process.h"

namespace ovn {

// pid..swap (27 fields), then the 7 io counters (NaN when io was not read or not readable).
constexpr size_t kPackedFields = 34;

Napi::Value toPacked(Napi::Env env, const std::vector<const ProcessInfo*>& ps);

}  // namespace ovn
