// Packing a HostSample into numbers + a meta signature (see host_packed.cc).
#pragma once
#include <napi.h>

#include <string>
#include <utility>
#include <vector>

#include "../proc/host_reader.h"

namespace ovn {

void packHostSample(const HostOptions& opts, const HostSample& s, std::vector<double>& out, std::string& signature,
                    std::vector<std::pair<std::string, SysError>>& reasons);
napi_value packedMetaToJs(Napi::Env env, const HostOptions& opts, const HostSample& s,
                          const std::vector<std::pair<std::string, SysError>>& reasons);

}  // namespace ovn
