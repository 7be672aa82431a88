import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';
import { ACTIVE, makeSysfsRoot, writeIbPort } from '../helpers/fake-sysfs.js';

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const root = makeSysfsRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('overnight health --nhc with the node checks (built CLI)', () => {
  it('an expected InfiniBand port that is down drains the node with a one-line reason; the JSON has the typed section', async () => {
    writeIbPort(root, 'mlx5_0', 1, ACTIVE);
    writeIbPort(root, 'mlx5_1', 1, { ...ACTIVE, state: '1: DOWN', physState: '2: Polling' });
    const { file } = writeConfig({ nodeChecks: { infiniband: { expected: [{ device: 'mlx5_0', port: 1, rateGbps: 200 }, { device: 'mlx5_1', port: 1 }] } } });
    const bad = await runCli(['health', '--nhc', '--config', file], { OVERNIGHT_SYSFS_ROOT: root });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('overnight: InfiniBand mlx5_1/1: expected ACTIVE, is DOWN, physical Polling\n');
    const json = await runCli(['health', '--json', '--config', file], { OVERNIGHT_SYSFS_ROOT: root });
    const report = JSON.parse(json.stdout) as { status: string; metrics: { node_checks: { infiniband: { available: boolean; sysfs_root: string; ports: { device: string; status: string }[] } } } };
    expect(report.status).toBe('critical');
    expect(report.metrics.node_checks.infiniband.sysfs_root).toBe(root);
    expect(report.metrics.node_checks.infiniband.ports.map((p) => [p.device, p.status])).toEqual([['mlx5_0', 'healthy'], ['mlx5_1', 'critical']]);
    writeIbPort(root, 'mlx5_1', 1, ACTIVE);
    const ok = await runCli(['health', '--nhc', '--config', file], { OVERNIGHT_SYSFS_ROOT: root });
    expect(ok.stdout).toMatch(/^OK (healthy|degraded)\n$/);
    expect(ok.code).toBe(0);
  }, 60_000);
});
