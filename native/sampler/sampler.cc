#include "sampler.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "../nvml/gpu_reader.h"
#include "../nvml/nvml_loader.h"
#include "../proc/process.h"
#include "channels.h"
#include "cpu_stat_head.h"
#include "meminfo_head.h"
#include "pid_stat_head.h"

namespace ovn {
namespace ch = channel;
namespace {

constexpr uint64_t kSlowSourceUs = 10'000;

// The default read period of a group: never faster than its source changes, never slower than
// one sample when sampling is already slower than that.
uint64_t periodUs(int64_t asked, uint64_t sourceUs, uint64_t intervalUs) {
  if (asked == 0) return intervalUs;
  uint64_t p = asked > 0 ? static_cast<uint64_t>(asked) : sourceUs;
  return p < intervalUs ? intervalUs : p;
}

// Sleeps until the absolute CLOCK_MONOTONIC time deadlineNs unless *word leaves 0; true if it did
// (stop), false on the deadline.
bool futexWaitUntil(std::atomic<uint32_t>* word, uint64_t deadlineNs) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free,
                "the futex word must be a plain 32-bit integer");
  const timespec deadline{static_cast<time_t>(deadlineNs / 1'000'000'000ULL),
                          static_cast<long>(deadlineNs % 1'000'000'000ULL)};
  for (;;) {
    if (word->load(std::memory_order_acquire) != 0) return true;
    long rc = syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_BITSET_PRIVATE, 0u, &deadline, nullptr,
                      FUTEX_BITSET_MATCH_ANY);
    if (rc != 0 && errno == ETIMEDOUT) return word->load(std::memory_order_acquire) != 0;
    if (rc != 0 && errno != EAGAIN && errno != EINTR) {
      // No usable futex (a seccomp filter, an emulator): sleep to the deadline unwakeable rather
      // than spin; stop() then waits up to one interval.
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
      }
      return word->load(std::memory_order_acquire) != 0;
    }
    // 0 (woken, or spuriously), EAGAIN (the word changed before the wait), EINTR: look again.
  }
}

void futexWake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace

bool Sampler::Cadence::due(uint64_t t) {
  if (t + slackNs < nextNs) return false;
  nextNs += periodNs;
  if (nextNs + slackNs <= t) nextNs = t + periodNs;  // fell behind or first read: re-anchor
  return true;
}

Sampler::Sampler(SamplerOptions o) : o_(std::move(o)) {
  if (o_.intervalUs < 50) o_.intervalUs = 50;
  // The HostReader reads the cgroup group only; loadavg and uptime are not sampled (they change
  // only every 5 s).
  cgroupOpts_.memory = cgroupOpts_.cpu = cgroupOpts_.perCpu = cgroupOpts_.psi = cgroupOpts_.load = false;
  cgroupOpts_.cgroup = true;
  if (o_.allGpus || !o_.gpus.empty()) {
    if (nvml::ensureInit() == nvml::SUCCESS) {
      if (o_.allGpus) {
        unsigned n = 0;
        const nvml::Api& a = nvml::api();
        if (a.deviceCount) a.deviceCount.fn(&n);
        o_.gpus.clear();
        for (unsigned i = 0; i < n; ++i) o_.gpus.push_back(i);
      }
    } else {
      warnings_.push_back("GPU signals unavailable: NVML could not be initialized");
      o_.gpus.clear();
    }
  }
  // CPU times count in USER_HZ ticks (10 ms): a shorter delta is 0 or a whole tick. PSI averages
  // are recomputed every 2 s and the cgroup's throttling counters once per CFS period (100 ms);
  // 10 ms keeps their totals fine-grained at a tenth of the cost at 1 kHz.
  const uint64_t tickUs = 1'000'000 / static_cast<uint64_t>(clockTicksPerSecond());
  const uint64_t slackNs = o_.intervalUs * 500;
  cpuCadence_ = {periodUs(o_.cpuIntervalUs, tickUs, o_.intervalUs) * 1000, slackNs};
  psiCadence_ = {periodUs(o_.psiIntervalUs, kSlowSourceUs, o_.intervalUs) * 1000, slackNs};
  cgroupCadence_ = {periodUs(o_.cgroupIntervalUs, kSlowSourceUs, o_.intervalUs) * 1000, slackNs};
  gpuCadence_ = {periodUs(static_cast<int64_t>(o_.gpuIntervalUs), o_.intervalUs, o_.intervalUs) * 1000, slackNs};
  if (o_.processes.root >= 0) scanner_ = std::make_unique<ProcessScanner>(o_.processes);
  buildChannels();
  hostLast_.assign((o_.memory ? ch::memory::count : 0) + (o_.cpu ? ch::cpu::count : 0) + (o_.psi ? ch::psi::count : 0) +
                       (o_.cgroup ? ch::cgroup::count : 0),
                   NAN);
  size_t ring = o_.ringSize ? o_.ringSize : static_cast<size_t>(60'000'000 / o_.intervalUs);
  if (ring > 1'000'000) ring = 1'000'000;
  if (ring < 16) ring = 16;
  ring_ = std::make_unique<SampleRing>(ring, channels_.size());
  stats_.assign(channels_.size(), RunningStats());
  lastGpu_.assign(o_.gpus.size() * ch::gpu::count, NAN);
  for (int pid : o_.pids) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    pidStat_.push_back(std::make_unique<KeptOpenFile>(path));
  }
  pidPrevTicks_.assign(o_.pids.size(), 0);
  pidStart_.assign(o_.pids.size(), 0);
}

