/**
 * The reported case end to end: an operator check whose script leaves a setsid'd grandchild holding its stdout
 * held `overnight health` and the monitor's cycle (and its SIGTERM) for as long as the grandchild lived.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';
import { procState, waitFor } from '../helpers/children.js';

/** Each run of the check appends the pid of the process it let escape; the hold is far beyond every bound here. */
function setup() {
  const escaped = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-escaped-')), 'escaped.pids');
  // It goes on once its grandchild has escaped (appended its pid): the check's group is killed at its exit, and
  // would otherwise catch the grandchild before its setsid() on a loaded machine (and leave it unlisted).
  const lines = `$(cat ${escaped} 2>/dev/null | wc -l)`;
  const cmd =
    `n=${lines}; (setsid sh -c 'echo $$ >> ${escaped}; exec sleep 94' &); ` +
    `while [ ${lines} -le $n ]; do sleep 0.02; done; echo started; exit 0`;
  const { file } = writeConfig({
    checks: [{ name: 'bg', command: ['sh', '-c', cmd], intervalSec: 1, timeoutSec: 2 }],
  });
  return { cfg: file, escaped };
}

function killEscaped(file: string) {
  if (!existsSync(file)) return;
  for (const pid of readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number)) {
    const s = procState(pid);
    if (s !== null && s !== 'Z') process.kill(pid, 'SIGKILL');
  }
}

function cli(args: string[]) {
  const p = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  return { p, out: () => stdout, err: () => stderr, exited };
}

describe('a check with an escaped grandchild (CLI)', () => {
  it('`overnight health` and `--nhc` report at once: the check is ok with what it printed', async () => {
    const { cfg, escaped } = setup();
    try {
      for (const args of [
        ['health', '--config', cfg, '--json'],
        ['health', '--nhc', '--config', cfg],
      ]) {
        const t0 = Date.now();
        const run = cli(args);
        try {
          const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('held'), 30_000))]);
          expect(code).not.toBe('held');
          expect(Date.now() - t0).toBeLessThan(30_000);
          if (args[1] === '--config') {
            const report = JSON.parse(run.out()) as {
              metrics: { node_checks: { operator_checks: { name: string; outcome: string; message: string }[] } };
            };
            expect(report.metrics.node_checks.operator_checks).toEqual([
              expect.objectContaining({ name: 'bg', outcome: 'ok', message: 'started' }),
            ]);
          } else expect(code).toBe(0);
        } finally {
          run.p.kill('SIGKILL');
        }
      }
    } finally {
      killEscaped(escaped);
    }
  }, 90_000);

  it('the monitor cycles and handles SIGTERM promptly', async () => {
    const { cfg, escaped } = setup();
    const run = cli(['monitor', '--config', cfg, '--interval', '0.5', '--json']);
    try {
      // The monitor's JSON lines go to stderr.
      await waitFor(() => /"type":"cycle"/.test(run.err()), 30_000, 50);
      const first = JSON.parse(
        run
          .err()
          .split('\n')
          .find((l) => l.includes('"type":"cycle"'))!,
      ) as {
        duration_ms: number;
      };
      expect(first.duration_ms).toBeLessThan(30_000);
      // At least one more run of the check has started its escaped grandchild: the monitor keeps going.
      await waitFor(() => existsSync(escaped) && readFileSync(escaped, 'utf8').split('\n').length > 2, 30_000, 50);
      const t0 = Date.now();
      run.p.kill('SIGTERM');
      const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('held'), 30_000))]);
      expect(code).not.toBe('held');
      expect(Date.now() - t0).toBeLessThan(30_000);
    } finally {
      run.p.kill('SIGKILL');
      killEscaped(escaped);
    }
  }, 120_000);
});
