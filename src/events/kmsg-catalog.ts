/**
 * The kernel-log catalog: which kernel lines are events, of what kind and severity. Data only; the
 * matcher (kmsg-matcher.ts) applies it. Line formats are the kernel's and NVIDIA's own, as GPUd's
 * kmsg watchers and node-problem-detector's kernel-monitor rules match them; the corpus in
 * test/fixtures/kmsg/corpus.txt holds real lines for every rule.
 *
 * Named groups become subject fields: pid, comm, pci, xid, sxid, device, seconds, cpu.
 * The first rule that matches a line wins, so specific rules come before general ones.
 */
import type { EventSeverity } from './types.js';

export interface KmsgRule {
  /** Stable rule name (shown in the event's subject as `rule`). */
  id: string;
  kind: string;
  /** Fixed severity; xid rules take theirs from the Xid catalog instead. */
  severity: EventSeverity;
  pattern: RegExp;
}

const PCI = String.raw`(?:PCI:)?(?<pci>[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(?:\.[0-7])?)`;

export const KMSG_RULES: readonly KmsgRule[] = [
  // NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus.
  // (drivers before 525 leave out pid/name; some print pid='<unknown>', name=<unknown>)
  {
    id: 'nvrm-xid',
    kind: 'xid',
    severity: 'warning',
    pattern: new RegExp(
      String.raw`NVRM: Xid \(${PCI}\): (?<xid>\d+)` +
        String.raw`(?:, pid='?(?<pid>\d+|<unknown>)'?, name=(?<comm>[^,]*))?,? ?(?<detail>.*)$`,
    ),
  },
  // nvidia-nvswitch3: SXid (PCI:0000:86:00.0): 12028, Non-fatal, Link 32 egress non-posted PRIV error (First)
  {
    id: 'nvswitch-sxid',
    kind: 'sxid',
    severity: 'warning',
    pattern: new RegExp(String.raw`SXid \(${PCI}\): (?<sxid>\d+), (?<fatality>Non-fatal|Fatal)?,? ?(?<detail>.*)$`),
  },
  // NVRM: GPU at PCI:0000:3b:00: GPU-…  /  NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.
  {
    id: 'nvrm-fallen-off-bus',
    kind: 'xid',
    severity: 'critical',
    pattern: new RegExp(String.raw`NVRM: GPU ${PCI}: GPU has fallen off the bus`),
  },
  // Memory cgroup out of memory: Killed process 4242 (python3) total-vm:…, anon-rss:…
  {
    id: 'oom-cgroup',
    kind: 'oom_kill',
    severity: 'warning',
    pattern: /Memory cgroup out of memory: Killed process (?<pid>\d+) \((?<comm>[^)]*)\)/,
  },
  // Out of memory: Killed process 4242 (python3) total-vm:… (older: "Kill process N (comm) score …")
  {
    id: 'oom-global',
    kind: 'oom_kill',
    severity: 'warning',
    pattern: /Out of memory(?: \(oom_kill_allocating_task\))?: Kill(?:ed)? process (?<pid>\d+) \((?<comm>[^)]*)\)/,
  },
  // INFO: task kworker/u16:2:1234 blocked for more than 120 seconds.
  {
    id: 'hung-task',
    kind: 'hung_task',
    severity: 'warning',
    pattern: /INFO: task (?<comm>.+):(?<pid>\d+) blocked for more than (?<seconds>\d+) seconds/,
  },
  // watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [java:1234]
  {
    id: 'soft-lockup',
    kind: 'lockup',
    severity: 'critical',
    pattern: /BUG: soft lockup - CPU#(?<cpu>\d+) stuck for (?<seconds>\d+)s! \[(?<comm>.+):(?<pid>\d+)\]/,
  },
  // Watchdog detected hard LOCKUP on cpu 5
  {
    id: 'hard-lockup',
    kind: 'lockup',
    severity: 'critical',
    pattern: /Watchdog detected hard LOCKUP on cpu (?<cpu>\d+)/,
  },
  // rcu: INFO: rcu_sched self-detected stall on CPU  /  INFO: rcu_preempt detected stalls on CPUs/tasks:
  { id: 'rcu-stall', kind: 'lockup', severity: 'critical', pattern: /INFO: rcu_\w+ (?:self-)?detected stalls? on CPU/ },
  // blk_update_request: I/O error, dev sdb, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0
  {
    id: 'io-error',
    kind: 'io_error',
    severity: 'warning',
    pattern: /(?<!Buffer )I\/O error, dev (?<device>[\w.-]+), sector (?<sector>\d+)/,
  },
  // Buffer I/O error on dev sdb1, logical block 0, async page read
  {
    id: 'buffer-io-error',
    kind: 'io_error',
    severity: 'warning',
    pattern: /Buffer I\/O error on dev(?:ice)? (?<device>[\w.-]+), logical block (?<block>\d+)/,
  },
  // EXT4-fs (sda1): Remounting filesystem read-only  (before the generic fs errors: it is worse)
  {
    id: 'fs-readonly',
    kind: 'fs_readonly',
    severity: 'critical',
    pattern: /(?:\((?<device>[\w.-]+)\): )?Remounting filesystem read-only/,
  },
  // EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0
  {
    id: 'ext4-error',
    kind: 'fs_error',
    severity: 'warning',
    pattern: /EXT4-fs error \(device (?<device>[\w.-]+)\)(?:: (?<detail>.*))?/,
  },
  // XFS (dm-0): Filesystem has been shut down due to log error (0x2).  /  … Shutting down filesystem
  {
    id: 'xfs-shutdown',
    kind: 'fs_error',
    severity: 'critical',
    pattern: /XFS \((?<device>[\w.-]+)\): (?:.*Shutting down filesystem|Filesystem has been shut down|.*shutdown)/i,
  },
  // mce: [Hardware Error]: CPU 0: Machine Check Exception: 5 Bank 1: b200000000070005
  {
    id: 'mce',
    kind: 'mce',
    severity: 'critical',
    pattern: /mce: \[Hardware Error\]: (?:CPU (?<cpu>\d+): )?(?<detail>Machine Check.*|.*)$/,
  },
  // EDAC MC0: 1 UE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 …
  { id: 'edac-ue', kind: 'mce', severity: 'critical', pattern: /EDAC (?<device>MC\d+): \d+ UE (?<detail>.*)$/ },
  // python3[4321]: segfault at 0 ip 00007f… sp 00007ffd… error 4 in libc.so.6[…]
  {
    id: 'segfault',
    kind: 'segfault',
    severity: 'warning',
    pattern: /(?<comm>[^\s[]+)\[(?<pid>\d+)\]: segfault at (?<address>[0-9a-fx]+)/,
  },
  // Kernel panic - not syncing: Fatal exception
  { id: 'panic', kind: 'kernel_bug', severity: 'critical', pattern: /Kernel panic - not syncing: (?<detail>.*)$/ },
  // BUG: unable to handle page fault for address: …  /  BUG: kernel NULL pointer dereference, address: …
  { id: 'kernel-bug', kind: 'kernel_bug', severity: 'critical', pattern: /(?:^|\s)BUG: (?<detail>(?!soft lockup).*)$/ },
  // Oops: 0000 [#1] PREEMPT SMP NOPTI  /  general protection fault, probably for non-canonical address …
  {
    id: 'oops',
    kind: 'kernel_bug',
    severity: 'critical',
    pattern: /^(?:Oops: [0-9a-f]+ \[#\d+\]|Oops: (?<detail>.*)|general protection fault\b.*)/,
  },
];