Sampler::~Sampler() { stop(); }

void Sampler::buildChannels() {
  auto add = [&](const std::string& s) { channels_.push_back(s); };
#define OVN_ADD(name) add(#name);
  if (o_.memory) {
    OVN_SAMPLER_MEMORY(OVN_ADD)
  }
  if (o_.cpu) {
    OVN_SAMPLER_CPU(OVN_ADD)
  }
  if (o_.psi) {
    OVN_SAMPLER_PSI(OVN_ADD)
  }
  if (o_.cgroup) {
    OVN_SAMPLER_CGROUP(OVN_ADD)
  }
#undef OVN_ADD
#define OVN_ADD(name) add(prefix + #name);
  for (int pid : o_.pids) {
    const std::string prefix = "pid" + std::to_string(pid) + "_";
    OVN_SAMPLER_PID(OVN_ADD)
  }
  for (unsigned g : o_.gpus) {
    const std::string prefix = "gpu" + std::to_string(g) + "_";
    OVN_SAMPLER_GPU(OVN_ADD)
  }
#undef OVN_ADD
}

void Sampler::start() {
  if (running_.load()) return;
  stopWord_.store(0);
  running_.store(true);
  startNs_ = monotonicNowNs();
  endNs_ = 0;
  if (scanner_) scanner_->start();
  if (!channels_.empty()) thread_ = std::thread([this] { run(); });
}

void Sampler::prepareThread() {
  // A sleeping thread's timer may fire up to its timer slack late (50 µs by default) so the kernel
  // can batch wake-ups; a sampler wants its deadlines, so 1 µs.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  pthread_setname_np(pthread_self(), "ovn-sampler");  // visible in top -H and /proc/<pid>/task
  if (!o_.realtime) return;
  sched_param sp{};
  sp.sched_priority = 1;  // the lowest real-time priority: above every normal thread, below the kernel's own
  int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
  if (rc != 0) {
    std::lock_guard<std::mutex> lock(statsMu_);
    warnings_.push_back(std::string("realtime: SCHED_FIFO refused (") + std::strerror(rc) +
                        "): needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 1; sampling at normal priority");
  }
}

