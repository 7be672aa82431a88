/**
 * The configuration file: thresholds, probes, intervals, the safety policy, the state directory.
 * Every object is strict: an unknown key is an error with a did-you-mean hint.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { SecretPath } from './validation.js';

/** A fraction of capacity in (0, 1], with a hint for percentages ("80" -> "did you mean 0.8?"). */
export function fraction(what: string) {
  return z.number().superRefine((v, ctx) => {
    if (!Number.isFinite(v) || v <= 0 || v > 1) {
      const hint = Number.isFinite(v) && v > 1 && v <= 100 ? `; did you mean ${v / 100}?` : '';
      ctx.addIssue({ code: 'custom', message: `got ${v}; ${what} is a fraction of capacity in (0, 1]${hint}` });
    }
  });
}

export function positiveMs(what: string, max = 24 * 3600_000) {
  return z.number().superRefine((v, ctx) => {
    if (!Number.isFinite(v) || v <= 0 || v > max)
      ctx.addIssue({ code: 'custom', message: `got ${v}; ${what} is milliseconds in (0, ${max}]` });
  });
}

/** Words of example values: a token that contains one was copied from documentation, not generated. */
const PLACEHOLDER = /set[\s_-]*me|change[\s_-]*me|replace|placeholder|example|your[\s_-]*token|<[^>]*>|x{4,}|\.\.\./i;

/**
 * Why a bearer token is refused, or null: shorter than 16 characters, a documentation placeholder,
 * whitespace, or fewer than 8 distinct characters. `overnight token` prints one that passes.
 */
export function weakTokenReason(token: string): string | null {
  const fix = 'run `overnight token` and use its output';
  if (token.length < 16) return `a token is at least 16 characters (${fix})`;
  if (PLACEHOLDER.test(token)) return `this is a placeholder, not a token (${fix})`;
  if (/\s/.test(token)) return `a token has no whitespace (${fix})`;
  if (new Set(token).size < 8) return `a token needs at least 8 distinct characters (${fix})`;
  return null;
}

export const thresholdsSchema = z
  .strictObject({
    /** Memory in use (the tighter of host and cgroup), fraction of capacity. */
    memory: fraction('memory').optional(),
    /** GPU memory in use, fraction of each GPU's capacity. */
    gpu: fraction('gpu').optional(),
    /** p95 of tool-call and probe latency, milliseconds. */
    responseTime: positiveMs('responseTime').optional(),
    /** Filesystem usage (bytes or inodes), fraction. */
    disk: fraction('disk').optional(),
    /** CPU busy, fraction of all CPUs: informational on its own (a busy compute node is normal), see cpuPressure. */
    cpu: fraction('cpu').optional(),
    /**
     * PSI cpu "some" avg10, percent of time some runnable task waited for a CPU (0-100): over it, the node is degraded.
     */
    cpuPressure: z.number().min(0).max(100).optional(),
    /** PSI memory "some" avg10, percent of time stalled (0-100). */
    memoryPressure: z.number().min(0).max(100).optional(),
    /**
     * Memory stall of the agent's cgroup (and system-wide) over the PSI trigger window
     * (monitor.psiWindowUs), percent of wall time some task waited for memory, measured from the PSI
     * totals: over it, a warning finding; over memoryStallCritical, critical (and recovery may act).
     */
    memoryStall: z.number().gt(0).max(100).optional(),
    memoryStallCritical: z.number().gt(0).max(100).optional(),
    /** Error rate of tool calls and probes over the window, fraction. */
    errorRate: fraction('errorRate').optional(),
  })
  .superRefine((t, ctx) => {
    // Critical is judged only past the warning level: a critical level below it would never be reached.
    const warn = t.memoryStall ?? DEFAULT_THRESHOLDS.memoryStall;
    const critical = t.memoryStallCritical ?? DEFAULT_THRESHOLDS.memoryStallCritical;
    if (critical < warn) {
      // Name the level the operator set (the other one is its default).
      const key = t.memoryStallCritical !== undefined ? 'memoryStallCritical' : 'memoryStall';
      ctx.addIssue({
        code: 'custom',
        path: [key],
        input: key === 'memoryStall' ? warn : critical,
        message:
          `critical must be at least the warning level: thresholds.memoryStallCritical is ${critical} ` +
          `and thresholds.memoryStall ${warn}${t.memoryStallCritical === undefined ? ' (critical by default)' : ''}`,
      });
    }
  });

