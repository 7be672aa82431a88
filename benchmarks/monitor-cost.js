// The monitor's own cost: CPU (% of one core) and RSS of `overnight monitor` at 1 s and 0.1 s
// intervals, and RSS growth over an hour of simulated night (3600 cycles with a fast clock).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDir } from './lib/measure.js';

const hz = 100;
function cpuTicks(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
function rssMb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

async function measureCli(intervalSec, seconds) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-mon-'));
  const cfg = path.join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ stateDir: path.join(dir, 'state') }));
  const p = spawn(
    process.execPath,
    [
      path.join(benchDir, '../bin/overnight.js'),
      'monitor',
      '--config',
      cfg,
      '--interval',
      String(intervalSec),
      '--log-file',
      path.join(dir, 'log.jsonl'),
    ],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 3000)); // start-up (module load, first cycle) is not steady state
  const t0 = Date.now();
  const c0 = cpuTicks(p.pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = ((cpuTicks(p.pid) - c0) / hz / ((Date.now() - t0) / 1000)) * 100;
  const rss = rssMb(p.pid);
  p.kill('SIGTERM');
  await new Promise((r) => p.on('exit', r));
  return { cpu, rss };
}

async function simulatedHour() {
  const { createOvernightContext, parseConfig } = await import('../dist/index.js');
  const { OvernightMonitor } = await import('../dist/monitor/overnight-monitor.js');
  const { ManualClock } = await import('../dist/util/clock.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-hour-'));
  const clock = new ManualClock(Date.now());
  const ctx = await createOvernightContext({
    clock,
    config: parseConfig({ stateDir: dir, monitor: { intervalSec: 1 } }),
  });
  const rss = [];
  const monitor = new OvernightMonitor(ctx, {
    events: false,
    sleep: async (ms) => {
      clock.advance(ms);
      if (monitor.cycles % 600 === 0) {
        global.gc?.();
        rss.push(process.memoryUsage().rss / 2 ** 20);
      }
    },
  });
  const t0 = Date.now();
  await monitor.run(undefined, 3600);
  const wall = (Date.now() - t0) / 1000;
  await ctx.close();
  return { rss, wall };
}

export async function run() {
  const oneSec = await measureCli(1, 30);
  const tenth = await measureCli(0.1, 20);
  const hour = await simulatedHour();
  const growth = hour.rss.length > 2 ? hour.rss.at(-1) - hour.rss[1] : 0;
  return {
    title: "The monitor's own cost (`overnight monitor`, full health check every cycle)",
    head: ['case', 'CPU (% of one core)', 'RSS'],
    rows: [
      ['interval 1 s (30 s measured)', `${oneSec.cpu.toFixed(2)} %`, `${oneSec.rss.toFixed(1)} MB`],
      ['interval 0.1 s (20 s measured)', `${tenth.cpu.toFixed(2)} %`, `${tenth.rss.toFixed(1)} MB`],
      [
        `simulated hour: 3600 cycles in ${hour.wall.toFixed(0)} s`,
        '-',
        `RSS every 600 cycles: ${hour.rss.map((r) => r.toFixed(1)).join(', ')} MB (growth after warm-up ` +
          `${growth.toFixed(1)} MB)`,
      ],
    ],
    notes: ['targets at 1 s: under 0.5 % of a core and under 80 MB; no RSS growth over the simulated hour'],
    raw: { oneSec, tenth, hour },
  };
}