void Sampler::run() {
  prepareThread();
  const uint64_t interval = o_.intervalUs * 1000;
  uint64_t next = monotonicNowNs();
  uint64_t last = 0;
  for (;;) {
    // One futex wait with an absolute CLOCK_MONOTONIC deadline (FUTEX_WAIT_BITSET measures against
    // the monotonic clock): the same one syscall and timer slack as clock_nanosleep(TIMER_ABSTIME)
    // (measured alike: the benchmark's timer floor), but stop() can wake it. A periodic timerfd
    // measured no cheaper. Returns on the deadline (ETIMEDOUT), on stop (the word is no longer 0:
    // EAGAIN, or woken), or on a signal (EINTR: wait again).
    if (futexWaitUntil(&stopWord_, next)) break;
    // The one clock read a sample: its timestamp, and how late this wake-up is.
    uint64_t t = monotonicNowNs();
    if (t >= next + interval) {
      // Fell behind (a slow read, a preempted thread): skip the missed deadlines instead of bursting.
      uint64_t behind = (t - next) / interval;
      std::lock_guard<std::mutex> lock(statsMu_);
      missed_ += behind;
      next += behind * interval;
    }
    double* slot = ring_->slot();
    slot[0] = static_cast<double>(t) / 1e6;
    sampleOnce(slot + 1, t);
    ring_->commit();
    {
      std::lock_guard<std::mutex> lock(statsMu_);
      for (size_t i = 0; i < channels_.size(); ++i) stats_[i].add(slot[1 + i], rng_);
      if (last) gaps_.add(static_cast<double>(t - last) / 1000.0, rng_);
      ++samples_;
    }
    last = t;
    next += interval;
  }
  double cpuMs = currentThreadCpuMs();
  std::lock_guard<std::mutex> lock(statsMu_);
  threadCpuMs_ = cpuMs;
  endNs_ = monotonicNowNs();
}

void Sampler::sampleOnce(double* v, uint64_t t) {
  double dt = havePrev_ ? static_cast<double>(t - prevNs_) / 1e9 : 0;
  sampleHost(v, t);
  size_t k = hostLast_.size();
  samplePids(v + k, t, dt);
  k += o_.pids.size() * ch::pid::count;
  sampleGpus(v + k, t);
  prevNs_ = t;
  havePrev_ = true;
}

void Sampler::sampleHost(double* v, uint64_t t) {
  if (hostLast_.empty()) return;
  // Each group writes its slots of hostLast_ when it is due; between reads a slot repeats its value.
  double* h = hostLast_.data();
  if (o_.memory) {
    readMemory(h);
    h += ch::memory::count;
  }
  if (o_.cpu) {
    if (cpuCadence_.due(t)) readCpu(h, t);
    h += ch::cpu::count;
  }
  if (o_.psi) {
    if (psiCadence_.due(t)) readPsi(h, t);
    h += ch::psi::count;
  }
  if (o_.cgroup && cgroupCadence_.due(t)) readCgroup(h);
  std::copy(hostLast_.begin(), hostLast_.end(), v);
}

void Sampler::readMemory(double* h) {
  MemInfoHead m;
  std::string_view text;
  bool ok = memFile_.readView(text, buf_).ok() && parseMemInfoHead(text, m, memOffsets_);
  h[ch::memory::mem_used_bytes] = ok ? static_cast<double>(m.used()) : NAN;
  h[ch::memory::mem_available_bytes] = ok ? static_cast<double>(m.available) : NAN;
  h[ch::memory::swap_used_bytes] = ok ? static_cast<double>(m.swapTotal - m.swapFree) : NAN;
}