/** Probes and webhooks are fetched over HTTP(S): any other scheme (file:, ftp:) is refused at start-up. */
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

export const probeSchema = z
  .strictObject({
    name: z.string().min(1).max(64),
    /** HTTP(S) URL answered with 2xx when healthy (e.g. a local inference server's /health). */
    url: httpUrl.optional(),
    /** Command (argv) that exits 0 when healthy. */
    command: z.array(z.string()).min(1).optional(),
    timeoutMs: positiveMs('timeoutMs', 120_000).default(5000),
    intervalMs: positiveMs('intervalMs').default(30_000),
  })
  .refine((p) => Boolean(p.url) !== Boolean(p.command), { error: 'a probe has exactly one of url or command' });

export const policySchema = z.strictObject({
  /** Process names (comm) never to signal, in addition to the built-in list. */
  protectedNames: z.array(z.string()).default([]),
  /** If set, only processes whose comm or cmdline matches one of these (regex) may be acted on. */
  allow: z.array(z.string()).default([]),
  /** Processes whose comm or cmdline matches one of these (regex) are never acted on. */
  deny: z.array(z.string()).default([]),
  /** At most this many destructive acts per hour. */
  maxActionsPerHour: z.number().int().min(0).max(10_000).default(20),
  /**
   * Pid whose descendants are in scope; default: the parent of the server (the agent runner), but only
   * when that parent can be an agent: never PID 1, a service manager, or the parent of a session leader.
   */
  scopeRoot: z.number().int().positive().optional(),
  /** A systemd unit ("agent.service") or cgroup path ("/system.slice/agent.service"): its processes are in scope. */
  scopeUnit: z.string().min(1).max(4096).optional(),
  /** A user name or uid: that user's processes are in scope (and only theirs). */
  scopeUser: z.union([z.string().min(1).max(256), z.number().int().min(0)]).optional(),
  /** Allow acting on processes outside the scope root's tree (same user still required). */
  allowOutsideScope: z.boolean().default(false),
  /** Allow GPU resets (needs root and no process on the GPU). */
  allowGpuReset: z.boolean().default(false),
  /** Allow resetting GPU clocks and setting persistence mode. */
  allowGpuSettings: z.boolean().default(false),
  /** Allow dropping the page cache and compacting memory (needs root). */
  allowCacheDrop: z.boolean().default(false),
  /** Directories under which cleanup may delete files. */
  cleanupRoots: z.array(z.string()).default([]),
  /** Directories where reservation files may be created. */
  reservationDir: z.string().optional(),
  /** Signal asking a process to checkpoint before it is ended (e.g. "SIGUSR1"); none by default. */
  checkpointSignal: z.string().optional(),
  /** Signal that makes a runtime dump its stacks (SIGQUIT for a JVM, a faulthandler signal for Python). */
  stackDumpSignal: z.string().optional(),
  /** Seconds to wait after SIGTERM before SIGKILL. */
  termGraceSec: z.number().min(0).max(600).default(10),
});

