import { execFile, spawn } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';
import { ACTIVE, makeSysfsRoot, writeIbPort } from '../helpers/fake-sysfs.js';

function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const root = makeSysfsRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('overnight health --nhc with the node checks (built CLI)', () => {
  it('an expected InfiniBand port down drains the node with a one-line reason; JSON has the section', async () => {
    writeIbPort(root, 'mlx5_0', 1, ACTIVE);
    writeIbPort(root, 'mlx5_1', 1, { ...ACTIVE, state: '1: DOWN', physState: '2: Polling' });
    const { file } = writeConfig({
      nodeChecks: {
        infiniband: {
          expected: [
            { device: 'mlx5_0', port: 1, rateGbps: 200 },
            { device: 'mlx5_1', port: 1 },
          ],
        },
      },
    });
    const bad = await runCli(['health', '--nhc', '--config', file], { OVERNIGHT_SYSFS_ROOT: root });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('overnight: InfiniBand mlx5_1/1: expected ACTIVE, is DOWN, physical Polling\n');
    const json = await runCli(['health', '--json', '--config', file], { OVERNIGHT_SYSFS_ROOT: root });
    const report = JSON.parse(json.stdout) as {
      status: string;
      metrics: {
        node_checks: {
          infiniband: { available: boolean; sysfs_root: string; ports: { device: string; status: string }[] };
        };
      };
    };
    expect(report.status).toBe('critical');
    expect(report.metrics.node_checks.infiniband.sysfs_root).toBe(root);
    expect(report.metrics.node_checks.infiniband.ports.map((p) => [p.device, p.status])).toEqual([
      ['mlx5_0', 'healthy'],
      ['mlx5_1', 'critical'],
    ]);
    writeIbPort(root, 'mlx5_1', 1, ACTIVE);
    const ok = await runCli(['health', '--nhc', '--config', file], { OVERNIGHT_SYSFS_ROOT: root });
    expect(ok.stdout).toMatch(/^OK (healthy|degraded)\n$/);
    expect(ok.code).toBe(0);
  }, 60_000);
});

describe('overnight monitor /metrics with the node checks (built CLI)', () => {
  it("serves node_infiniband_* and the operator check's status after the first full cycle", async () => {
    writeIbPort(root, 'mlx5_4', 1, { ...ACTIVE, counters: { symbol_error: 12 } });
    const { file } = writeConfig({
      checks: [{ name: 'site-check', command: [path.join(root, 'check.sh')], intervalSec: 3600 }],
    });
    writeFileSync(path.join(root, 'check.sh'), '#!/bin/sh\necho "scratch is slow"\nexit 1\n');
    chmodSync(path.join(root, 'check.sh'), 0o755);
    const p = spawn(
      process.execPath,
      [CLI, 'monitor', '--config', file, '--interval', '0.5', '--cycles', '1000', '--metrics', '0'],
      {
        env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none', OVERNIGHT_SYSFS_ROOT: root },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      const t0 = Date.now();
      while (!/"type":"cycle"/.test(err) && Date.now() - t0 < 40_000) await new Promise((r) => setTimeout(r, 50));
      const start = JSON.parse(err.split('\n')[0]) as { metrics: string };
      const text = await (await fetch(start.metrics)).text();
      expect(text).toContain('node_infiniband_state_id{device="mlx5_4",port="1"} 4');
      expect(text).toContain('node_infiniband_symbol_error_total{device="mlx5_4",port="1"} 12');
      expect(text).toContain('# TYPE node_infiniband_symbol_error_total counter');
      expect(text).toContain('overnight_check_status{check="site-check"} 1');
      expect(text).toMatch(/^node_filefd_maximum \d+$/m);
    } finally {
      p.kill('SIGKILL');
    }
  }, 60_000);
});
