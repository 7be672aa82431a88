// Module init: registers the exports of each binding, nothing else.
#include <napi.h>

namespace ovn {
void registerHostBinding(Napi::Env env, Napi::Object exports);
void registerProcessBinding(Napi::Env env, Napi::Object exports);
void registerParserBinding(Napi::Env env, Napi::Object exports);
void registerGpuBinding(Napi::Env env, Napi::Object exports);
void registerGpuEventsBinding(Napi::Env env, Napi::Object exports);
void registerControlBinding(Napi::Env env, Napi::Object exports);
void registerFsBinding(Napi::Env env, Napi::Object exports);
void registerSamplerBinding(Napi::Env env, Napi::Object exports);
void registerMonitorBinding(Napi::Env env, Napi::Object exports);
void registerNodeCheckBinding(Napi::Env env, Napi::Object exports);
void registerKmsgBinding(Napi::Env env, Napi::Object exports);
}  // namespace ovn

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ovn::registerHostBinding(env, exports);
  ovn::registerProcessBinding(env, exports);
  ovn::registerParserBinding(env, exports);
  ovn::registerGpuBinding(env, exports);
  ovn::registerGpuEventsBinding(env, exports);
  ovn::registerControlBinding(env, exports);
  ovn::registerFsBinding(env, exports);
  ovn::registerSamplerBinding(env, exports);
  ovn::registerMonitorBinding(env, exports);  // after parsers: it adds parsers.releasableFileAreas
  ovn::registerNodeCheckBinding(env, exports);
  ovn::registerKmsgBinding(env, exports);  // after parsers: it adds parsers.kmsgRecord
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

NODE_API_MODULE(overnight_native, Init)
