#include "nvml_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>

namespace ovn::nvml {

const char* returnName(Return r) {
  switch (r) {
// Tables below are laid out by hand (clang-format does not keep X-macro bodies stable).
// clang-format off
#define N(x) case x: return "NVML_" #x;
    N(SUCCESS) N(ERROR_UNINITIALIZED) N(ERROR_INVALID_ARGUMENT) N(ERROR_NOT_SUPPORTED) N(ERROR_NO_PERMISSION)
    N(ERROR_ALREADY_INITIALIZED) N(ERROR_NOT_FOUND) N(ERROR_INSUFFICIENT_SIZE) N(ERROR_INSUFFICIENT_POWER)
    N(ERROR_DRIVER_NOT_LOADED) N(ERROR_TIMEOUT) N(ERROR_IRQ_ISSUE) N(ERROR_LIBRARY_NOT_FOUND)
    N(ERROR_FUNCTION_NOT_FOUND) N(ERROR_CORRUPTED_INFOROM) N(ERROR_GPU_IS_LOST) N(ERROR_RESET_REQUIRED)
    N(ERROR_OPERATING_SYSTEM) N(ERROR_LIB_RM_VERSION_MISMATCH) N(ERROR_IN_USE) N(ERROR_MEMORY) N(ERROR_NO_DATA)
    N(ERROR_VGPU_ECC_NOT_ENABLED) N(ERROR_INSUFFICIENT_RESOURCES) N(ERROR_FREQ_NOT_SUPPORTED)
    N(ERROR_ARGUMENT_VERSION_MISMATCH) N(ERROR_DEPRECATED) N(ERROR_NOT_READY) N(ERROR_GPU_NOT_FOUND)
    N(ERROR_INVALID_STATE) N(ERROR_UNKNOWN)
// clang-format on
#undef N
                                    default : return "NVML_ERROR_UNKNOWN";
  }
}

const char* resolveFirst(void* handle, std::initializer_list<const char*> names, void** out) {
  for (const char* n : names) {
    void* p = dlsym(handle, n);
    if (p) {
      *out = p;
      return n;
    }
  }
  *out = nullptr;
  return nullptr;
}

template <class Fn>
static void bind(void* h, Entry<Fn>& e, std::initializer_list<const char*> names) {
  void* p = nullptr;
  e.symbol = resolveFirst(h, names, &p);
  e.fn = reinterpret_cast<Fn>(p);
}

static Api loadApi() {
  Api a;
  const char* env = std::getenv("OVERNIGHT_NVML_LIBRARY");
  a.libraryPath = env && *env ? env : "libnvidia-ml.so.1";
  // RTLD_LOCAL: NVML's symbols stay out of the global namespace of the Node process.
  void* h = dlopen(a.libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    a.loadError = e ? e : (a.libraryPath + " not found");
    return a;
  }
  a.loaded = true;
#define OVN_NVML_BIND(field, Fn, ...) bind(h, a.field, {__VA_ARGS__});
  OVN_NVML_SYMBOLS(OVN_NVML_BIND)
#undef OVN_NVML_BIND
  a.pciInfoVersion = !a.pciInfo.symbol ? 0 : a.pciInfo.symbol[sizeof("nvmlDeviceGetPciInfo") - 1] == '_' ? 3 : 1;
  if (a.computeProcesses.symbol) {
    std::string s = a.computeProcesses.symbol;
    a.processInfoStride = (s.size() > 3 && s[s.size() - 3] == '_') ? static_cast<int>(sizeof(ProcessInfoV2))
                                                                   : static_cast<int>(sizeof(ProcessInfoV1));
  }
  a.nvLinkRemotePciVersion = !a.nvLinkRemotePci.symbol                             ? 0
                             : std::string(a.nvLinkRemotePci.symbol).back() == '2' ? 2
                                                                                   : 1;
  // The library stays open for the life of the process: NVML keeps driver state behind it.
  return a;
}

const Api& api() {
  static std::once_flag once;
  static Api* a = nullptr;
  std::call_once(once, [] { a = new Api(loadApi()); });
  return *a;
}

std::string errorText(Return r) {
  const Api& a = api();
  if (a.errorString) {
    const char* s = a.errorString.fn(r);
    if (s) return s;
  }
  return returnName(r);
}

std::vector<std::pair<const char*, const char*>> Api::table() const {
#define OVN_NVML_ROW(field, Fn, ...) {#field, field.symbol},
  return {OVN_NVML_SYMBOLS(OVN_NVML_ROW)};
#undef OVN_NVML_ROW
}

}  // namespace ovn::nvml
