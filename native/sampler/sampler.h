// The high-frequency sampler: a native thread that samples the chosen signals at a fixed interval
// (absolute CLOCK_MONOTONIC deadlines, waited for in a futex wait so that stop() wakes the thread
// at once instead of after up to one interval) into a SampleRing, keeping per-channel
// running statistics and the achieved interval. The JS thread never waits on it: it reads batches
// and windows, and starting and stopping allocate and free everything.
// Each signal group is re-read at most as often as its source can change (CPU times count in
// USER_HZ ticks, PSI averages move every 2 s, cgroup CPU throttling once per CFS period); between
// reads a channel repeats its last value. With no host, pid or GPU signal the thread is not started
// (a sampler used only for its process scans costs nothing between scans).
// Thread: start/stop/read/stats from the JS thread; sampling on the sampler's own thread; process
// scans on the ProcessScanner's thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../proc/host_reader.h"
#include "../proc/kept_open_file.h"
#include "cpu_stat_head.h"
#include "meminfo_head.h"
#include "process_scanner.h"
#include "running_stats.h"
#include "sample_ring.h"

namespace ovn {

struct SamplerOptions {
  uint64_t intervalUs = 1000;
  bool memory = true, cpu = true, psi = true, cgroup = false;
  std::vector<int> pids;
  std::vector<unsigned> gpus;
  bool allGpus = false;
  // How often each group is read; -1: the default (see Sampler::Sampler), 0: every sample.
  int64_t cpuIntervalUs = -1, psiIntervalUs = -1, cgroupIntervalUs = -1;
  uint64_t gpuIntervalUs = 0;                        // 0 = every sample
  ProcessScanOptions processes = {-1, 0, 16, true};  // root < 0: no process scans
  size_t ringSize = 0;                               // 0 (absent from JS) = 60 s of samples, in [16, 1M]
  bool realtime = false;  // SCHED_FIFO priority 1 for the sampling thread (needs CAP_SYS_NICE)
};

struct ChannelStats {
  uint64_t count;
  double min, max, mean, p50, p95, p99;
};

struct SamplerReport {
  std::vector<std::string> channels;
  std::vector<ChannelStats> stats;
  uint64_t samples = 0, missedDeadlines = 0, dropped = 0;
  double durationMs = 0, threadCpuMs = 0;
  ChannelStats intervalUs{};                                      // achieved gap between samples
  std::vector<std::pair<std::string, uint64_t>> readIntervalsUs;  // per signal group
  uint64_t processScans = 0;
  double processThreadCpuMs = 0;
  std::vector<std::string> warnings;
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions opts);
  ~Sampler();
  const std::vector<std::string>& channels() const { return channels_; }
  void start();
  // Stops and joins the thread; returns the run's report. Idempotent.
  SamplerReport stop();
  bool running() const { return running_.load(); }
  // New samples since the previous read (timestamp ms, then one value per channel, per sample).
  uint64_t read(std::vector<double>& out);
  // Percentiles of a window come from at most this many evenly spaced samples per channel.
  static constexpr size_t kQuantileSamples = 4096;
  // Statistics over the samples of the last `windowMs` (from the ring): count, min, max and mean
  // exact; percentiles exact up to kQuantileSamples samples, from evenly spaced ones beyond.
  std::vector<ChannelStats> window(double windowMs, uint64_t& count) const;
  SamplerReport snapshot() const;
  // The process channel (null when not configured).
  ProcessScanner* processes() { return scanner_.get(); }

 private:
  void run();
  void prepareThread();
  void sampleOnce(double* values, uint64_t nowNs);
  void buildChannels();
  void sampleHost(double* v, uint64_t t);
  void readMemory(double* h);
  void readCpu(double* h, uint64_t t);
  void readPsi(double* h, uint64_t t);
  void readCgroup(double* h);
  void samplePids(double* v, uint64_t t, double dt);
  void sampleGpus(double* v, uint64_t t);

  // A signal group's read schedule: due every periodNs, at the sample within slackNs (half a
  // sample) of its slot.
  struct Cadence {
    uint64_t periodNs = 0, slackNs = 0, nextNs = 0;
    bool due(uint64_t t);
  };

  SamplerOptions o_;
  std::vector<std::string> channels_;
  std::unique_ptr<SampleRing> ring_;
  std::atomic<bool> running_{false};
  // 1 once stop() was called. The sampling thread sleeps in a futex wait on this word with an
  // absolute CLOCK_MONOTONIC deadline, so stop() wakes it at once (it sets the word, then wakes the
  // futex). A condition variable did the same with one more syscall a sample: in a multi-threaded
  // process glibc re-takes its mutex after a timed-out wait as contended, so every unlock was a
  // FUTEX_WAKE the C loop (single-threaded, where glibc skips that) never paid; and its bookkeeping
  // (group references, cancellation) ran every sample too.
  std::atomic<uint32_t> stopWord_{0};
  std::thread thread_;
  uint64_t readCursor_ = 0;
  uint64_t droppedByReader_ = 0;

  // Sampler-thread state. The memory, CPU and PSI groups are read here from kept-open files into
  // one reused buffer and parsed for their channels only (no HostSample, no mutex, no map lookup
  // by path a read); the cgroup group, read every 10 ms, goes through a HostReader.
  KeptOpenFile memFile_{"/proc/meminfo"}, statFile_{"/proc/stat"};
  MemInfoOffsets memOffsets_;  // where the memory lines were in the previous read
  KeptOpenFile psiFiles_[3] = {KeptOpenFile("/proc/pressure/cpu"), KeptOpenFile("/proc/pressure/memory"),
                               KeptOpenFile("/proc/pressure/io")};
  CpuStatHead cpuStat_;    // the aggregate line and scheduler counters of the last read
  CpuTimes prevCpuTimes_;  // the utilization baseline (kept while no jiffy has passed)
  bool havePrevCpuTimes_ = false;
  HostReader host_;
  HostOptions cgroupOpts_;
  std::unique_ptr<ProcessScanner> scanner_;
  Cadence cpuCadence_, psiCadence_, cgroupCadence_, gpuCadence_;
  std::vector<double> hostLast_;  // the host channels' latest values, repeated between reads
  uint64_t prevCpuNs_ = 0, prevPsiNs_ = 0;
  std::vector<std::unique_ptr<KeptOpenFile>> pidStat_;
  std::vector<uint64_t> pidPrevTicks_;
  std::vector<uint64_t> pidStart_;
  uint64_t prevNs_ = 0;
  uint64_t prevPsiMemTotal_ = 0, prevPeriods_ = 0, prevThrottled_ = 0, prevCtxt_ = 0;
  bool havePrev_ = false, havePrevCpu_ = false, havePrevPsi_ = false;
  std::vector<double> lastGpu_;
  std::string buf_;
  uint64_t rng_ = 0x9E3779B97F4A7C15ULL;

  mutable std::mutex statsMu_;
  std::vector<RunningStats> stats_;
  RunningStats gaps_;
  uint64_t samples_ = 0, missed_ = 0, startNs_ = 0, endNs_ = 0;
  double threadCpuMs_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace ovn
