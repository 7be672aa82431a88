/** `overnight sample`: one host sample, as a table on a terminal or JSON. */
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { createHostReader } from '../readers/host.js';
import type { HostSample } from '../native.js';
import { printJson } from './format.js';
import { formatBytes, formatDuration, formatPercent } from '../util/format.js';
import { describeValue } from '../config/validation.js';

interface SampleFlags {
  json?: boolean;
  path: string[];
  pid?: string;
  intervalMs: string;
}

export function registerSampleCommand(program: Command): void {
  program
    .command('sample')
    .description('print one host sample: memory, CPU, load, PSI, cgroup limits, filesystems')
    .option('--json', 'print JSON (the default when stdout is not a terminal)')
    .option('--path <path>', 'filesystem to report (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--pid <pid>', 'report the cgroup of this process instead of this one')
    .option('--interval-ms <ms>', 'CPU utilization is measured over this interval', '200')
    .action(async (flags: SampleFlags) => {
      const interval = Number(flags.intervalMs);
      if (!Number.isFinite(interval) || interval < 0 || interval > 60_000) {
        throw new Error(`--interval-ms: got ${describeValue(flags.intervalMs)}; expected milliseconds in [0, 60000]`);
      }
      const cgroupPid = flags.pid === undefined ? 0 : Number(flags.pid);
      if (!Number.isInteger(cgroupPid) || cgroupPid < 0) {
        throw new Error(`--pid: got ${describeValue(flags.pid)}; expected a process id`);
      }
      const paths = flags.path.length ? flags.path : ['/'];
      const reader = createHostReader();
      reader.sample({ cgroup: false, psi: false, load: false, memory: false });
      if (interval > 0) await delay(interval);
      const sample = reader.sample({ cgroupPid, paths });
      if (flags.json || !process.stdout.isTTY) printJson(sample);
      else process.stdout.write(`${renderSample(sample)}\n`);
    });
}

/** The readable table form of a host sample. */
export function renderSample(s: HostSample): string {
  const t = new Table({
    head: ['signal', 'value'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  const m = s.memory;
  if (m) {
    t.push([
      'memory used / total',
      `${formatBytes(m.used)} / ${formatBytes(m.total)} (${formatPercent(m.used / m.total)})`,
    ]);
    t.push(['memory available', formatBytes(m.available)]);
    t.push(['cached / buffers', `${formatBytes(m.cached)} / ${formatBytes(m.buffers)}`]);
    t.push(['swap used / total', `${formatBytes(m.swapTotal - m.swapFree)} / ${formatBytes(m.swapTotal)}`]);
  }
  const c = s.cpu;
  if (c) {
    const u = c.utilization;
    t.push([
      'cpu busy',
      u
        ? `${formatPercent(u.busy)} (user ${formatPercent(u.user)}, system ${formatPercent(u.system)}, iowait ` +
          `${formatPercent(u.iowait)}, steal ${formatPercent(u.steal)})`
        : '-',
    ]);
    t.push(['cpus', String(c.perCpu.length)]);
    t.push(['procs running / blocked', `${c.procsRunning} / ${c.procsBlocked}`]);
  }
  if (s.load)
    t.push(['load 1/5/15', `${s.load.load1.toFixed(2)} ${s.load.load5.toFixed(2)} ${s.load.load15.toFixed(2)}`]);
  if (s.uptime) t.push(['uptime', formatDuration(s.uptime.uptimeSec)]);
  if (s.psi) {
    for (const k of ['cpu', 'memory', 'io'] as const) {
      const p = s.psi[k];
      if (p)
        t.push([
          `psi ${k} some/full avg10`,
          `${p.some?.avg10.toFixed(2) ?? '-'}% / ${p.full?.avg10.toFixed(2) ?? '-'}%`,
        ]);
    }
  }
  const cg = s.cgroup;
  if (cg) {
    t.push(['cgroup layout', cg.layout]);
    if (cg.memory) {
      t.push([
        `cgroup memory (${cg.memory.source})`,
        `${formatBytes(cg.memory.usage)} of ${cg.memory.limit === null ? 'no limit' : formatBytes(cg.memory.limit)}`,
      ]);
    }
    if (cg.cpu)
      t.push([
        `cgroup cpu (${cg.cpu.source})`,
        cg.cpu.limitCores === null ? 'no quota' : `${cg.cpu.limitCores.toFixed(2)} cores`,
      ]);
  }
  for (const f of s.filesystems) {
    if (f.error) t.push([`fs ${f.path}`, `unavailable: ${f.error.message}`]);
    else
      t.push([
        `fs ${f.path}`,
        `${formatBytes(f.usedBytes)} used, ${formatBytes(f.availableBytes)} available of ${formatBytes(f.totalBytes)}`,
      ]);
  }
  for (const [part, why] of Object.entries(s.unavailable)) t.push([part, `unavailable: ${why.message}`]);
  return t.toString();
}
