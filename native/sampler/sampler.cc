#include "sampler.h"

#include <time.h>

#include <cmath>
#include <cstdio>

#include "../nvml/gpu_reader.h"
#include "../nvml/nvml_loader.h"
#include "../proc/process.h"

namespace ovn {
namespace {

uint64_t nowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

constexpr int kGpuChannels = 7;

}  // namespace

Sampler::Sampler(SamplerOptions o) : o_(std::move(o)) {
  if (o_.intervalUs < 50) o_.intervalUs = 50;
  hostOpts_.memory = o_.memory;
  hostOpts_.cpu = o_.cpu;
  hostOpts_.perCpu = false;
  hostOpts_.psi = o_.psi;
  hostOpts_.cgroup = o_.cgroup;
  hostOpts_.load = false;  // loadavg and uptime add two reads per sample and change only every 5 s
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
  buildChannels();
  size_t ring = o_.ringSize ? o_.ringSize : static_cast<size_t>(60'000'000 / o_.intervalUs);
  if (ring > 1'000'000) ring = 1'000'000;
  if (ring < 16) ring = 16;
  ring_ = std::make_unique<SampleRing>(ring, channels_.size());
  stats_.assign(channels_.size(), RunningStats());
  lastGpu_.assign(o_.gpus.size() * kGpuChannels, NAN);
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
  if (o_.memory) for (const char* c : {"mem_used_bytes", "mem_available_bytes", "swap_used_bytes"}) add(c);
  if (o_.cpu)
    for (const char* c : {"cpu_busy", "cpu_user", "cpu_system", "cpu_iowait", "cpu_steal", "procs_running", "procs_blocked", "ctxt_per_s"}) add(c);
  if (o_.psi)
    for (const char* c : {"psi_cpu_some_avg10", "psi_memory_some_avg10", "psi_memory_full_avg10", "psi_io_some_avg10", "psi_memory_stall_frac"}) add(c);
  if (o_.cgroup)
    for (const char* c : {"cg_mem_usage_bytes", "cg_mem_working_set_bytes", "cg_mem_limit_bytes", "cg_mem_max_events", "cg_oom_kills", "cg_failcnt", "cg_cpu_throttled_frac"}) add(c);
  for (int pid : o_.pids)
    for (const char* c : {"_cpu_cores", "_rss_bytes", "_state"}) add("pid" + std::to_string(pid) + c);
  for (unsigned g : o_.gpus)
    for (const char* c : {"_util", "_mem_used_bytes", "_power_w", "_sm_clock_mhz", "_temp_c", "_thermal_throttle", "_power_throttle"})
      add("gpu" + std::to_string(g) + c);
}

void Sampler::start() {
  if (running_.load()) return;
  stop_.store(false);
  running_.store(true);
  startNs_ = nowNs();
  thread_ = std::thread([this] { run(); });
}

void Sampler::run() {
  const uint64_t interval = o_.intervalUs * 1000;
  uint64_t next = nowNs();
  uint64_t last = 0;
  std::vector<double> values(channels_.size());
  while (!stop_.load(std::memory_order_relaxed)) {
    struct timespec ts {static_cast<time_t>(next / 1000000000ULL), static_cast<long>(next % 1000000000ULL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    if (stop_.load(std::memory_order_relaxed)) break;
    uint64_t t = nowNs();
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
    uint64_t after = nowNs();
    if (after > next + interval) {
      // Fell behind (a slow read, a preempted thread): skip the missed deadlines instead of bursting.
      uint64_t behind = (after - next) / interval;
      std::lock_guard<std::mutex> lock(statsMu_);
      missed_ += behind;
      next += behind * interval;
    }
  }
  struct timespec cpu;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
  std::lock_guard<std::mutex> lock(statsMu_);
  threadCpuMs_ = static_cast<double>(cpu.tv_sec) * 1e3 + static_cast<double>(cpu.tv_nsec) / 1e6;
  endNs_ = nowNs();
}

void Sampler::sampleOnce(double* v, uint64_t t) {
  size_t k = 0;
  double dt = havePrev_ ? static_cast<double>(t - prevNs_) / 1e9 : 0;
  if (o_.memory || o_.cpu || o_.psi || o_.cgroup) {
    HostSample s;
    host_.sample(hostOpts_, s);
    if (o_.memory) {
      const MemInfo& m = s.memory.value;
      bool ok = s.memory.available;
      v[k++] = ok ? static_cast<double>(m.used()) : NAN;
      v[k++] = ok ? static_cast<double>(m.available) : NAN;
      v[k++] = ok ? static_cast<double>(m.swapTotal - m.swapFree) : NAN;
    }
    if (o_.cpu) {
      const CpuUtilization& u = s.utilization;
      bool ok = s.hasUtilization;
      v[k++] = ok ? u.busy : NAN;
      v[k++] = ok ? u.user : NAN;
      v[k++] = ok ? u.system : NAN;
      v[k++] = ok ? u.iowait : NAN;
      v[k++] = ok ? u.steal : NAN;
      v[k++] = s.cpu.available ? static_cast<double>(s.cpu.value.procsRunning) : NAN;
      v[k++] = s.cpu.available ? static_cast<double>(s.cpu.value.procsBlocked) : NAN;
      v[k++] = s.cpu.available && havePrev_ && dt > 0 ? static_cast<double>(s.cpu.value.ctxt - prevCtxt_) / dt : NAN;
      if (s.cpu.available) prevCtxt_ = s.cpu.value.ctxt;
    }
    if (o_.psi) {
      v[k++] = s.psiCpu.available ? s.psiCpu.value.some.avg10 : NAN;
      v[k++] = s.psiMemory.available ? s.psiMemory.value.some.avg10 : NAN;
      v[k++] = s.psiMemory.available && s.psiMemory.value.full.present ? s.psiMemory.value.full.avg10 : NAN;
      v[k++] = s.psiIo.available ? s.psiIo.value.some.avg10 : NAN;
      uint64_t tot = s.psiMemory.available ? s.psiMemory.value.some.totalUs : 0;
      v[k++] = s.psiMemory.available && havePrev_ && dt > 0 ? static_cast<double>(tot - prevPsiMemTotal_) / (dt * 1e6) : NAN;
      prevPsiMemTotal_ = tot;
    }
    if (o_.cgroup) {
      bool ok = s.cgroup.available;
      const CgroupMemory& m = s.cgroup.value.memory;
      const CgroupCpu& c = s.cgroup.value.cpu;
      v[k++] = ok && m.hasUsage ? static_cast<double>(m.usage) : NAN;
      v[k++] = ok && m.hasUsage && m.hasStat ? static_cast<double>(m.workingSet()) : NAN;
      v[k++] = ok && m.hasLimit && m.limit != kUnlimited ? static_cast<double>(m.limit) : NAN;
      v[k++] = ok && m.hasEvents ? static_cast<double>(m.eventsMax) : NAN;
      v[k++] = ok && m.hasEvents ? static_cast<double>(m.eventsOomKill) : NAN;
      v[k++] = ok && m.hasFailcnt ? static_cast<double>(m.failcnt) : NAN;
      bool cpuOk = ok && c.hasStat && havePrev_ && c.nrPeriods > prevPeriods_;
      v[k++] = cpuOk ? static_cast<double>(c.nrThrottled - prevThrottled_) / static_cast<double>(c.nrPeriods - prevPeriods_) : NAN;
      if (ok && c.hasStat) {
        prevPeriods_ = c.nrPeriods;
        prevThrottled_ = c.nrThrottled;
      }
    }
  }
  static const double hz = static_cast<double>(clockTicksPerSecond());
  for (size_t i = 0; i < o_.pids.size(); ++i) {
    ProcessInfo p;
    SysError e = pidStat_[i]->read(buf_);
    if (e.ok() && parseProcStat(buf_, p) && (pidStart_[i] == 0 || p.starttime == pidStart_[i])) {
      uint64_t ticks = p.utime + p.stime;
      v[k++] = pidStart_[i] && dt > 0 ? (static_cast<double>(ticks - pidPrevTicks_[i]) / hz) / dt : NAN;
      v[k++] = static_cast<double>(p.rss);
      v[k++] = static_cast<double>(p.state);
      pidPrevTicks_[i] = ticks;
      pidStart_[i] = p.starttime;
    } else {
      v[k++] = NAN;  // gone (or its pid reused): no values
      v[k++] = NAN;
      v[k++] = NAN;
    }
  }
  if (!o_.gpus.empty()) {
    bool due = o_.gpuIntervalUs == 0 || t - lastGpuNs_ >= o_.gpuIntervalUs * 1000;
    if (due) {
      lastGpuNs_ = t;
      const nvml::Api& a = nvml::api();
      for (size_t gi = 0; gi < o_.gpus.size(); ++gi) {
        double* g = &lastGpu_[gi * kGpuChannels];
        nvml::Device d = nullptr;
        if (!a.handleByIndex || a.handleByIndex.fn(o_.gpus[gi], &d) != nvml::SUCCESS) {
          for (int j = 0; j < kGpuChannels; ++j) g[j] = NAN;
          continue;
        }
        nvml::Utilization u{};
        g[0] = a.utilization && a.utilization.fn(d, &u) == nvml::SUCCESS ? u.gpu / 100.0 : NAN;
        nvml::Memory m{};
        g[1] = a.memory && a.memory.fn(d, &m) == nvml::SUCCESS ? static_cast<double>(m.used) : NAN;
        unsigned int x = 0;
        g[2] = a.powerUsage && a.powerUsage.fn(d, &x) == nvml::SUCCESS ? x / 1000.0 : NAN;
        g[3] = a.clock && a.clock.fn(d, nvml::kClockSm, &x) == nvml::SUCCESS ? static_cast<double>(x) : NAN;
        g[4] = a.temperature && a.temperature.fn(d, nvml::kTemperatureGpu, &x) == nvml::SUCCESS ? static_cast<double>(x) : NAN;
        unsigned long long r = 0;
        bool rok = a.clocksEventReasons && a.clocksEventReasons.fn(d, &r) == nvml::SUCCESS;
        g[5] = rok ? ((r & (nvml::kReasonHwThermal | nvml::kReasonSwThermal)) ? 1.0 : 0.0) : NAN;
        g[6] = rok ? ((r & (nvml::kReasonSwPowerCap | nvml::kReasonHwPowerBrake | nvml::kReasonHwSlowdown)) ? 1.0 : 0.0) : NAN;
      }
    }
    for (double x : lastGpu_) v[k++] = x;
  }
  prevNs_ = t;
  havePrev_ = true;
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
  size_t w = channels_.size() + 1;
  size_t n = data.size() / w;
  double newest = n ? data[(n - 1) * w] : 0;
  std::vector<ChannelStats> out(channels_.size());
  count = 0;
  std::vector<std::vector<double>> cols(channels_.size());
  for (size_t i = 0; i < n; ++i) {
    if (newest - data[i * w] > windowMs) continue;
    ++count;
    for (size_t c = 0; c < channels_.size(); ++c) cols[c].push_back(data[i * w + 1 + c]);
  }
  for (size_t c = 0; c < channels_.size(); ++c) {
    RunningStats r(cols[c].size() + 1);
    uint64_t rng = 1;
    for (double x : cols[c]) r.add(x, rng);
    out[c] = summarize(r);
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
  rep.durationMs = static_cast<double>((endNs_ ? endNs_ : nowNs()) - startNs_) / 1e6;
  rep.threadCpuMs = threadCpuMs_;
  rep.intervalUs = summarize(gaps_);
  rep.warnings = warnings_;
  return rep;
}

SamplerReport Sampler::stop() {
  if (running_.load()) {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    running_.store(false);
  }
  return snapshot();
}

}  // namespace ovn