void Sampler::readCpu(double* h, uint64_t t) {
  using namespace ch::cpu;
  std::string_view text;
  bool ok = statFile_.readView(text, buf_).ok() && parseCpuStatHead(text, cpuStat_);
  if (!ok) {
    for (int i = cpu_busy; i < count; ++i) h[i] = NAN;
    havePrevCpu_ = false;
    return;
  }
  // No tick elapsed since the baseline: the utilization is the last one, not unknown, and the
  // baseline stays so that the next read measures over a real interval.
  CpuUtilization u;
  bool hasUtil = havePrevCpuTimes_ && cpuUtilization(prevCpuTimes_, cpuStat_.all, u);
  if (hasUtil) {
    h[cpu_busy] = u.busy, h[cpu_user] = u.user, h[cpu_system] = u.system;
    h[cpu_iowait] = u.iowait, h[cpu_steal] = u.steal;
  }
  if (!havePrevCpuTimes_ || hasUtil) {
    prevCpuTimes_ = cpuStat_.all;
    havePrevCpuTimes_ = true;
  }
  const CpuStatHead& c = cpuStat_;
  double cdt = havePrevCpu_ ? static_cast<double>(t - prevCpuNs_) / 1e9 : 0;
  h[procs_running] = static_cast<double>(c.procsRunning);
  h[procs_blocked] = static_cast<double>(c.procsBlocked);
  h[ctxt_per_s] = havePrevCpu_ && cdt > 0 ? static_cast<double>(c.ctxt - prevCtxt_) / cdt : NAN;
  prevCtxt_ = c.ctxt;
  havePrevCpu_ = true;
  prevCpuNs_ = t;
}

void Sampler::readPsi(double* h, uint64_t t) {
  using namespace ch::psi;
  Psi cpu, mem, io;
  std::string_view text;  // each view is parsed before the next read reuses the buffer
  bool cpuOk = psiFiles_[0].readView(text, buf_).ok() && parsePsi(text, cpu);
  bool memOk = psiFiles_[1].readView(text, buf_).ok() && parsePsi(text, mem);
  bool ioOk = psiFiles_[2].readView(text, buf_).ok() && parsePsi(text, io);
  h[psi_cpu_some_avg10] = cpuOk ? cpu.some.avg10 : NAN;
  h[psi_memory_some_avg10] = memOk ? mem.some.avg10 : NAN;
  h[psi_memory_full_avg10] = memOk && mem.full.present ? mem.full.avg10 : NAN;
  h[psi_io_some_avg10] = ioOk ? io.some.avg10 : NAN;
  uint64_t tot = memOk ? mem.some.totalUs : 0;
  double pdt = havePrevPsi_ ? static_cast<double>(t - prevPsiNs_) / 1e9 : 0;
  h[psi_memory_stall_frac] =
      memOk && havePrevPsi_ && pdt > 0 ? static_cast<double>(tot - prevPsiMemTotal_) / (pdt * 1e6) : NAN;
  prevPsiMemTotal_ = tot;
  havePrevPsi_ = memOk;
  prevPsiNs_ = t;
}

void Sampler::readCgroup(double* h) {
  HostSample s;
  host_.sample(cgroupOpts_, s);
  bool ok = s.cgroup.available;
  const CgroupMemory& m = s.cgroup.value.memory;
  const CgroupCpu& c = s.cgroup.value.cpu;
  using namespace ch::cgroup;
  h[cg_mem_usage_bytes] = ok && m.hasUsage ? static_cast<double>(m.usage) : NAN;
  h[cg_mem_working_set_bytes] = ok && m.hasUsage && m.hasStat ? static_cast<double>(m.workingSet()) : NAN;
  h[cg_mem_limit_bytes] = ok && m.hasLimit && m.limit != kUnlimited ? static_cast<double>(m.limit) : NAN;
  h[cg_mem_max_events] = ok && m.hasEvents ? static_cast<double>(m.eventsMax) : NAN;
  h[cg_oom_kills] = ok && m.hasEvents ? static_cast<double>(m.eventsOomKill) : NAN;
  h[cg_failcnt] = ok && m.hasFailcnt ? static_cast<double>(m.failcnt) : NAN;
  bool cpuOk = ok && c.hasStat && c.nrPeriods > prevPeriods_ && prevPeriods_ > 0;
  if (cpuOk)
    h[cg_cpu_throttled_frac] =
        static_cast<double>(c.nrThrottled - prevThrottled_) / static_cast<double>(c.nrPeriods - prevPeriods_);
  else if (!(ok && c.hasStat))
    h[cg_cpu_throttled_frac] = NAN;
  if (ok && c.hasStat) {
    prevPeriods_ = c.nrPeriods;
    prevThrottled_ = c.nrThrottled;
  }
}

