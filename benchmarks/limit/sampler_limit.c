// The physical limit of a sampling thread on this machine: wake on absolute CLOCK_MONOTONIC
// deadlines and pread the same files the sampler reads, at the same cadences, and nothing else (no
// parsing, no ring, no statistics). It waits the way native/sampler/sampler.cc does: a futex wait
// with an absolute monotonic deadline (FUTEX_WAIT_BITSET) on a word nobody changes, one syscall a
// sample, with the thread's timer slack at 1 µs as the sampler sets it, so the floor it measures is
// the sampler's own. With SAMPLER_LIMIT_WAIT=condvar it waits as the sampler did before: a condition
// variable's timed wait on the monotonic clock (this process is single-threaded, so glibc skips the
// mutex's wake-up that the sampler paid every sample inside Node); with SAMPLER_LIMIT_WAIT=nanosleep
// it sleeps in clock_nanosleep(TIMER_ABSTIME), as the sampler did before stop() became wakeable;
// with SAMPLER_LIMIT_WAIT=timerfd it reads a periodic timerfd armed once (no timer set up per wake-up).
// SAMPLER_LIMIT_SLACK_NS sets the timer slack instead of 1 µs (the kernel's default is 50 µs), to measure what
// the sampler's prctl buys in jitter. Like the sampler, a wake-up more than one interval late skips the missed
// deadlines instead of bursting through them, so both take the same number of samples under load.
// Prints JSON: samples, thread CPU, duration, gap p50/p99.
// usage: sampler_limit <intervalUs> <durationMs> [<path>:<everyNthSample> ...]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned long long)t.tv_nsec;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const char* slack = getenv("SAMPLER_LIMIT_SLACK_NS");
  prctl(PR_SET_TIMERSLACK, slack ? strtoul(slack, 0, 10) : 1000UL, 0UL, 0UL, 0UL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_t cv;
  pthread_cond_init(&cv, &ca);
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  unsigned long long interval = strtoull(argv[1], 0, 10) * 1000ULL;
  unsigned long long duration = strtoull(argv[2], 0, 10) * 1000000ULL;
  if (!interval || !duration) return 2;
  const char* wait = getenv("SAMPLER_LIMIT_WAIT");
  int nanosleepWait = wait && !strcmp(wait, "nanosleep");
  int timerfdWait = wait && !strcmp(wait, "timerfd");
  int condvarWait = wait && !strcmp(wait, "condvar");
  unsigned int word = 0;  // the sampler's stop word: never changed here
  int n = argc - 3, fds[32], every[32];
  static char buf[1 << 16];
  if (n > 32) n = 32;
  for (int i = 0; i < n; i++) {
    char* colon = strrchr(argv[3 + i], ':');
    every[i] = colon ? atoi(colon + 1) : 1;
    if (every[i] < 1) every[i] = 1;
    if (colon) *colon = 0;
    fds[i] = open(argv[3 + i], O_RDONLY | O_CLOEXEC);
  }
  size_t cap = duration / interval + 16, count = 0;
  double* gaps = malloc(cap * sizeof(double));
  unsigned long long start = now_ns(CLOCK_MONOTONIC), next = start, last = 0, cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  int tfd = -1;
  if (timerfdWait) {
    // One periodic timer armed once: each wake-up is a read() of its expiration count, with no
    // timer to set up per sample.
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (tfd < 0) return 1;
    unsigned long long first = start + interval;
    struct itimerspec its = {{(time_t)(interval / 1000000000ULL), (long)(interval % 1000000000ULL)},
                             {(time_t)(first / 1000000000ULL), (long)(first % 1000000000ULL)}};
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) return 1;
  }
  for (unsigned long long k = 0; next - start < duration; k++) {
    next += interval;
    struct timespec d = {(time_t)(next / 1000000000ULL), (long)(next % 1000000000ULL)};
    if (timerfdWait) {
      unsigned long long expirations;
      while (read(tfd, &expirations, sizeof expirations) < 0 && errno == EINTR) {
      }
      if (expirations > 1) next += (expirations - 1) * interval;  // missed wake-ups are skipped, not replayed
    } else if (nanosleepWait) {
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL)) {
      }
    } else if (condvarWait) {
      pthread_mutex_lock(&mu);
      while (pthread_cond_timedwait(&cv, &mu, &d) != ETIMEDOUT) {
      }
      pthread_mutex_unlock(&mu);
    } else {
      while (syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0u, &d, NULL, FUTEX_BITSET_MATCH_ANY) != 0 &&
             errno != ETIMEDOUT) {
      }
    }
    unsigned long long t = now_ns(CLOCK_MONOTONIC);
    if (t >= next + interval) next += (t - next) / interval * interval;  // skip, as the sampler does
    for (int i = 0; i < n; i++)
      if (fds[i] >= 0 && k % (unsigned long long)every[i] == 0 && pread(fds[i], buf, sizeof buf, 0) < 0) return 1;
    if (last && count < cap) gaps[count++] = (double)(t - last) / 1000.0;
    last = t;
  }
  double cpuMs = (double)(now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1e6;
  double durMs = (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e6;
  qsort(gaps, count, sizeof(double), cmp);
  printf("{\"samples\":%zu,\"threadCpuMs\":%.3f,\"durationMs\":%.3f,\"gapP50\":%.1f,\"gapP99\":%.1f}\n",
         count + 1, cpuMs, durMs,
         count ? gaps[count / 2] : 0.0, count ? gaps[(size_t)(count * 0.99)] : 0.0);
  return 0;
}
