// The packed host sample's field tables, defined once. Each row X(kind, name, expr) says how one
// number is written and under which name JavaScript reads it back:
//   n: a number, u: an unsigned count, b: a boolean (1/0), o: an optional number (NaN = absent, null in JS).
// host_packed.cc writes the rows in order; hostLayout() exports the names and kinds, and
// src/sampling/packed-host.ts decodes each group by them, so a field added here needs no second
// list. Which groups come in which order (and the counts before repeated groups) is the sequence
// in packHostSample and unpackHostSample; test/unit/host-layout.test.ts checks both sides agree.
// `expr` is evaluated inside packHostSample, where m, c, l, up, line, t, x, gm, gc, u are bound.
#pragma once

// MemInfo m
// Tables below are laid out by hand (clang-format does not keep X-macro bodies stable).
// clang-format off
#define OVN_HOST_MEMORY(X)                                                                                      \
  X(u, total, m.total) X(u, free, m.free) X(u, available, m.available) X(u, used, m.used())                     \
  X(u, buffers, m.buffers) X(u, cached, m.cached) X(u, swapCached, m.swapCached) X(u, active, m.active)         \
  X(u, inactive, m.inactive) X(u, sReclaimable, m.sReclaimable) X(u, sUnreclaim, m.sUnreclaim)                  \
  X(u, shmem, m.shmem) X(u, anon, m.anon) X(u, mapped, m.mapped) X(u, dirty, m.dirty)                           \
  X(u, writeback, m.writeback) X(u, swapTotal, m.swapTotal) X(u, swapFree, m.swapFree)                          \
  X(u, commitLimit, m.commitLimit) X(u, committedAs, m.committedAs) X(u, hugePagesTotal, m.hugePagesTotal)      \
  X(u, hugePagesFree, m.hugePagesFree) X(u, hugePagesRsvd, m.hugePagesRsvd) X(u, hugePageSize, m.hugePageSize) \
  X(b, availableEstimated, !m.hasAvailable)

// CpuStat c (the scalars besides the times)
#define OVN_HOST_CPU_COUNTS(X)                                                       \
  X(u, ctxt, c.ctxt) X(u, processes, c.processes) X(u, procsRunning, c.procsRunning) \
  X(u, procsBlocked, c.procsBlocked) X(u, btime, c.btime)

// CpuTimes t (written after the CPU's number, -1 for all CPUs)
#define OVN_HOST_CPU_TIMES(X)                                                                                   \
  X(u, user, t.user) X(u, nice, t.nice) X(u, system, t.system) X(u, idle, t.idle)                \
  X(u, iowait, t.iowait) X(u, irq, t.irq) X(u, softirq, t.softirq) X(u, steal, t.steal) X(u, guest, t.guest)    \
  X(u, guestNice, t.guestNice)

// CpuUtilization x (written after the CPU's number, -1 for all CPUs)
#define OVN_HOST_CPU_UTIL(X)                                                                                    \
  X(n, busy, x.busy) X(n, user, x.user) X(n, nice, x.nice) X(n, system, x.system)                \
  X(n, idle, x.idle) X(n, iowait, x.iowait) X(n, irq, x.irq) X(n, softirq, x.softirq) X(n, steal, x.steal)      \
  X(n, guest, x.guest)

// LoadAvg l
#define OVN_HOST_LOAD(X)                                                                      \
  X(n, load1, l.load1) X(n, load5, l.load5) X(n, load15, l.load15) X(u, runnable, l.runnable) \
  X(u, threads, l.threads) X(u, lastPid, l.lastPid)

// Uptime up
#define OVN_HOST_UPTIME(X) X(n, uptimeSec, up.uptimeSec) X(n, idleSec, up.idleSec)

// PsiLine line (written after a "present" flag: a kernel may lack the "full" line)
#define OVN_HOST_PSI_LINE(X) \
  X(n, avg10, line.avg10) X(n, avg60, line.avg60) X(n, avg300, line.avg300) X(u, totalUs, line.totalUs)

