// The sampler's process channel: scans the descendants of one root process (stat, status, io) on
// its own thread every intervalUs, and on demand, into a small ring of whole scans. Leak slopes and
// hang windows are built from these scans, so the JS thread never walks /proc for them. A scan of a
// few hundred processes takes milliseconds, which is why it does not run on the high-frequency
// thread: a 1 kHz loop would miss its deadlines.
// Thread: scanNow() from any thread (scans are serialized); read() from the JS thread; the periodic
// scans on the scanner's own thread, which sleeps on a condition variable so stop() is immediate.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "../proc/process_table.h"

namespace ovn {

struct ProcessScanOptions {
  int root = 0;             // descendants of this pid (not it)
  uint64_t intervalUs = 0;  // 0: only on demand (scanNow)
  size_t keep = 16;         // unread scans kept for a reader that falls behind
  bool io = true;           // read /proc/<pid>/io (progress counters for hang windows)
};

struct ProcessScan {
  uint64_t seq = 0;
  double monotonicMs = 0;  // CLOCK_MONOTONIC when the scan began
  std::vector<ProcessInfo> processes;
};

class ProcessScanner {
 public:
  explicit ProcessScanner(ProcessScanOptions o) : o_(o) {}
  ~ProcessScanner() { stop(); }
  ProcessScanner(const ProcessScanner&) = delete;
  ProcessScanner& operator=(const ProcessScanner&) = delete;

  const ProcessScanOptions& options() const { return o_; }
  void start();
  void stop();
  // Scans now and publishes the scan; returns its error (the scan is then not published).
  SysError scanNow();
  // Scans published since the previous read, oldest first; returns how many were lost to the ring.
  // Read scans leave the ring: one kept after it was read held a whole table of a burst that
  // had ended (16 scans of 2,000 rows) until 16 smaller scans pushed it out.
  uint64_t read(std::vector<ProcessScan>& out);
  // Rows of the scans not read yet (what the ring holds).
  size_t heldRows() const;
  uint64_t scans() const;
  double threadCpuMs() const;

 private:
  void run();

  ProcessScanOptions o_;
  ProcessTable table_;
  std::mutex scanMu_;      // one scan at a time, published in order
  mutable std::mutex mu_;  // ring_, seq_, readSeq_, stop_, threadCpuMs_
  std::condition_variable cv_;
  std::deque<ProcessScan> ring_;
  uint64_t seq_ = 0, readSeq_ = 0;
  bool stop_ = false;
  double threadCpuMs_ = 0;
  std::thread thread_;
};

}  // namespace ovn
