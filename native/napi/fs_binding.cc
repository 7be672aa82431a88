// walkTree(root, options) -> Promise<WalkResult>, deleteUnder(root, paths) -> Promise<outcomes>,
// reserveSpace(path, bytes) -> Promise<void>, restoreFile(source, target) -> Promise<{ ok, error?, refusedAt? }>. Only
// src/policy/ and the resource engine (through the policy gate) call the destructive ones. Thread: the work runs on
// libuv workers; results are converted on the JS thread in OnOK.
#include <napi.h>

#include "../fs/safe_restore.h"
#include "../fs/safe_tree.h"
#include "errors.h"
#include "js_object.h"
#include "promise_worker.h"

namespace ovn {
namespace {

Napi::Value WalkTree(const Napi::CallbackInfo& info) {
  std::string root = stringArg(info, 0, "root");
  WalkOptions opts;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    opts.maxEntries = static_cast<size_t>(optInt(o, "maxEntries", static_cast<int64_t>(opts.maxEntries)));
    opts.maxDepth = static_cast<int>(optInt(o, "maxDepth", opts.maxDepth));
  }
  auto result = std::make_shared<WalkResult>();
  return PromiseWorker::run(
      info.Env(), "overnight:walkTree", [root, opts, result] { return walkTree(root, opts, *result); },
      [result](Napi::Env env) -> Napi::Value {
        Napi::Array files = Napi::Array::New(env, result->files.size());
        for (size_t i = 0; i < result->files.size(); ++i) {
          const TreeEntry& e = result->files[i];
          files.Set(static_cast<uint32_t>(i), JsObject(env)
                                                  .str("path", e.path)
                                                  .u64("bytes", e.bytes)
                                                  .u64("allocated", e.allocated)
                                                  .num("mtimeMs", e.mtimeMs)
                                                  .object());
        }
        Napi::Array errs = Napi::Array::New(env, result->errorSamples.size());
        for (size_t i = 0; i < result->errorSamples.size(); ++i)
          errs.Set(static_cast<uint32_t>(i), result->errorSamples[i]);
        return JsObject(env)
            .val("files", files)
            .u64("skippedSymlinks", result->skippedSymlinks)
            .u64("skippedMounts", result->skippedMounts)
            .u64("skippedOther", result->skippedOther)
            .u64("errors", result->errors)
            .val("errorSamples", errs)
            .boolean("truncated", result->truncated)
            .object();
      });
}

Napi::Value DeleteUnder(const Napi::CallbackInfo& info) {
  std::string root = stringArg(info, 0, "root");
  if (info.Length() < 2 || !info[1].IsArray())
    throw invalidArg(info.Env(), "paths", "an array of paths relative to root");
  std::vector<std::string> paths;
  appendStrings(info[1].As<Napi::Array>(), "paths", paths);
  auto result = std::make_shared<std::vector<DeleteOutcome>>();
  return PromiseWorker::run(
      info.Env(), "overnight:deleteUnder", [root, paths, result] { return deleteUnder(root, paths, *result); },
      [result](Napi::Env env) -> Napi::Value {
        Napi::Array a = Napi::Array::New(env, result->size());
        for (size_t i = 0; i < result->size(); ++i) {
          const DeleteOutcome& o = (*result)[i];
          JsObject j(env);
          j.str("path", o.path).boolean("deleted", o.deleted).u64("freed", o.freed);
          if (!o.skipped.empty()) j.str("skipped", o.skipped);
          a.Set(static_cast<uint32_t>(i), j.object());
        }
        return a;
      });
}

Napi::Value ReserveSpace(const Napi::CallbackInfo& info) {
  std::string path = stringArg(info, 0, "path");
  if (info.Length() < 2 || !info[1].IsNumber() || info[1].As<Napi::Number>().DoubleValue() < 0)
    throw invalidArg(info.Env(), "bytes", "a byte count >= 0");
  uint64_t bytes = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  return PromiseWorker::run(
      info.Env(), "overnight:reserveSpace", [path, bytes] { return reserveSpace(path, bytes); },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

Napi::Value RestoreFile(const Napi::CallbackInfo& info) {
  std::string source = stringArg(info, 0, "source");
  std::string target = stringArg(info, 1, "target");
  auto result = std::make_shared<RestoreOutcome>();
  return PromiseWorker::run(
      info.Env(), "overnight:restoreFile",
      [source, target, result] { return restoreFileNoFollow(source, target, *result); },
      [result](Napi::Env env) -> Napi::Value {
        JsObject j(env);
        j.boolean("ok", result->ok);
        if (!result->error.empty()) j.str("error", result->error);
        if (!result->refusedAt.empty()) j.str("refusedAt", result->refusedAt);
        return j.object();
      });
}

}  // namespace

void registerFsBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("walkTree", Napi::Function::New<WalkTree>(env, "walkTree"));
  exports.Set("deleteUnder", Napi::Function::New<DeleteUnder>(env, "deleteUnder"));
  exports.Set("reserveSpace", Napi::Function::New<ReserveSpace>(env, "reserveSpace"));
  exports.Set("restoreFile", Napi::Function::New<RestoreFile>(env, "restoreFile"));
}

}  // namespace ovn
