// GPU samples and NVML errors as JS values (gpu_convert.cc). Thread: JS thread only.
#pragma once
#include <napi.h>

#include "../nvml/gpu_reader.h"
#include "../nvml/nvml_loader.h"

namespace ovn {

// { code: "NVML_ERROR_...", message }
napi_value nvmlError(Napi::Env env, nvml::Return r);

// A whole GPU sample: available with devices, or available: false with the reason and code.
napi_value sampleToJs(Napi::Env env, const nvml::GpuSample& s);

}  // namespace ovn
