/* The C limit for a GPU sample: the same NVML calls the addon makes per GPU, made directly against
 * the same library (dlopen), with nothing else. Prints {"medianUs","p99Us","devices"} per full
 * sample of all GPUs.   usage: nvml_limit <libnvidia-ml path> <iterations> */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*f0)(void);
typedef int (*fu)(unsigned *);
typedef int (*fh)(unsigned, void **);
typedef int (*fds)(void *, char *, unsigned);
typedef int (*fdp)(void *, void *);
typedef int (*fdiu)(void *, int, unsigned *);
typedef int (*fdu)(void *, unsigned *);
typedef int (*fdi)(void *, int *);
typedef int (*fdull)(void *, unsigned long long *);
typedef int (*fecc)(void *, int, int, unsigned long long *);
typedef int (*fret)(void *, int, unsigned *, unsigned long long *);
typedef int (*frr)(void *, unsigned *, unsigned *, unsigned *, unsigned *);
typedef int (*fproc)(void *, unsigned *, void *);
typedef int (*ffv)(void *, int, void *);
typedef int (*flu)(void *, unsigned, unsigned *);
typedef int (*flp)(void *, unsigned, void *);
typedef int (*flc)(void *, unsigned, int, unsigned long long *);

static double nowUs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
#define SYM(t, n) t n = (t)dlsym(h, #n)
#define SYM2(t, n, a, b) t n = (t)(dlsym(h, a) ? dlsym(h, a) : dlsym(h, b))

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  int iters = atoi(argv[2]);
  SYM2(f0, init, "nvmlInit_v2", "nvmlInit");
  SYM2(fu, count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
  SYM2(fh, handle, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
  SYM(fds, nvmlDeviceGetName); SYM(fds, nvmlDeviceGetUUID);
  SYM(fdp, nvmlDeviceGetMemoryInfo_v2); SYM(fdp, nvmlDeviceGetUtilizationRates); SYM(fdp, nvmlDeviceGetPciInfo_v3);
  SYM(fdiu, nvmlDeviceGetTemperature); SYM(fdiu, nvmlDeviceGetTemperatureThreshold); SYM(fdiu, nvmlDeviceGetClockInfo);
  SYM(fdu, nvmlDeviceGetPowerUsage); SYM(fdu, nvmlDeviceGetEnforcedPowerLimit);
  SYM(fdu, nvmlDeviceGetPcieReplayCounter);
  SYM2(fdull, reasons, "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons");
  SYM(fecc, nvmlDeviceGetTotalEccErrors); SYM(fret, nvmlDeviceGetRetiredPages);
  SYM(fdi, nvmlDeviceGetRetiredPagesPendingStatus);
  SYM(frr, nvmlDeviceGetRemappedRows); SYM(fdi, nvmlDeviceGetPerformanceState); SYM(fdi, nvmlDeviceGetPersistenceMode);
  SYM(fdi, nvmlDeviceGetComputeMode); SYM(fproc, nvmlDeviceGetComputeRunningProcesses_v3);
  SYM(ffv, nvmlDeviceGetFieldValues);
  SYM(flu, nvmlDeviceGetNvLinkState); SYM(flu, nvmlDeviceGetNvLinkVersion);
  SYM(flp, nvmlDeviceGetNvLinkRemotePciInfo_v2);
  SYM(flc, nvmlDeviceGetNvLinkErrorCounter); SYM(fdp, nvmlDeviceGetGpuFabricInfoV);
  if (init() != 0) { fprintf(stderr, "init failed\n"); return 1; }
  unsigned n = 0;
  count(&n);
  double *t = malloc(sizeof(double) * iters);
  char buf[96];
  unsigned char big[64];
  unsigned u, a, b, c2, d;
  int i32;
  unsigned long long ull;
  unsigned char procs[32 * 64];
  for (int it = 0; it < iters; it++) {
    double t0 = nowUs();
    for (unsigned i = 0; i < n; i++) {
      void *dv;
      if (handle(i, &dv)) continue;
      nvmlDeviceGetUUID(dv, buf, sizeof buf);
      nvmlDeviceGetName(dv, buf, sizeof buf);
      memset(big, 0, sizeof big);
      *(unsigned *)big = 40 | (2u << 24);
      if (nvmlDeviceGetMemoryInfo_v2) nvmlDeviceGetMemoryInfo_v2(dv, big);
      nvmlDeviceGetUtilizationRates(dv, big);
      nvmlDeviceGetTemperature(dv, 0, &u);
      nvmlDeviceGetPowerUsage(dv, &u);
      if (nvmlDeviceGetPciInfo_v3) nvmlDeviceGetPciInfo_v3(dv, big);
      nvmlDeviceGetTemperatureThreshold(dv, 1, &u);
      nvmlDeviceGetTemperatureThreshold(dv, 0, &u);
      nvmlDeviceGetTemperatureThreshold(dv, 3, &u);
      nvmlDeviceGetEnforcedPowerLimit(dv, &u);
      nvmlDeviceGetClockInfo(dv, 1, &u);
      nvmlDeviceGetClockInfo(dv, 2, &u);
      nvmlDeviceGetClockInfo(dv, 0, &u);
      reasons(dv, &ull);
      for (int e = 0; e < 2; e++) for (int k = 0; k < 2; k++) nvmlDeviceGetTotalEccErrors(dv, e, k, &ull);
      u = 0; nvmlDeviceGetRetiredPages(dv, 0, &u, NULL);
      u = 0; nvmlDeviceGetRetiredPages(dv, 1, &u, NULL);
      nvmlDeviceGetRetiredPagesPendingStatus(dv, &i32);
      if (nvmlDeviceGetRemappedRows) nvmlDeviceGetRemappedRows(dv, &a, &b, &c2, &d);
      nvmlDeviceGetPcieReplayCounter(dv, &u);
      nvmlDeviceGetPerformanceState(dv, &i32);
      nvmlDeviceGetPersistenceMode(dv, &i32);
      nvmlDeviceGetComputeMode(dv, &i32);
      if (nvmlDeviceGetFieldValues) {
        memset(big, 0, sizeof big); *(unsigned *)big = 230; nvmlDeviceGetFieldValues(dv, 1, big);
      }
      /* NVLink and fabric, as the addon reads them: link 0 NOT_SUPPORTED ends the walk (PCIe-only). */
      for (unsigned l = 0; nvmlDeviceGetNvLinkState && l < 18; l++) {
        int r = nvmlDeviceGetNvLinkState(dv, l, &u);
        if (l == 0 && r == 3) break;
        if (r != 0) continue;
        nvmlDeviceGetNvLinkVersion(dv, l, &u);
        if (nvmlDeviceGetNvLinkRemotePciInfo_v2) nvmlDeviceGetNvLinkRemotePciInfo_v2(dv, l, big);
        for (int k = 0; k < 4; k++) nvmlDeviceGetNvLinkErrorCounter(dv, l, k, &ull);
      }
      if (nvmlDeviceGetGpuFabricInfoV) {
        memset(big, 0, sizeof big); *(unsigned *)big = 36 | (2u << 24); nvmlDeviceGetGpuFabricInfoV(dv, big);
      }
      u = 0;
      if (nvmlDeviceGetComputeRunningProcesses_v3) {
        nvmlDeviceGetComputeRunningProcesses_v3(dv, &u, NULL);
        if (u) { u = 64; nvmlDeviceGetComputeRunningProcesses_v3(dv, &u, procs); }
      }
    }
    t[it] = nowUs() - t0;
  }
  qsort(t, iters, sizeof(double), cmp);
  printf("{\"medianUs\":%.3f,\"p99Us\":%.3f,\"devices\":%u", t[iters / 2], t[(int)(iters * 0.99)], n);
  /* Per-call medians on GPU 0: what each NVML query costs with this driver. */
  if (argc > 3 && !strcmp(argv[3], "percall") && n) {
    void *dv;
    handle(0, &dv);
    double *c = malloc(sizeof(double) * iters);
    int first = 1;
    printf(",\"perCallUs\":{");
#define PERCALL(label, expr)                                   \
    do {                                                       \
      for (int k = 0; k < iters; k++) {                        \
        double t_start = nowUs();                              \
        expr;                                                  \
        c[k] = nowUs() - t_start;                              \
      }                                                        \
      qsort(c, iters, sizeof(double), cmp);                    \
      printf("%s\"%s\":%.2f", first ? "" : ",", label, c[iters / 2]); \
      first = 0;                                               \
    } while (0)
    PERCALL("uuid", nvmlDeviceGetUUID(dv, buf, sizeof buf));
    PERCALL("memoryInfo_v2", if (nvmlDeviceGetMemoryInfo_v2) nvmlDeviceGetMemoryInfo_v2(dv, big));
    PERCALL("utilization", nvmlDeviceGetUtilizationRates(dv, big));
    PERCALL("temperature", nvmlDeviceGetTemperature(dv, 0, &u));
    PERCALL("powerUsage", nvmlDeviceGetPowerUsage(dv, &u));
    PERCALL("pciInfo_v3", if (nvmlDeviceGetPciInfo_v3) nvmlDeviceGetPciInfo_v3(dv, big));
    PERCALL("clockInfo_sm", nvmlDeviceGetClockInfo(dv, 1, &u));
    PERCALL("clocksEventReasons", reasons(dv, &ull));
    PERCALL("totalEccErrors", nvmlDeviceGetTotalEccErrors(dv, 1, 0, &ull));
    PERCALL("retiredPages", (u = 0, nvmlDeviceGetRetiredPages(dv, 0, &u, NULL)));
    PERCALL("remappedRows", if (nvmlDeviceGetRemappedRows) nvmlDeviceGetRemappedRows(dv, &a, &b, &c2, &d));
    PERCALL("pcieReplayCounter", nvmlDeviceGetPcieReplayCounter(dv, &u));
    PERCALL("performanceState", nvmlDeviceGetPerformanceState(dv, &i32));
    PERCALL("computeRunningProcesses_v3", (u = 0, nvmlDeviceGetComputeRunningProcesses_v3
                                                      ? nvmlDeviceGetComputeRunningProcesses_v3(dv, &u, NULL)
                                                      : 0));
    PERCALL("fieldValues_recoveryAction", if (nvmlDeviceGetFieldValues) {
      memset(big, 0, sizeof big); *(unsigned *)big = 230; nvmlDeviceGetFieldValues(dv, 1, big);
    });
    PERCALL("nvLinkState", if (nvmlDeviceGetNvLinkState) nvmlDeviceGetNvLinkState(dv, 0, &u));
    PERCALL("gpuFabricInfoV", if (nvmlDeviceGetGpuFabricInfoV) {
      memset(big, 0, sizeof big); *(unsigned *)big = 36 | (2u << 24); nvmlDeviceGetGpuFabricInfoV(dv, big);
    });
    printf("}");
  }
  printf("}\n");
  return 0;
}