export const watchSchema = z.strictObject({
  /**
   * The cgroup whose memory is judged: a cgroup path ("/system.slice/agent.service") or a systemd unit
   * name ("agent.service"). Default: policy.scopeRoot's cgroup, else policy.scopeUnit, else this process's.
   */
  cgroup: z.string().min(1).max(4096).optional(),
  /** How often the processes in scope are scanned for leak slopes and hang windows (seconds). */
  intervalSec: z.number().min(0.05).max(3600).default(5),
  /** RSS growth is only judged after a process has been watched this long. */
  warmupSec: z.number().min(0).max(3600).default(30),
  /** ...over at least this window... */
  leakMinWindowSec: z.number().positive().max(86_400).default(120),
  /** ...and counts as a leak at this slope or more (MB per minute)... */
  leakMinSlopeMbPerMin: z.number().positive().default(5),
  /** ...with a least-squares fit at least this good. */
  leakMinR2: z.number().min(0).max(1).default(0.8),
  /**
   * A steep leak that would exhaust memory soon is judged sooner: over 1/30 of the time it leaves,
   * but never less than this window (seconds), with R² >= 0.95 and no warm-up. While a process
   * grows that fast, the watch scans every leakFastWindowSec / 12 s instead of every intervalSec.
   */
  leakFastWindowSec: z.number().positive().max(86_400).default(15),
  /** Uninterruptible sleep (D) longer than this is a hang (the kernel's hung_task_timeout_secs). */
  dStateSec: z.number().positive().default(120),
  /** No CPU time, context switches or io for this long is a hang (0 disables the rule). */
  noProgressSec: z.number().min(0).default(1800),
  /** Heartbeat files a task touches while it makes progress; stale ones mark its process hung. */
  heartbeats: z
    .array(
      z.strictObject({
        path: z.string(),
        maxAgeSec: z.number().positive(),
        pid: z.number().int().positive().optional(),
        taskId: z.string().optional(),
      }),
    )
    .default([]),
});

export const taskSchema = z.strictObject({
  /** The taskId agents use in trackProgress and recoverOperation's context. */
  id: z.string().min(1).max(256),
  /** Command (argv) that restarts the task after recovery ended it. */
  restart: z.array(z.string()).min(1).optional(),
  cwd: z.string().optional(),
  /** A task with no checkpoint for this long is reported as stalled. */
  checkpointIntervalSec: z.number().positive().optional(),
});

export const progressSchema = z.strictObject({
  /** Keep a content-addressed copy of each artifact at its checkpoint (for `overnight progress restore`). */
  storeArtifacts: z.boolean().default(false),
  /** Artifacts larger than this are recorded (hash, size) but not copied. */
  maxArtifactBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 2 ** 20),
  /** Copies older than this many days (and no longer referenced by a task's last checkpoint) are deleted. */
  retentionDays: z.number().positive().default(7),
  /** A task with no checkpoint for this long (seconds) is stalled, unless its task entry says otherwise. */
  stallSec: z.number().positive().default(1800),
  /**
   * Directories artifacts must lie under (real paths; /proc, /sys and /dev never count). Unset: the
   * server's working directory and the task's registered directory (tasks[].cwd).
   */
  artifactRoots: z.array(z.string().min(1)).min(1).optional(),
  /**
   * Bytes one trackProgress call may hash in all (recording and re-checking artifacts); the rest is reported unhashed.
   */
  maxHashBytesPerCall: z
    .number()
    .int()
    .positive()
    .default(2 ** 30),
});

export const escalationSchema = z.strictObject({
  /** JSON webhooks (Slack-compatible or Alertmanager-compatible payloads by `format`). */
  webhooks: z
    .array(
      z.strictObject({
        url: httpUrl,
        format: z.enum(['json', 'slack', 'alertmanager']).default('json'),
        timeoutMs: z.number().positive().default(5000),
      }),
    )
    .default([]),
  /** Commands run with the alert as JSON on stdin. */
  commands: z.array(z.array(z.string()).min(1)).default([]),
  /** Retries of a failed webhook, with exponential backoff. */
  retries: z.number().int().min(0).max(10).default(3),
  /** The same alert (by key) is sent at most once per this many seconds. */
  dedupSec: z.number().min(0).default(900),
});

