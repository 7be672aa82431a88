// The sampler's channels, defined once: each table lists a signal group's channels in the order
// they sit in a sample. Sampler::buildChannels takes the names from here, and the sampling code
// writes through the enums generated from the same tables, so a name and its slot cannot drift.
// (JS reads channels by the names the sampler reports, never by position.)
#pragma once

// Tables below are laid out by hand (clang-format does not keep X-macro bodies stable).
// clang-format off
#define OVN_SAMPLER_MEMORY(X) X(mem_used_bytes) X(mem_available_bytes) X(swap_used_bytes)
#define OVN_SAMPLER_CPU(X) \
  X(cpu_busy) X(cpu_user) X(cpu_system) X(cpu_iowait) X(cpu_steal) X(procs_running) X(procs_blocked) X(ctxt_per_s)
#define OVN_SAMPLER_PSI(X) \
  X(psi_cpu_some_avg10) X(psi_memory_some_avg10) X(psi_memory_full_avg10) X(psi_io_some_avg10) X(psi_memory_stall_frac)
#define OVN_SAMPLER_CGROUP(X)                                                                                   \
  X(cg_mem_usage_bytes) X(cg_mem_working_set_bytes) X(cg_mem_limit_bytes) X(cg_mem_max_events) X(cg_oom_kills) \
  X(cg_failcnt) X(cg_cpu_throttled_frac)
// Per pid, named pid<N>_<channel>.
#define OVN_SAMPLER_PID(X) X(cpu_cores) X(rss_bytes) X(state)
// Per GPU, named gpu<N>_<channel>.
#define OVN_SAMPLER_GPU(X) \
  X(util) X(mem_used_bytes) X(power_w) X(sm_clock_mhz) X(temp_c) X(thermal_throttle) X(power_throttle)

namespace ovn::channel {
#define OVN_ENUM(name) name,
// clang-format on
namespace memory {
enum : int { OVN_SAMPLER_MEMORY(OVN_ENUM) count };
}
namespace cpu {
enum : int { OVN_SAMPLER_CPU(OVN_ENUM) count };
}
namespace psi {
enum : int { OVN_SAMPLER_PSI(OVN_ENUM) count };
}
namespace cgroup {
enum : int { OVN_SAMPLER_CGROUP(OVN_ENUM) count };
}
namespace pid {
enum : int { OVN_SAMPLER_PID(OVN_ENUM) count };
}
namespace gpu {
enum : int { OVN_SAMPLER_GPU(OVN_ENUM) count };
}
#undef OVN_ENUM
}  // namespace ovn::channel
