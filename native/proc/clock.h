// The clocks every native part reads: CLOCK_MONOTONIC (timestamps of samples and scans, deadlines,
// elapsed times; the same clock as libuv's hrtime, so JS can map them), CLOCK_REALTIME, and the
// calling thread's CPU time. vDSO calls (~20 ns), safe on any thread.
#pragma once
#include <time.h>

#include <cstdint>

namespace ovn {

inline uint64_t clockNowNs(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t monotonicNowNs() { return clockNowNs(CLOCK_MONOTONIC); }
inline double monotonicNowUs() { return static_cast<double>(monotonicNowNs()) / 1e3; }
inline double monotonicNowMs() { return static_cast<double>(monotonicNowNs()) / 1e6; }
// Milliseconds since the epoch.
inline double wallNowMs() { return static_cast<double>(clockNowNs(CLOCK_REALTIME)) / 1e6; }
// CPU time the calling thread has used.
inline double currentThreadCpuMs() { return static_cast<double>(clockNowNs(CLOCK_THREAD_CPUTIME_ID)) / 1e6; }

}  // namespace ovn