export const monitorSchema = z
  .strictObject({
    /** The design's default: check every 300 s (any interval down to sub-second). */
    intervalSec: z.number().min(0.05).max(86_400).default(300),
    /**
     * At intervals shorter than this, a healthy node gets a full check (process table, node checks, GPU verdicts,
     * probes) at most every this many seconds and quick checks in between; a node that is not healthy, or a wake-up
     * (PSI, Xid, exit, deadline), gets one at most every 2 s (or this, if shorter).
     */
    fullCheckSec: z.number().min(0.05).max(86_400).default(30),
    /**
     * The design's alert threshold: memory, GPU memory and disk usage that count as degraded, unless thresholds say
     * otherwise.
     */
    alertThreshold: fraction('alertThreshold').default(0.8),
    /**
     * What the monitor does about problems: "off" only alerts, "dry_run" reports what recovery would do, "on" recovers
     * (through the policy).
     */
    recover: z.enum(['off', 'dry_run', 'on']).default('dry_run'),
    /**
     * Last resort when recovery and escalation both fail repeatedly: stop the agent's process tree gracefully and write
     * the final state.
     */
    emergencyShutdown: z.boolean().default(false),
    /** Consecutive failed cycles (critical and unrecovered) before the emergency shutdown. */
    emergencyAfterFailures: z.number().int().min(1).max(100).default(5),
    /** At most this many alerts an hour, whatever their keys. */
    maxAlertsPerHour: z.number().int().min(1).max(10_000).default(30),
    /** Wake at once when memory stalls this long (µs) within the PSI window. */
    psiMemoryStallUs: z.number().int().positive().default(200_000),
    /**
     * PSI trigger window (µs): the kernel takes 0.5-10 s, and a multiple of 2 s without CAP_SYS_RESOURCE;
     * psiMemoryStallUs must fit in it.
     */
    psiWindowUs: z
      .number()
      .int()
      .min(500_000, { error: "monitor.psiWindowUs is at least 500000 µs (0.5 s, the kernel's shortest PSI window)" })
      .max(10_000_000, { error: "monitor.psiWindowUs is at most 10000000 µs (10 s, the kernel's longest PSI window)" })
      .default(2_000_000),
    /**
     * Also read the PSI totals every this many ms and wake when the stall within the window passes
     * psiMemoryStallUs (the kernel's own trigger can be tens of seconds late under thrashing); 0: off.
     * Read less often (up to 2 polls apart) while far from the threshold: see pollWaitNs in
     * native/proc/psi_trigger.cc.
     * At least 10 ms: the kernel weighs each CPU's stall by its non-idle time in whole jiffies (4 ms at
     * HZ=250), so reads closer than that drop the stall in between from the totals, for every reader.
     */
    psiPollMs: z
      .number()
      .int()
      .max(10_000)
      .refine((v) => v === 0 || v >= 10, {
        error: 'monitor.psiPollMs must be 0 (off) or at least 10 ms (faster reads hide stall from the PSI totals)',
      })
      .default(100),
    /**
     * Processes whose exit wakes the monitor at once (pidfd); the agent runner is added when
     * policy.scopeRoot is set.
     */
    watchPids: z.array(z.number().int().positive()).max(16).default([]),
  })
  .superRefine((m, ctx) => {
    const windowOk = m.psiWindowUs >= 500_000 && m.psiWindowUs <= 10_000_000; // else already reported
    if (windowOk && m.psiMemoryStallUs > m.psiWindowUs)
      ctx.addIssue({
        code: 'custom',
        path: ['psiMemoryStallUs'],
        input: m.psiMemoryStallUs,
        message: `monitor.psiMemoryStallUs must fit in monitor.psiWindowUs (${m.psiWindowUs} µs)`,
      });
  });

export const kernelLogSchema = z.strictObject({
  /** Read the kernel log (/dev/kmsg) on a native thread and store matched lines as events. */
  enabled: z.boolean().default(true),
  /** The log device; another path for containers that bind-mount it elsewhere. */
  path: z.string().min(1).default('/dev/kmsg'),
});

export const historySchema = z.strictObject({
  /** Events (and metric history) older than this many days are deleted. */
  retentionDays: z.number().positive().max(3650).default(14),
  /**
   * At most this many events are kept, the oldest deleted first; except critical events and GPU resets still
   * inside gpu.xidWindowSec, which decide verdicts.
   */
  maxEvents: z.number().int().min(100).max(10_000_000).default(200_000),
  /** The metric history keeps one row (means of the background samples) per this many seconds. */
  intervalSec: z.number().min(1).max(3600).default(10),
});