void Sampler::samplePids(double* v, uint64_t t, double dt) {
  static const double hz = static_cast<double>(clockTicksPerSecond());
  for (size_t i = 0; i < o_.pids.size(); ++i, v += ch::pid::count) {
    PidStatHead p;
    std::string_view text;
    SysError e = pidStat_[i]->readView(text, buf_);
    if (e.ok() && parsePidStatHead(text, p) && (pidStart_[i] == 0 || p.starttime == pidStart_[i])) {
      uint64_t ticks = p.utime + p.stime;
      v[ch::pid::cpu_cores] = pidStart_[i] && dt > 0 ? (static_cast<double>(ticks - pidPrevTicks_[i]) / hz) / dt : NAN;
      v[ch::pid::rss_bytes] = static_cast<double>(p.rss);
      v[ch::pid::state] = static_cast<double>(p.state);
      pidPrevTicks_[i] = ticks;
      pidStart_[i] = p.starttime;
    } else {
      for (int c = 0; c < ch::pid::count; ++c) v[c] = NAN;  // gone (or its pid reused): no values
    }
  }
}

void Sampler::sampleGpus(double* v, uint64_t t) {
  if (o_.gpus.empty()) return;
  if (gpuCadence_.due(t)) {
    const nvml::Api& a = nvml::api();
    for (size_t gi = 0; gi < o_.gpus.size(); ++gi) {
      using namespace ch::gpu;
      double* g = &lastGpu_[gi * count];
      nvml::Device d = nullptr;
      if (!a.handleByIndex || a.handleByIndex.fn(o_.gpus[gi], &d) != nvml::SUCCESS) {
        for (int j = 0; j < count; ++j) g[j] = NAN;
        continue;
      }
      nvml::Utilization u{};
      g[util] = a.utilization && a.utilization.fn(d, &u) == nvml::SUCCESS ? u.gpu / 100.0 : NAN;
      nvml::Memory m{};
      g[mem_used_bytes] = a.memory && a.memory.fn(d, &m) == nvml::SUCCESS ? static_cast<double>(m.used) : NAN;
      unsigned int x = 0;
      g[power_w] = a.powerUsage && a.powerUsage.fn(d, &x) == nvml::SUCCESS ? x / 1000.0 : NAN;
      g[sm_clock_mhz] = a.clock && a.clock.fn(d, nvml::kClockSm, &x) == nvml::SUCCESS ? static_cast<double>(x) : NAN;
      g[temp_c] = a.temperature && a.temperature.fn(d, nvml::kTemperatureGpu, &x) == nvml::SUCCESS
                      ? static_cast<double>(x)
                      : NAN;
      unsigned long long r = 0;
      bool rok = a.clocksEventReasons && a.clocksEventReasons.fn(d, &r) == nvml::SUCCESS;
      g[thermal_throttle] = rok ? ((r & (nvml::kReasonHwThermal | nvml::kReasonSwThermal)) ? 1.0 : 0.0) : NAN;
      g[power_throttle] =
          rok ? ((r & (nvml::kReasonSwPowerCap | nvml::kReasonHwPowerBrake | nvml::kReasonHwSlowdown)) ? 1.0 : 0.0)
              : NAN;
    }
  }
  for (size_t i = 0; i < lastGpu_.size(); ++i) v[i] = lastGpu_[i];
}

uint64_t Sampler::read(std::vector<double>& out) {
  uint64_t lost = ring_->readSince(readCursor_, out);
  droppedByReader_ += lost;
  return lost;
}

static ChannelStats summarize(const RunningStats& r) {
  return {r.count(), r.min(), r.max(), r.mean(), r.quantile(0.5), r.quantile(0.95), r.quantile(0.99)};
}

