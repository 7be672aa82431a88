/** `overnight health --nhc` and --fail-on: which statuses fail Slurm's HealthCheckProgram. */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';

function health(
  args: string[],
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { file } = writeConfig(config);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'health', '--nhc', '--config', file, ...args],
      { env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Any node uses more than 0.1 % of its memory: degraded, not critical.
const tiny = { thresholds: { memory: 0.001 } };

describe('overnight health --nhc --fail-on', () => {
  it('passes a degraded node by default (critical fails), and fails it with --fail-on degraded', async () => {
    const def = await health([], tiny);
    expect(def.stdout).toBe('OK degraded\n');
    expect(def.code).toBe(0);
    const strict = await health(['--fail-on', 'degraded'], tiny);
    // memory first; on a busy machine a CPU breach with PSI cpu stall may follow it (not informational then).
    expect(strict.stdout).toMatch(/^overnight: memory 0\.\d+ > 0\.001(, [\w:.]+ [\d.]+ > [\d.]+)*\n$/);
    expect(strict.code).toBe(1);
  }, 60_000);

  it('takes the default from slurm.failOn, and the flag overrides it', async () => {
    const cfg = { ...tiny, slurm: { failOn: 'degraded' } };
    expect((await health([], cfg)).code).toBe(1);
    expect((await health(['--fail-on', 'critical'], cfg)).code).toBe(0);
  }, 60_000);

  it('refuses a value it does not know, naming the flag and what is allowed', async () => {
    // A plugin's configuration error is "unknown" (exit 2) with its one line on stdout, where Slurm looks.
    const r = await health(['--fail-on', 'warning'], tiny);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('--fail-on: got "warning"; expected critical or degraded');
    const c = await health([], { slurm: { failOn: 'warning' } });
    expect(c.code).toBe(2);
    expect(c.stdout).toMatch(/slurm\.failOn/);
  }, 60_000);

  it('--drain, Slurm unreachable: exit code and line of the check, the scontrol failure on stderr', async () => {
    const r = await health(['--fail-on', 'degraded', '--drain'], tiny, {
      PATH: '/nonexistent',
      SLURMD_NODENAME: 'gpu-017',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^overnight: memory [^\n]+\n$/);
    expect(r.stderr).toMatch(/slurm node gpu-017: cannot read the node: scontrol show node -o gpu-017: .*ENOENT/);
  }, 60_000);

  it('never echoes a bad server.token on the Slurm line or on stderr', async () => {
    const r = await health([], { server: { token: 'correct horse battery staple' } });
    expect(r.stdout + r.stderr).toMatch(/server\.token: got a secret string \(not shown\) of 28 characters/);
    for (const word of ['correct', 'horse', 'battery', 'staple']) expect(r.stdout + r.stderr).not.toContain(word);
  }, 60_000);
});