/** `overnight health --nhc` as Slurm's HealthCheckProgram (LBNL NHC's conventions). */
export const slurmSchema = z.strictObject({
  /**
   * The least healthy status that still passes: "critical" fails only critical nodes, "degraded" fails degraded ones
   * too.
   */
  failOn: z.enum(['degraded', 'critical']).default('critical'),
  /** Resume a node that this agent drained (reason "overnight: ...") once the check passes. */
  resume: z.boolean().default(true),
});

/** What the GPUs of this node must look like (GPUd's gpu counts, persistence, nvlink and fabric-manager components). */
export const gpuExpectationsSchema = z.strictObject({
  /** An Xid counts in verdicts, plans and DCGM_FI_DEV_XID_ERRORS for this long after it happened (seconds). */
  xidWindowSec: z
    .number()
    .min(1)
    .max(30 * 86_400)
    .default(3600),
  /** This many GPUs must be visible; fewer means one fell off the bus (critical). */
  expectedCount: z.number().int().min(0).max(1024).optional(),
  /** Every GPU's name must contain one of these ("H100", "A100-SXM4-80GB"); another model is degraded. */
  expectedModels: z.array(z.string().min(1)).default([]),
  /** Persistence mode must be on (it is on HPC nodes: without it the driver tears down between jobs). */
  persistenceMode: z.boolean().default(false),
  /** NVLink counter growth per hour above which a link is degraded (NVML error counters). */
  nvlinkMaxErrorsPerHour: z
    .strictObject({
      replay: z.number().min(0).optional(),
      recovery: z.number().min(0).default(0),
      crcFlit: z.number().min(0).default(100),
      crcData: z.number().min(0).default(10),
    })
    .default({ recovery: 0, crcFlit: 100, crcData: 10 }),
});

/** What the node must look like (GPUd's components, NHC's check_hw_ib / check_fs_mount_rw / check_ps_*). */
export const nodeChecksSchema = z.strictObject({
  /** Root of sysfs (tests and containers point it elsewhere); default OVERNIGHT_SYSFS_ROOT, else /sys. */
  sysfsRoot: z.string().min(1).optional(),
  infiniband: z
    .strictObject({
      /** Ports that must be ACTIVE, at least at rateGbps when given (NHC check_hw_ib). */
      expected: z
        .array(
          z.strictObject({
            device: z.string().min(1),
            port: z.number().int().min(1).max(255).default(1),
            rateGbps: z.number().positive().optional(),
          }),
        )
        .default([]),
      /** Growth of a port counter (sysfs counters/<name>) above this many per hour is degraded. */
      maxErrorsPerHour: z.record(z.string(), z.number().min(0)).default({
        link_downed: 0,
        symbol_error: 10,
        link_error_recovery: 10,
        port_rcv_errors: 100,
        excessive_buffer_overrun_errors: 10,
        local_link_integrity_errors: 10,
      }),
    })
    .default({
      expected: [],
      maxErrorsPerHour: {
        link_downed: 0,
        symbol_error: 10,
        link_error_recovery: 10,
        port_rcv_errors: 100,
        excessive_buffer_overrun_errors: 10,
        local_link_integrity_errors: 10,
      },
    }),
  /** Filesystems that must be mounted (and writable unless writable: false), NHC's check_fs_mount_rw. */
  mounts: z
    .array(
      z.strictObject({
        path: z.string().startsWith('/'),
        fsType: z.string().min(1).optional(),
        writable: z.boolean().default(true),
      }),
    )
    .default([]),
  /** Daemons that must run: a name matched against comm or argv[0]'s basename, or a regex on the command line. */
  services: z
    .array(
      z.union([
        z.string().min(1),
        z.strictObject({
          name: z.string().min(1),
          pattern: z
            .string()
            .min(1)
            .superRefine((v, ctx) => {
              try {
                new RegExp(v);
              } catch (err) {
                ctx.addIssue({
                  code: 'custom',
                  message:
                    `got ${JSON.stringify(v.slice(0, 80))}; pattern is a JavaScript regular expression ` +
                    `(${(err as Error).message})`,
                });
              }
            })
            .optional(),
        }),
      ]),
    )
    .default([]),
  /** NHC check_ps_unauth_users, report only: users with processes who are not allowed here. */
  unauthorizedUsers: z
    .strictObject({
      enabled: z.boolean().default(false),
      allowedUsers: z.array(z.string()).default([]),
      minUid: z.number().int().min(0).default(1000),
    })
    .default({ enabled: false, allowedUsers: [], minUid: 1000 }),
  /** More zombies than this is degraded. */
  maxZombies: z.number().int().min(0).default(100),
  /**
   * Open files against file-max (and each agent process against its RLIMIT_NOFILE) above this is degraded; above 0.95
   * critical.
   */
  maxFdFraction: fraction('nodeChecks.maxFdFraction').default(0.8),
});