// CgroupMemory gm
#define OVN_HOST_CG_MEMORY(X)                                                                                   \
  X(o, usage, opt(gm.hasUsage, gm.usage)) X(o, limit, opt(gm.hasLimit, gm.limit)) X(o, high, opt(gm.hasHigh, gm.high)) \
  X(o, workingSet, opt(gm.hasUsage && gm.hasStat, gm.workingSet())) X(o, swapUsage, opt(gm.hasSwap, gm.swapUsage)) \
  X(o, swapLimit, opt(gm.hasSwap, gm.swapLimit)) X(o, failcnt, opt(gm.hasFailcnt, gm.failcnt))                 \
  X(o, maxUsage, opt(gm.source == "v1", gm.maxUsage))

#define OVN_HOST_CG_EVENTS(X)                                                                                   \
  X(u, low, gm.eventsLow) X(u, high, gm.eventsHigh) X(u, max, gm.eventsMax) X(u, oom, gm.eventsOom)             \
  X(u, oomKill, gm.eventsOomKill) X(b, underOom, gm.underOom)

#define OVN_HOST_CG_STAT(X)                                                                                   \
  X(u, anon, gm.anon) X(u, file, gm.file) X(u, inactiveFile, gm.inactiveFile) X(u, activeFile, gm.activeFile) \
  X(u, shmem, gm.shmem)

// CgroupCpu gc
#define OVN_HOST_CG_CPU(X)                                                                                      \
  X(o, quotaUs, gc.hasQuota && gc.quotaUs >= 0 ? static_cast<double>(gc.quotaUs) : NAN)                         \
  X(o, periodUs, gc.hasQuota ? static_cast<double>(gc.periodUs) : NAN)                                          \
  X(o, limitCores, gc.hasQuota && gc.quotaUs >= 0 && gc.periodUs > 0                                            \
                       ? static_cast<double>(gc.quotaUs) / static_cast<double>(gc.periodUs) : NAN)              \
  X(o, nrPeriods, opt(gc.hasStat, gc.nrPeriods)) X(o, nrThrottled, opt(gc.hasStat, gc.nrThrottled))             \
  X(o, throttledUs, opt(gc.hasStat, gc.throttledUs)) X(o, usageUs, opt(gc.hasUsage, gc.usageUs))

// FsUsage u
#define OVN_HOST_FILESYSTEM(X)                                                                                  \
  X(u, totalBytes, u.totalBytes) X(u, freeBytes, u.freeBytes) X(u, availableBytes, u.availableBytes)            \
  X(u, usedBytes, u.totalBytes - u.freeBytes) X(u, totalInodes, u.totalInodes) X(u, freeInodes, u.freeInodes)  \
  X(u, availableInodes, u.availableInodes) X(u, fsid, u.fsid) X(b, readOnly, u.readOnly)

// Every group, with the name hostLayout() exports it under.
#define OVN_HOST_GROUPS(G)                                                                                      \
  G(memory, OVN_HOST_MEMORY) G(cpuCounts, OVN_HOST_CPU_COUNTS) G(cpuTimes, OVN_HOST_CPU_TIMES)                  \
  G(cpuUtil, OVN_HOST_CPU_UTIL) G(load, OVN_HOST_LOAD) G(uptime, OVN_HOST_UPTIME) G(psiLine, OVN_HOST_PSI_LINE)  \
  G(cgroupMemory, OVN_HOST_CG_MEMORY) G(cgroupEvents, OVN_HOST_CG_EVENTS) G(cgroupStat, OVN_HOST_CG_STAT)       \
  G(cgroupCpu, OVN_HOST_CG_CPU) G(filesystem, OVN_HOST_FILESYSTEM)

// The option bits of samplePacked(flags, ...): X(bit, name) — exported as hostOptionBits.
#define OVN_HOST_OPTION_BITS(X) X(1, cpu) X(2, perCpu) X(4, memory) X(8, load) X(16, psi) X(32, cgroup)
// clang-format on
