// The packed form of process samples: one Float64Array row of kPackedFields numbers per process,
// plus the comms in one NUL-separated string (one string instead of one per process). Building
// ~30 properties per process through N-API costs more than reading /proc does; JS builds the
// objects from typed arrays far faster.
// The row's fields are defined once, in the tables below (X(kind, name, expr), kinds as in
// host_layout.h, plus c: a character); processLayout exports them and
// src/readers/packed-processes.ts decodes each row by those names.
// Thread: packRows is plain C++ (a worker thread packs a large scan, so the JS thread only copies
// one array and one string); packedToJs, toPacked and processLayout run on the JS thread.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "../proc/process.h"

// ProcessInfo p: /proc/<pid>/stat, then /proc/<pid>/status (NaN when status was not read).
// Tables below are laid out by hand (clang-format does not keep X-macro bodies stable).
// clang-format off
#define OVN_PROCESS_ROW(X)                                                                                      \
  X(n, pid, p.pid) X(n, ppid, p.ppid) X(n, pgid, p.pgid) X(n, sid, p.sid) X(n, ttyNr, p.ttyNr)                  \
  X(c, state, static_cast<unsigned char>(p.state)) X(b, kernelThread, p.kernelThread)                           \
  X(u, utime, p.utime) X(u, stime, p.stime) X(u, cutime, p.cutime) X(u, cstime, p.cstime)                       \
  X(u, starttime, p.starttime) X(n, priority, p.priority) X(n, nice, p.nice) X(n, threads, p.numThreads)        \
  X(u, vsize, p.vsize) X(u, rss, p.rss) X(u, minflt, p.minflt) X(u, majflt, p.majflt)                           \
  X(n, processor, p.processor) X(u, blkioTicks, p.blkioTicks)                                                   \
  X(o, uid, p.hasStatus ? p.uid : nan) X(o, euid, p.hasStatus ? p.euid : nan) X(o, gid, p.hasStatus ? p.gid : nan) \
  X(o, voluntaryCtxSwitches, p.hasStatus ? static_cast<double>(p.volCtxSwitches) : nan)                         \
  X(o, nonvoluntaryCtxSwitches, p.hasStatus ? static_cast<double>(p.nonvolCtxSwitches) : nan)                   \
  X(o, swap, p.hasStatus ? static_cast<double>(p.vmSwap) : nan)

// IoCounters io, after the row (all NaN when io was not read or is not readable for the process).
#define OVN_PROCESS_IO(X)                                                                                       \
  X(u, rchar, io.rchar) X(u, wchar, io.wchar) X(u, syscr, io.syscr) X(u, syscw, io.syscw)                       \
  X(u, readBytes, io.readBytes) X(u, writeBytes, io.writeBytes) X(u, cancelledWriteBytes, io.cancelledWriteBytes)

namespace ovn {

#define OVN_COUNT(kind, name, expr) +1
// clang-format on
constexpr size_t kProcessRowFields = 0 OVN_PROCESS_ROW(OVN_COUNT);
constexpr size_t kProcessIoFields = 0 OVN_PROCESS_IO(OVN_COUNT);
#undef OVN_COUNT
constexpr size_t kPackedFields = kProcessRowFields + kProcessIoFields;

struct PackedRows {
  std::vector<double> numbers;  // rows * kPackedFields
  std::string comms;            // NUL-separated, one per row
  size_t rows = 0;
};

void packRows(const std::vector<const ProcessInfo*>& ps, PackedRows& out);
// { numbers: Float64Array, comms: string (NUL-separated), rows, fields }
Napi::Value packedToJs(Napi::Env env, const PackedRows& rows);
Napi::Value toPacked(Napi::Env env, const std::vector<const ProcessInfo*>& ps);

// { row: { names, kinds }, io: { names, kinds } }
Napi::Object processLayout(Napi::Env env);

}  // namespace ovn