/**
 * An operator's own check (NPD custom plugin / NHC script contract): exit 0 ok, 1 problem, 2 unknown; stdout's first
 * line is the message.
 */
export const operatorCheckSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _.:- only'),
    /** argv; no shell. */
    command: z.array(z.string()).min(1).optional(),
    /** `dcgmi diag -r <level>` with its JSON parsed (an active test: never run unless configured). */
    dcgmDiag: z
      .strictObject({ level: z.number().int().min(1).max(4).default(1), dcgmi: z.string().default('dcgmi') })
      .optional(),
    intervalSec: z.number().min(1).max(86_400).default(300),
    timeoutSec: z.number().min(0.1).max(3600).default(30),
    /** What exit 1 means for the node. */
    severity: z.enum(['critical', 'degraded']).default('critical'),
  })
  .refine((c) => Boolean(c.command) !== Boolean(c.dcgmDiag), {
    error: 'a check has exactly one of command or dcgmDiag',
  });

/**
 * The configuration's secrets, named once: error messages describe them and never echo them. Webhook
 * URLs carry their credentials in the path (Slack's /services/T../B../<secret>) or the user info, and an
 * escalation command's argv may hold an Authorization header or a token.
 */
export const CONFIG_SECRETS: readonly SecretPath[] = [
  ['server', 'token'],
  ['escalation', 'webhooks', '*', 'url'],
  ['escalation', 'commands', '*'],
];

