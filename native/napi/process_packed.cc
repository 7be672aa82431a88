#include "process_packed.h"

#include <cmath>

#include "js_object.h"

namespace ovn {

void packRows(const std::vector<const ProcessInfo*>& ps, PackedRows& out) {
  out.numbers.resize(ps.size() * kPackedFields);
  out.comms.clear();
  out.comms.reserve(ps.size() * 16);
  out.rows = ps.size();
  double* d = out.numbers.data();
  const double nan = std::nan("");
  for (size_t i = 0; i < ps.size(); ++i) {
    const ProcessInfo& p = *ps[i];
    double* r = d + i * kPackedFields;
#define OVN_PUT(kind, name, expr) *r++ = static_cast<double>(expr);
    OVN_PROCESS_ROW(OVN_PUT)
    const IoCounters& io = p.io;
    if (p.hasIo) {
      OVN_PROCESS_IO(OVN_PUT)
    } else {
      for (size_t k = 0; k < kProcessIoFields; ++k) *r++ = nan;
    }
#undef OVN_PUT
    // A comm cannot contain NUL (the kernel stores it NUL-terminated), so NUL separates them.
    if (i > 0) out.comms.push_back('\0');
    out.comms += p.comm;
  }
}

Napi::Value packedToJs(Napi::Env env, const PackedRows& rows) {
  Napi::Float64Array nums = Napi::Float64Array::New(env, rows.numbers.size());
  std::copy(rows.numbers.begin(), rows.numbers.end(), nums.Data());
  return JsObject(env)
      .val("numbers", nums)
      .val("comms", Napi::String::New(env, rows.comms))
      .num("rows", static_cast<double>(rows.rows))
      .num("fields", kPackedFields)
      .object();
}

Napi::Value toPacked(Napi::Env env, const std::vector<const ProcessInfo*>& ps) {
  PackedRows rows;
  packRows(ps, rows);
  return packedToJs(env, rows);
}

Napi::Object processLayout(Napi::Env env) {
  auto group = [&](std::initializer_list<const char*> names, const char* kinds) {
    Napi::Array arr = Napi::Array::New(env, names.size());
    uint32_t i = 0;
    for (const char* n : names) arr.Set(i++, n);
    return JsObject(env).val("names", arr).str("kinds", kinds).object();
  };
#define OVN_NAME(kind, name, expr) #name,
#define OVN_KIND(kind, name, expr) #kind
  return JsObject(env)
      .val("row", group({OVN_PROCESS_ROW(OVN_NAME)}, OVN_PROCESS_ROW(OVN_KIND)))
      .val("io", group({OVN_PROCESS_IO(OVN_NAME)}, OVN_PROCESS_IO(OVN_KIND)))
      .object();
#undef OVN_KIND
#undef OVN_NAME
}

}  // namespace ovn
