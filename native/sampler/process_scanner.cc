#include "process_scanner.h"

#include <pthread.h>

#include <chrono>

#include "../proc/clock.h"

namespace ovn {

void ProcessScanner::start() {
  if (o_.intervalUs == 0 || thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void ProcessScanner::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProcessScanner::run() {
  pthread_setname_np(pthread_self(), "ovn-procscan");
  // steady_clock is CLOCK_MONOTONIC on Linux; wait_until on it is a futex with an absolute deadline.
  auto next = std::chrono::steady_clock::now();
  const auto period = std::chrono::microseconds(o_.intervalUs);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    scanNow();  // an error (no /proc) is retried at the next period
    lock.lock();
    next += period;
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + period;  // fell behind: no burst of catch-up scans
    cv_.wait_until(lock, next, [this] { return stop_; });
  }
  threadCpuMs_ = currentThreadCpuMs();
}

SysError ProcessScanner::scanNow() {
  std::lock_guard<std::mutex> scanLock(scanMu_);
  ProcessScan scan;
  scan.monotonicMs = monotonicNowMs();
  ProcessReadOptions opts;
  opts.status = true;
  opts.io = o_.io;
  // With a root, the table keeps only its descendants (status and io read for them alone).
  SysError e = table_.scan(opts, scan.processes, o_.root, false);
  if (!e.ok()) return e;
  std::lock_guard<std::mutex> lock(mu_);
  scan.seq = ++seq_;
  ring_.push_back(std::move(scan));
  while (ring_.size() > o_.keep) ring_.pop_front();
  return {};
}

uint64_t ProcessScanner::read(std::vector<ProcessScan>& out) {
  out.clear();
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t lost = 0;
  for (ProcessScan& s : ring_) {
    if (s.seq <= readSeq_) continue;
    if (out.empty() && s.seq > readSeq_ + 1) lost = s.seq - readSeq_ - 1;
    out.push_back(std::move(s));
  }
  if (ring_.empty() && seq_ > readSeq_) lost = seq_ - readSeq_;
  readSeq_ = seq_;
  // Every scan in the ring has now been read: none is kept (they are moved out, not copied).
  ring_.clear();
  ring_.shrink_to_fit();
  return lost;
}

size_t ProcessScanner::heldRows() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const ProcessScan& s : ring_) n += s.processes.size();
  return n;
}

uint64_t ProcessScanner::scans() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seq_;
}

double ProcessScanner::threadCpuMs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threadCpuMs_;
}

}  // namespace ovn
