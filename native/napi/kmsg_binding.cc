// Kernel log exports: class KernelLogReader (records of /dev/kmsg read on the reader thread,
// delivered in batches through one ThreadSafeFunction) and parsers.kmsgRecord (one record, for
// tests and benchmarks of the parser).
// Thread: constructor and methods run on the JS thread; batches become JS values only inside the
// ThreadSafeFunction callback, on the JS thread.
#include <napi.h>
#include <unistd.h>

#include <memory>

#include "../kmsg/kmsg_reader.h"
#include "errors.h"
#include "js_object.h"
#include "tsfn_guard.h"

namespace ovn {
namespace {

using namespace kmsg;

napi_value recordToJs(Napi::Env env, const Record& r) {
  JsObject o(env);
  o.num("seq", static_cast<double>(r.seq))
      .num("level", r.level)
      .num("facility", r.facility)
      .num("monoUs", static_cast<double>(r.monoUs))
      .str("text", r.text);
  if (!r.subsystem.empty()) o.str("subsystem", r.subsystem);
  if (!r.device.empty()) o.str("device", r.device);
  return o;
}

napi_value batchToJs(Napi::Env env, const Batch& b) {
  Napi::Array records = Napi::Array::New(env, b.records.size());
  for (size_t i = 0; i < b.records.size(); ++i) records.Set(static_cast<uint32_t>(i), recordToJs(env, b.records[i]));
  Napi::Array lost = Napi::Array::New(env, b.lost.size());
  for (size_t i = 0; i < b.lost.size(); ++i)
    lost.Set(static_cast<uint32_t>(i), JsObject(env)
                                           .num("from", static_cast<double>(b.lost[i].first))
                                           .num("to", static_cast<double>(b.lost[i].second))
                                           .object());
  JsObject o(env);
  o.val("records", records)
      .val("lost", lost)
      .num("overruns", static_cast<double>(b.overruns))
      .boolean("ended", b.ended)
      .boolean("caughtUp", b.caughtUp);
  if (!b.error.ok()) o.val("error", sysErrorToJs(env, b.error).Value());
  return o;
}

class KernelLogReaderWrap : public Napi::ObjectWrap<KernelLogReaderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "KernelLogReader", {InstanceMethod<&KernelLogReaderWrap::Stop>("stop")});
  }

  // new KernelLogReader(path, { afterSeq?, fromEnd?, batchMax? }, onBatch)
  // Throws the open error (code EPERM / EACCES / ENOENT) so the caller can say why it is unavailable.
  explicit KernelLogReaderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KernelLogReaderWrap>(info) {
    Napi::Env env = info.Env();
    std::string path = stringArg(info, 0, "path");
    if (info.Length() < 3 || !info[2].IsFunction()) throw invalidArg(env, "onBatch", "a function");
    ReaderOptions opts;
    if (info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      opts.afterSeq = optInt(o, "afterSeq", -1);
      opts.fromEnd = optBool(o, "fromEnd", false);
      opts.batchMax = static_cast<size_t>(optIntIn(o, "batchMax", 512, 1, 65536, "an integer in [1, 65536]"));
    }
    int fd = -1;
    SysError err = openKmsg(path, fd);
    if (!err.ok()) throw sysErrorToJs(env, err);
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "overnight:kmsg", 0, 1);
    Napi::ThreadSafeFunction tsfn = tsfn_;
    reader_ = std::make_unique<Reader>(
        fd, opts,
        [tsfn](Batch&& b) mutable {
          auto* copy = new Batch(std::move(b));
          napi_status st = tsfn.NonBlockingCall(copy, [](Napi::Env env, Napi::Function cb, Batch* batch) {
            std::unique_ptr<Batch> owned(batch);
            if (!env) return;
            guarded(env, "overnight:kmsg", [&] { callSafely(env, cb, {batchToJs(env, *batch)}); });
          });
          if (st != napi_ok) delete copy;
        },
        [tsfn]() mutable { tsfn.Release(); });
  }

  ~KernelLogReaderWrap() override { reader_.reset(); }

 private:
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (reader_) {
      reader_.reset();  // joins the thread, which released the ThreadSafeFunction on its way out
    }
    return info.Env().Undefined();
  }
  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<Reader> reader_;
};

Napi::Value KmsgRecordJs(const Napi::CallbackInfo& info) {
  std::string s = stringArg(info, 0, "record");
  Record r;
  if (!parseRecord(s.data(), s.size(), r)) return info.Env().Null();
  return Napi::Value(info.Env(), recordToJs(info.Env(), r));
}

}  // namespace

void registerKmsgBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("KernelLogReader", KernelLogReaderWrap::Define(env));
  Napi::Object parsers = exports.Get("parsers").As<Napi::Object>();
  parsers.Set("kmsgRecord", Napi::Function::New<KmsgRecordJs>(env, "kmsgRecord"));
}

}  // namespace ovn