const configObject = z.strictObject({
  thresholds: thresholdsSchema.default({}),
  hysteresis: z
    .strictObject({
      /**
       * A breached threshold clears only below limit - clearMargin (fractions) or limit * (1 - clearMargin) (ms, %).
       */
      clearMargin: z.number().min(0).max(0.5).default(0.05),
      /** A breach counts once it holds over this many consecutive samples... */
      sustainSamples: z.number().int().min(1).max(100).default(2),
      /** ...and over at least this much wall time (ms) of readings; 0: a single reading over the limit is a breach. */
      sustainMs: z
        .number()
        .superRefine((v, ctx) => {
          if (!Number.isFinite(v) || v < 0 || v > 3600_000)
            ctx.addIssue({ code: 'custom', message: `got ${v}; sustainMs is milliseconds in [0, 3600000]` });
        })
        .default(10_000),
    })
    .default({ clearMargin: 0.05, sustainSamples: 2, sustainMs: 10_000 }),
  probes: z.array(probeSchema).default([]),
  /** Filesystems to watch. */
  paths: z.array(z.string()).default(['/']),
  /** Where durable state (SQLite) lives. */
  stateDir: z
    .string()
    .min(1)
    // Kernel filesystems hold no database (and Node's recursive mkdir never returns under /proc).
    .refine((d) => !/^\/(proc|sys|dev)(\/|$)/.test(path.resolve(d)), {
      error: 'a directory for the SQLite database, not under /proc, /sys or /dev',
    })
    .optional(),
  /** Sliding window for response times and error rates (ms). */
  responseWindowMs: positiveMs('responseWindowMs').default(300_000),
  /** Background sampling interval of the server's history (ms). */
  sampleIntervalMs: positiveMs('sampleIntervalMs', 3600_000).default(1000),
  /** Milliseconds a GPU query may take before it is reported as timed out. */
  gpuTimeoutMs: positiveMs('gpuTimeoutMs', 120_000).default(5000),
  policy: policySchema.default(policySchema.parse({})),
  watch: watchSchema.default(watchSchema.parse({})),
  escalation: escalationSchema.default(escalationSchema.parse({})),
  progress: progressSchema.default(progressSchema.parse({})),
  /** Tasks the operator knows about: how to restart them, how often they must checkpoint. */
  tasks: z.array(taskSchema).default([]),
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      /** Bearer token required on HTTP when set (or OVERNIGHT_TOKEN); `overnight token` makes one. */
      token: z
        .string()
        .superRefine((v, ctx) => {
          const why = weakTokenReason(v);
          if (why)
            ctx.addIssue({
              code: 'custom',
              // No "got <value>": formatIssues describes a secret without echoing it (CONFIG_SECRETS).
              message: why,
            });
        })
        .optional(),
      /** Extra Origin hostnames allowed on HTTP (localhost is always allowed). */
      allowedOrigins: z.array(z.string()).default([]),
      /** Largest inbound MCP message (stdio line or HTTP body) in bytes; larger ones are refused with an error. */
      maxMessageBytes: z
        .number()
        .int()
        .min(1024)
        .max(1024 ** 3)
        .default(10 * 1024 * 1024),
      /** HTTP: requests served at once; more wait in a queue. */
      maxConcurrentRequests: z.number().int().min(1).max(1024).default(16),
      /** HTTP: requests that may wait for a slot; past this they are answered 503 with Retry-After. */
      maxQueuedRequests: z.number().int().min(0).max(100_000).default(256),
    })
    .default({
      host: '127.0.0.1',
      allowedOrigins: [],
      maxMessageBytes: 10 * 1024 * 1024,
      maxConcurrentRequests: 16,
      maxQueuedRequests: 256,
    }),
  monitor: monitorSchema.default(monitorSchema.parse({})),
  kernelLog: kernelLogSchema.default(kernelLogSchema.parse({})),
  history: historySchema.default(historySchema.parse({})),
  slurm: slurmSchema.default(slurmSchema.parse({})),
  nodeChecks: nodeChecksSchema.default(nodeChecksSchema.parse({})),
  /** GPU count, models, persistence mode and NVLink thresholds this node must meet. */
  gpu: gpuExpectationsSchema.default(gpuExpectationsSchema.parse({})),
  /** Operators' own checks, run on their schedule; results feed health, metrics and `health --nhc`. */
  checks: z.array(operatorCheckSchema).default([]),
});

export const configSchema = configObject.superRefine((c, ctx) => {
  // Every check prunes the history: a retention shorter than the Xid window would delete a fatal Xid
  // while it still makes the node critical (and `health --nhc` would pass the node).
  const keptSec = c.history.retentionDays * 86_400;
  if (keptSec < c.gpu.xidWindowSec)
    ctx.addIssue({
      code: 'custom',
      path: ['history', 'retentionDays'],
      message:
        `got ${c.history.retentionDays} (${+keptSec.toPrecision(4)} s); must be at least gpu.xidWindowSec ` +
        `(${c.gpu.xidWindowSec} s), or Xids would be deleted while they still count`,
    });
});

export type OvernightConfig = z.infer<typeof configSchema>;
export type Thresholds = z.infer<typeof thresholdsSchema>;

/** Threshold defaults: the design's 0.8 for memory and GPU; 2 s p95 response time. */
export const DEFAULT_THRESHOLDS: Required<Thresholds> = {
  memory: 0.8,
  gpu: 0.8,
  responseTime: 2000,
  disk: 0.9,
  cpu: 0.95,
  cpuPressure: 50,
  memoryPressure: 20,
  memoryStall: 10,
  memoryStallCritical: 30,
  errorRate: 0.2,
};

/** $XDG_STATE_HOME/overnight, else ~/.local/state/overnight. */
export function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'overnight');
}

/** $XDG_CONFIG_HOME/overnight/config.json, else ~/.config/overnight/config.json. */
export function defaultConfigPath(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'overnight', 'config.json');
}
