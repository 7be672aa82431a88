// Start-up of the CLI as Slurm (health --nhc), NPD (health --npd) and a user (--help) pay it, against
// `node -e 0`: wall time of whole processes, cases interleaved round by round (ABAB...), the median of
// each case over the rounds, with the load average beside the figures. An optional second CLI
// (OVERNIGHT_BASE_CLI=path/to/bin/overnight.js) is measured in the same rounds for a before/after.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { benchDir } from './lib/measure.js';

const rounds = Number(process.env.ROUNDS ?? 15);
const cli = path.join(benchDir, '../bin/overnight.js');
const base = process.env.OVERNIGHT_BASE_CLI;
const env = { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' };
const cases = [
  ['node -e 0', ['-e', '0']],
  ['overnight --help', [cli, '--help']],
  ['overnight health --nhc', [cli, 'health', '--nhc']],
  ['health --nhc --check quick', [cli, 'health', '--nhc', '--check', 'quick']],
  ...(base
    ? [
        ['before: --help', [base, '--help']],
        ['before: health --nhc', [base, 'health', '--nhc']],
      ]
    : []),
];

const times = new Map(cases.map(([name]) => [name, []]));
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const loadBefore = load();
for (let r = 0; r < rounds + 1; r++) {
  for (const [name, args] of cases) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, args, { env, stdio: 'ignore' });
    // round 0 warms the page cache and is not counted
    if (r > 0) times.get(name).push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(`rounds ${rounds}; load average before ${loadBefore}, after ${load()}`);
const node0 = median(times.get('node -e 0'));
for (const [name] of cases) {
  const m = median(times.get(name));
  console.log(
    `${name.padEnd(24)} median ${m.toFixed(0).padStart(5)} ms  (${(m / node0).toFixed(2)}x node -e 0, ` +
      `+${(m - node0).toFixed(0)} ms)`,
  );
}
