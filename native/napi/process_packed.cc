#include "process_packed.h"

#include <cmath>

#include "js_object.h"

namespace ovn {

Napi::Value toPacked(Napi::Env env, const std::vector<const ProcessInfo*>& ps) {
  Napi::Float64Array nums = Napi::Float64Array::New(env, ps.size() * kPackedFields);
  Napi::Array comms = Napi::Array::New(env, ps.size());
  double* d = nums.Data();
  const double nan = std::nan("");
  for (size_t i = 0; i < ps.size(); ++i) {
    const ProcessInfo& p = *ps[i];
    double* r = d + i * kPackedFields;
    r[0] = p.pid; r[1] = p.ppid; r[2] = p.pgid; r[3] = p.sid; r[4] = p.ttyNr;
    r[5] = static_cast<double>(static_cast<unsigned char>(p.state)); r[6] = p.kernelThread ? 1 : 0;
    r[7] = static_cast<double>(p.utime); r[8] = static_cast<double>(p.stime); r[9] = static_cast<double>(p.cutime); r[10] = static_cast<double>(p.cstime);
    r[11] = static_cast<double>(p.starttime); r[12] = static_cast<double>(p.priority); r[13] = static_cast<double>(p.nice);
    r[14] = static_cast<double>(p.numThreads); r[15] = static_cast<double>(p.vsize); r[16] = static_cast<double>(p.rss);
    r[17] = static_cast<double>(p.minflt); r[18] = static_cast<double>(p.majflt); r[19] = p.processor; r[20] = static_cast<double>(p.blkioTicks);
    r[21] = p.hasStatus ? p.uid : nan; r[22] = p.hasStatus ? p.euid : nan; r[23] = p.hasStatus ? p.gid : nan;
    r[24] = p.hasStatus ? static_cast<double>(p.volCtxSwitches) : nan; r[25] = p.hasStatus ? static_cast<double>(p.nonvolCtxSwitches) : nan;
    r[26] = p.hasStatus ? static_cast<double>(p.vmSwap) : nan;
    const IoCounters& io = p.io;
    const uint64_t counters[] = {io.rchar, io.wchar, io.syscr, io.syscw, io.readBytes, io.writeBytes, io.cancelledWriteBytes};
    for (size_t k = 0; k < 7; ++k) r[27 + k] = p.hasIo ? static_cast<double>(counters[k]) : nan;
    comms.Set(static_cast<uint32_t>(i), Napi::String::New(env, p.comm));
  }
  return JsObject(env).val("numbers", nums).val("comms", comms).num("fields", kPackedFields).object();
}

}  // namespace ovn
