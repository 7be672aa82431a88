// The high-frequency sampler: a native thread that samples the chosen signals at a fixed interval
// (clock_nanosleep on absolute CLOCK_MONOTONIC deadlines) into a SampleRing, keeping per-channel
// running statistics and the achieved interval. The JS thread never waits on it: it reads batches
// and windows, and starting and stopping allocate and free everything.
// Thread: start/stop/read/stats from the JS thread; sampling on the sampler's own thread.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../proc/host_reader.h"
#include "../proc/kept_open_file.h"
#include "running_stats.h"
#include "sample_ring.h"

namespace ovn {

struct SamplerOptions {
  uint64_t intervalUs = 1000;
  bool memory = true, cpu = true, psi = true, cgroup = false;
  std::vector<int> pids;
  std::vector<unsigned> gpus;
  bool allGpus = false;
  uint64_t gpuIntervalUs = 0;  // 0 = every sample
  size_t ringSize = 0;         // 0 = 60 s of samples, capped at 1M
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
  ChannelStats intervalUs{};  // achieved gap between samples
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
  // Statistics over the samples of the last `windowMs` (from the ring).
  std::vector<ChannelStats> window(double windowMs, uint64_t& count) const;
  SamplerReport snapshot() const;
  uint64_t written() const { return ring_ ? ring_->written() : 0; }

 private:
  void run();
  void sampleOnce(double* values, uint64_t nowNs);
  void buildChannels();

  SamplerOptions o_;
  std::vector<std::string> channels_;
  std::unique_ptr<SampleRing> ring_;
  std::atomic<bool> running_{false}, stop_{false};
  std::thread thread_;
  uint64_t readCursor_ = 0;
  uint64_t droppedByReader_ = 0;

  // Sampler-thread state.
  HostReader host_;
  HostOptions hostOpts_;
  std::vector<std::unique_ptr<KeptOpenFile>> pidStat_;
  std::vector<uint64_t> pidPrevTicks_;
  std::vector<uint64_t> pidStart_;
  uint64_t prevNs_ = 0, lastGpuNs_ = 0;
  uint64_t prevPsiMemTotal_ = 0, prevPeriods_ = 0, prevThrottled_ = 0, prevCtxt_ = 0;
  bool havePrev_ = false;
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