std::vector<ChannelStats> Sampler::window(double windowMs, uint64_t& count) const {
  std::vector<double> data;
  size_t want = static_cast<size_t>(windowMs * 1000.0 / static_cast<double>(o_.intervalUs)) + 2;
  ring_->latest(want, data);
  const size_t nch = channels_.size(), w = nch + 1, n = data.size() / w;
  double newest = n ? data[(n - 1) * w] : 0;
  size_t first = 0;
  while (first < n && newest - data[first * w] > windowMs) ++first;
  count = n - first;
  // Count, min, max and mean are exact over the window; the percentiles come from at most
  // kQuantileSamples evenly spaced samples, so a 60 s window at 1 kHz costs the JS thread a few
  // milliseconds instead of sorting 60,000 values per channel.
  const size_t stride = count > kQuantileSamples ? (count + kQuantileSamples - 1) / kQuantileSamples : 1;
  // One pass over the rows (the ring is row-major), accumulating every channel at once.
  std::vector<uint64_t> k(nch, 0);
  std::vector<double> sum(nch, 0), lo(nch, INFINITY), hi(nch, -INFINITY);
  std::vector<std::vector<double>> picked(nch);
  for (auto& p : picked) p.reserve(count / stride + 1);
  for (size_t i = first; i < n; ++i) {
    const double* row = &data[i * w + 1];
    const bool pick = (i - first) % stride == 0;
    for (size_t c = 0; c < nch; ++c) {
      double x = row[c];
      if (std::isnan(x)) continue;
      ++k[c];
      sum[c] += x;
      lo[c] = std::min(lo[c], x);
      hi[c] = std::max(hi[c], x);
      if (pick) picked[c].push_back(x);
    }
  }
  std::vector<ChannelStats> out(nch);
  for (size_t c = 0; c < nch; ++c) {
    std::sort(picked[c].begin(), picked[c].end());
    bool any = k[c] > 0;
    out[c] = {k[c],
              any ? lo[c] : NAN,
              any ? hi[c] : NAN,
              any ? sum[c] / static_cast<double>(k[c]) : NAN,
              RunningStats::quantileOfSorted(picked[c], 0.5),
              RunningStats::quantileOfSorted(picked[c], 0.95),
              RunningStats::quantileOfSorted(picked[c], 0.99)};
  }
  return out;
}

SamplerReport Sampler::snapshot() const {
  std::lock_guard<std::mutex> lock(statsMu_);
  SamplerReport rep;
  rep.channels = channels_;
  for (const RunningStats& s : stats_) rep.stats.push_back(summarize(s));
  rep.samples = samples_;
  rep.missedDeadlines = missed_;
  rep.dropped = droppedByReader_;
  rep.durationMs = static_cast<double>((endNs_ ? endNs_ : monotonicNowNs()) - startNs_) / 1e6;
  rep.threadCpuMs = threadCpuMs_;
  rep.intervalUs = summarize(gaps_);
  rep.warnings = warnings_;
  auto group = [&](const char* name, uint64_t us) { rep.readIntervalsUs.emplace_back(name, us); };
  if (o_.memory) group("memory", o_.intervalUs);
  if (o_.cpu) group("cpu", cpuCadence_.periodNs / 1000);
  if (o_.psi) group("psi", psiCadence_.periodNs / 1000);
  if (o_.cgroup) group("cgroup", cgroupCadence_.periodNs / 1000);
  if (!o_.pids.empty()) group("pids", o_.intervalUs);
  if (!o_.gpus.empty()) group("gpu", gpuCadence_.periodNs / 1000);
  if (scanner_) {
    group("processes", scanner_->options().intervalUs);
    rep.processScans = scanner_->scans();
    rep.processThreadCpuMs = scanner_->threadCpuMs();
  }
  return rep;
}

SamplerReport Sampler::stop() {
  if (running_.load()) {
    // The word first, then the wake-up: a thread about to wait compares the word with 0 inside the
    // kernel and returns at once if it changed, so it cannot miss the stop; a thread that is behind
    // never sleeps but checks the word every sample.
    stopWord_.store(1);
    futexWake(&stopWord_);
    if (thread_.joinable()) thread_.join();
    if (scanner_) scanner_->stop();
    std::lock_guard<std::mutex> lock(statsMu_);
    if (!endNs_) endNs_ = monotonicNowNs();
    running_.store(false);
  }
  return snapshot();
}

}  // namespace ovn
