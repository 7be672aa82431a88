// Process-table scan: the addon vs the C limit (same files, kept-open fds) vs Node's
// readdirSync + readFileSync vs systeminformation.processes() and pidusage on the same pids.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import pidusage from 'pidusage';
import si from 'systeminformation';
import { createProcessTable } from '../dist/readers/processes.js';
import { compile, fmtUs, ratio, timeAsync, timeSpaced, timeSync } from './lib/measure.js';

function nodeScan() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 49 || name.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const status = readFileSync(`/proc/${name}/status`, 'latin1');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const uid = /Uid:\s+(\d+)/.exec(status);
      out.push({
        pid: Number(name),
        state: rest[0],
        ppid: Number(rest[1]),
        utime: Number(rest[11]),
        rss: Number(rest[21]),
        uid: uid && Number(uid[1]),
      });
    } catch {
      /* vanished */
    }
  }
  return out;
}

export async function run() {
  const table = createProcessTable();
  const n = table.scan().length;
  const limitBin = compile('limit/proc_limit.cc', 'proc_limit');
  const limit = JSON.parse(execFileSync(limitBin, ['scan', '1000'], { encoding: 'utf8' }));
  const addon = timeSync(() => table.scan(), { iterations: 1000, warmup: 50 });
  const addonAsync = await timeAsync(() => table.scanAsync(), { iterations: 300, warmup: 10 });
  const node = timeSync(nodeScan, { iterations: 300, warmup: 20 });
  const pids = table.scan().map((p) => p.pid);
  const pu = await timeAsync(() => pidusage(pids).catch(() => null), { iterations: 30, warmup: 3 });
  // processes() hands back its previous result when called again too soon: space the calls.
  const siP = await timeSpaced(() => si.processes(), 1100, 5);
  const per = (x) => x / n;
  const rows = [
    ['C limit (stat+status, kept-open fds)', limit, '1.00x'],
    ['overnight-ops listProcesses()', addon, ratio(addon.medianUs, limit.medianUs)],
    ['overnight-ops listProcessesAsync()', addonAsync, ratio(addonAsync.medianUs, limit.medianUs)],
    ['Node readdirSync + readFileSync', node, ratio(node.medianUs, limit.medianUs)],
    ['pidusage (same pids)', pu, ratio(pu.medianUs, limit.medianUs)],
    ['systeminformation processes()', siP, ratio(siP.medianUs, limit.medianUs)],
  ];
  return {
    title: `Process-table scan (${n} processes; median and p99 per scan, and per process)`,
    head: ['implementation', 'median', 'p99', 'per process', 'vs C limit'],
    rows: rows.map(([name, t, r]) => [name, fmtUs(t.medianUs), fmtUs(t.p99Us), fmtUs(per(t.medianUs)), r]),
    notes: [
      `addon / C limit per process: ${(addon.medianUs / limit.medianUs).toFixed(2)}x (target <= 1.5x)`,
      `systeminformation processes() / addon: ${(siP.medianUs / addon.medianUs).toFixed(0)}x, pidusage / addon: ` +
        `${(pu.medianUs / addon.medianUs).toFixed(1)}x (target >= 20x)`,
    ],
    raw: { n, limit, addon, addonAsync, node, pidusage: pu, si: siP },
  };
}
