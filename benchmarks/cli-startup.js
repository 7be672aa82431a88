// Start-up of the CLI as its callers pay it: Slurm runs `health --nhc` as HealthCheckProgram every few
// minutes on every node, node-problem-detector a plugin every 30 s, a user `--help`; `node -e 0` is the
// floor measured in the same run. Each figure is the wall time of a whole process (spawn to exit), so
// module loading, config validation, the database, the kernel-log ingest and the check itself all count.
//
// Cases are interleaved with interleave() (ABAB rounds, the order alternating, the median of round
// medians), so a machine that gets busier or quieter during the run moves every case alike; the load
// average before and after is printed beside the figures. The health cases run against a fresh state
// directory of their own, and without NVML (OVERNIGHT_NVML_LIBRARY=/none), as on a CPU node.
//
// Env: ROUNDS (default 8), PER_ROUND (default 3); OVERNIGHT_BASE_CLI=path/to/bin/overnight.js adds the
// same cases of another build to the same rounds (a before/after).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDir, interleave, loadColumn, runIfMain } from './lib/measure.js';

const TARGETS = { '--help': 300, 'health --nhc': 400 };

/**
 * One process to completion; throws when it did not run to an exit the command allows (so a broken CLI is not timed
 * as fast).
 */
function runner(args, env, okStatus) {
  return () => {
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.error) throw r.error;
    if (!okStatus.includes(r.status))
      throw new Error(
        `${args.slice(1).join(' ')}: exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).slice(0, 300)}`,
      );
  };
}

export async function run() {
  const rounds = Number(process.env.ROUNDS ?? 8);
  const perRound = Number(process.env.PER_ROUND ?? 3);
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-cli-'));
  try {
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ stateDir: path.join(dir, 'state') }));
    const env = { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' };
    // health exits 0/1 by the node's state (a loaded or test-scarred node is degraded or critical), 2 only when it
    // cannot tell.
    const health = [0, 1];
    const clis = [['', path.join(benchDir, '../bin/overnight.js')]];
    if (process.env.OVERNIGHT_BASE_CLI) clis.push(['before: ', path.resolve(process.env.OVERNIGHT_BASE_CLI)]);
    const cases = { 'node -e 0': runner(['-e', '0'], env, [0]) };
    for (const [prefix, cli] of clis) {
      cases[`${prefix}--help`] = runner([cli, '--help'], env, [0]);
      cases[`${prefix}health --nhc`] = runner([cli, 'health', '--nhc', '--config', config], env, health);
      cases[`${prefix}health --json --check quick`] = runner(
        [cli, 'health', '--json', '--check', 'quick', '--config', config],
        env,
        health,
      );
    }
    const r = await interleave(cases, { rounds, perRound, warmup: 1 });
    const ms = (name) => r[name].medianUs / 1000;
    const floor = ms('node -e 0');
    const rows = Object.keys(cases).map((name) => [
      name,
      `${ms(name).toFixed(0)} ms`,
      `${(r[name].p99Us / 1000).toFixed(0)} ms`,
      name === 'node -e 0' ? '-' : `+${(ms(name) - floor).toFixed(0)} ms (${(ms(name) / floor).toFixed(2)}×)`,
      TARGETS[name] !== undefined ? `≤ ${TARGETS[name]} ms` : '-',
      loadColumn(r.load),
    ]);
    const targets = Object.entries(TARGETS).map(([name, goal]) => ({
      what: `overnight ${name} wall time (median of round medians)`,
      value: Math.round(ms(name)),
      goal: `≤ ${goal} ms`,
      met: ms(name) <= goal,
    }));
    return {
      title: 'CLI start-up (whole process, spawn to exit)',
      head: ['command', 'median', 'max (p99)', 'over node -e 0', 'target', 'load 1 min'],
      rows,
      notes: [
        `${rounds} interleaved rounds × ${perRound} runs of each case (ABAB, order alternating); load average ` +
          `${r.load.before} before, ${r.load.after} after`,
        'health runs against a fresh state directory without NVML; its kernel-log ingest reads the whole ring ' +
          'buffer, as it does on a node',
        ...targets.map((t) => `target ${t.what}: ${t.value} ms, goal ${t.goal}: ${t.met ? 'met' : 'NOT met'}`),
      ],
      load: r.load,
      targets,
      raw: Object.fromEntries(Object.keys(cases).map((n) => [n, r[n]])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, run);
