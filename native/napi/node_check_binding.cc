// The node checker's readers: readInfiniband(sysfsRoot), readMounts(mountinfoPath),
// readFileNr(procRoot) and readProcessFds(pids), each a Promise. They touch sysfs and /proc
// directories (dozens of files for an 8-port HCA set), so the reads run on libuv workers and the
// JS values are built in OnOK on the JS thread.
#include <napi.h>

#include <memory>

#include "../proc/fd_usage.h"
#include "../proc/mount_table.h"
#include "../sysfs/infiniband.h"
#include "errors.h"
#include "js_object.h"
#include "promise_worker.h"

namespace ovn {
namespace {

Napi::Value ReadInfiniband(const Napi::CallbackInfo& info) {
  std::string root = stringArg(info, 0, "sysfsRoot");
  auto devs = std::make_shared<std::vector<IbDevice>>();
  return PromiseWorker::run(
      info.Env(), "overnight:readInfiniband", [root, devs] { return readInfiniband(root, *devs); },
      [devs](Napi::Env env) -> Napi::Value {
        Napi::Array out = Napi::Array::New(env, devs->size());
        for (size_t i = 0; i < devs->size(); ++i) {
          const IbDevice& d = (*devs)[i];
          Napi::Array ports = Napi::Array::New(env, d.ports.size());
          for (size_t j = 0; j < d.ports.size(); ++j) {
            const IbPort& p = d.ports[j];
            Napi::Object counters = Napi::Object::New(env);
            for (const auto& [k, v] : p.counters) counters.Set(k, Napi::Number::New(env, static_cast<double>(v)));
            JsObject o(env);
            o.num("port", p.port);
            if (p.state >= 0)
              o.num("state", p.state).str("stateName", p.stateName);
            else
              o.null("state").null("stateName");
            if (p.physState >= 0)
              o.num("physState", p.physState).str("physStateName", p.physStateName);
            else
              o.null("physState").null("physStateName");
            if (p.rateGbps >= 0)
              o.num("rateGbps", p.rateGbps);
            else
              o.null("rateGbps");
            o.str("rateText", p.rateText).str("linkLayer", p.linkLayer).val("counters", counters);
            if (!p.error.ok()) o.val("error", reasonToJs(env, p.error));
            ports.Set(static_cast<uint32_t>(j), o.object());
          }
          out.Set(static_cast<uint32_t>(i), JsObject(env)
                                                .str("name", d.name)
                                                .str("boardId", d.boardId)
                                                .str("firmwareVersion", d.firmwareVersion)
                                                .str("hcaType", d.hcaType)
                                                .val("ports", ports)
                                                .object());
        }
        return out;
      });
}

Napi::Value ReadMounts(const Napi::CallbackInfo& info) {
  std::string path = stringArg(info, 0, "mountinfoPath");
  auto mounts = std::make_shared<std::vector<MountEntry>>();
  return PromiseWorker::run(
      info.Env(), "overnight:readMounts", [path, mounts] { return readMountTable(path, *mounts); },
      [mounts](Napi::Env env) -> Napi::Value {
        Napi::Array out = Napi::Array::New(env, mounts->size());
        for (size_t i = 0; i < mounts->size(); ++i) {
          const MountEntry& m = (*mounts)[i];
          out.Set(static_cast<uint32_t>(i), JsObject(env)
                                                .str("mountPoint", m.mountPoint)
                                                .str("fsType", m.fsType)
                                                .str("source", m.source)
                                                .str("mountOptions", m.mountOptions)
                                                .str("superOptions", m.superOptions)
                                                .boolean("readOnly", m.readOnly)
                                                .object());
        }
        return out;
      });
}

Napi::Value ReadFileNrJs(const Napi::CallbackInfo& info) {
  std::string root = stringArg(info, 0, "procRoot");
  auto nr = std::make_shared<FileNr>();
  return PromiseWorker::run(
      info.Env(), "overnight:readFileNr", [root, nr] { return readFileNr(root, *nr); },
      [nr](Napi::Env env) -> Napi::Value {
        return JsObject(env).u64("allocated", nr->allocated).u64("unused", nr->unused).u64("max", nr->max).object();
      });
}

Napi::Value ReadProcessFdsJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArray()) throw invalidArg(info.Env(), "pids", "an array of process ids");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<int> pids;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber() || v.As<Napi::Number>().Int64Value() <= 0)
      throw invalidArg(info.Env(), "pids", "an array of positive process ids");
    pids.push_back(static_cast<int>(v.As<Napi::Number>().Int32Value()));
  }
  auto res = std::make_shared<std::vector<ProcessFds>>(pids.size());
  return PromiseWorker::run(
      info.Env(), "overnight:readProcessFds",
      [pids, res] {
        for (size_t i = 0; i < pids.size(); ++i) readProcessFds(pids[i], (*res)[i]);
        return SysError{};
      },
      [res](Napi::Env env) -> Napi::Value {
        Napi::Array out = Napi::Array::New(env, res->size());
        for (size_t i = 0; i < res->size(); ++i) {
          const ProcessFds& p = (*res)[i];
          JsObject o(env);
          o.num("pid", p.pid);
          if (p.error.ok())
            o.u64("open", p.open).limit("softLimit", p.softLimit);
          else
            o.null("open").null("softLimit").val("error", reasonToJs(env, p.error));
          out.Set(static_cast<uint32_t>(i), o.object());
        }
        return out;
      });
}

}  // namespace

void registerNodeCheckBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("readInfiniband", Napi::Function::New<ReadInfiniband>(env, "readInfiniband"));
  exports.Set("readMounts", Napi::Function::New<ReadMounts>(env, "readMounts"));
  exports.Set("readFileNr", Napi::Function::New<ReadFileNrJs>(env, "readFileNr"));
  exports.Set("readProcessFds", Napi::Function::New<ReadProcessFdsJs>(env, "readProcessFds"));
}

}  // namespace ovn
