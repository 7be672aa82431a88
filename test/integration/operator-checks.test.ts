import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { OvernightMetrics } from '../../src/metrics/prometheus.js';
import { OperatorChecks, runOperatorCheck } from '../../src/node-checks/operator-checks.js';
import { procState, waitFor } from '../helpers/children.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'overnight-checks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const script = (name: string, body: string) => {
  const p = path.join(tmp, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
};
const check = (name: string, command: string[], extra: object = {}) =>
  parseConfig({ checks: [{ name, command, ...extra }] }).checks[0];

describe("operators' own checks (NPD/NHC contract)", () => {
  it('exit 0 ok, 1 problem, 2 unknown; the first stdout line is the message', async () => {
    const ok = await runOperatorCheck(check('ok', [script('ok.sh', 'echo "all good"; echo second line')]));
    expect(ok).toMatchObject({ name: 'ok', outcome: 'ok', message: 'all good', exit_code: 0, timed_out: false });
    const bad = await runOperatorCheck(check('bad', [script('bad.sh', 'echo "ECC errors on /dev/nvidia3"; exit 1')]));
    expect(bad).toMatchObject({ outcome: 'problem', message: 'ECC errors on /dev/nvidia3', exit_code: 1 });
    const unk = await runOperatorCheck(check('unk', [script('unk.sh', 'exit 2')]));
    expect(unk).toMatchObject({ outcome: 'unknown', message: 'exit 2', exit_code: 2 });
    const missing = await runOperatorCheck(check('missing', [path.join(tmp, 'does-not-exist')]));
    expect(missing).toMatchObject({ outcome: 'unknown', exit_code: null });
    expect(missing.message).toContain('ENOENT');
  });

  it('a check past its timeout is unknown, and its children are killed with it', async () => {
    const pidFile = path.join(tmp, 'grandchild.pid');
    const r = await runOperatorCheck(
      check('slow', [script('slow.sh', `sleep 300 & echo $! > ${pidFile}; wait`)], { timeoutSec: 0.5 }),
    );
    expect(r).toMatchObject({ outcome: 'unknown', timed_out: true, message: 'timed out after 0.5 s' });
    const { readFileSync } = await import('node:fs');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => procState(grandchild) === null || procState(grandchild) === 'Z', 10_000);
  });

  it('runs on schedule: only due checks run again, one run at a time', async () => {
    const counter = path.join(tmp, 'count');
    writeFileSync(counter, '');
    const c = check('counted', [script('count.sh', `echo x >> ${counter}; echo ran`)], { intervalSec: 60 });
    let now = 1_000_000;
    const checks = new OperatorChecks([c], { now: () => now });
    await Promise.all([checks.runDue(), checks.runDue()]);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(counter, 'utf8')).toBe('x\n');
    now += 30_000;
    await checks.runDue();
    expect(readFileSync(counter, 'utf8')).toBe('x\n');
    now += 31_000;
    await checks.runDue();
    expect(readFileSync(counter, 'utf8')).toBe('x\nx\n');
    expect(checks.runCounts()).toContainEqual({ name: 'counted', outcome: 'ok', count: 2 });
  });

  it('dcgmDiag checks run `dcgmi diag -r 1 -j` and judge its JSON (a fake dcgmi here)', async () => {
    const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/dcgm');
    copyFileSync(path.join(fixtures, 'diag-r1-fail.json'), path.join(tmp, 'diag.json'));
    const dcgmi = script(
      'dcgmi',
      `[ "$1 $2 $3 $4" = "diag -r 1 -j" ] || { echo "bad args: $*"; exit 3; }\ncat ${tmp}/diag.json`,
    );
    const c = parseConfig({ checks: [{ name: 'dcgm', dcgmDiag: { dcgmi } }] }).checks[0];
    const r = await runOperatorCheck(c);
    expect(r.outcome).toBe('problem');
    expect(r.message).toContain('Page Retirement/Row Remap (GPU 1)');
  });

  it('a problem feeds the health status, the recommendations and /metrics', async () => {
    const config = parseConfig({
      nodeChecks: { sysfsRoot: path.join(tmp, 'no-sysfs') },
      checks: [
        { name: 'gpu-burn', command: [script('crit.sh', 'echo "GPU 2 fell off the bus"; exit 1')] },
        { name: 'nfs-latency', command: [script('deg.sh', 'echo "NFS slow"; exit 1')], severity: 'degraded' },
        { name: 'fine', command: [script('fine.sh', 'echo fine')] },
      ],
    });
    const monitor = new HealthMonitor({ config, gpu: null });
    const report = await monitor.checkSystemHealth('full');
    const nc = report.metrics.node_checks!;
    expect(nc.operator_checks.map((c) => [c.name, c.outcome])).toEqual([
      ['gpu-burn', 'problem'],
      ['nfs-latency', 'problem'],
      ['fine', 'ok'],
    ]);
    expect(report.status).toBe('critical');
    expect(nc.findings[0]).toMatchObject({
      check: 'check:gpu-burn',
      severity: 'critical',
      message: 'check gpu-burn: GPU 2 fell off the bus',
    });
    expect(
      report.recommendations.some((r) => r.severity === 'critical' && r.message.includes('GPU 2 fell off the bus')),
    ).toBe(true);
    const m = new OvernightMetrics();
    m.updateHealth(report, new Set());
    const text = await m.text();
    expect(text).toContain('overnight_check_status{check="gpu-burn"} 1');
    expect(text).toContain('overnight_check_status{check="fine"} 0');
    expect(text).toContain('overnight_node_findings{check="check",severity="critical"} 1');
    const quick = await monitor.checkSystemHealth('quick');
    expect(quick.metrics.node_checks).toBeUndefined();
  });
});

describe("operators' checks in the event history", () => {
  it("stores each change of a check's outcome (not every run) as an event every process can read", async () => {
    const { createOvernightContext } = await import('../../src/context.js');
    const dir = mkdtempSync(path.join(tmp, 'state-'));
    const flag = path.join(dir, 'broken');
    writeFileSync(flag, '');
    // Fails while the flag file exists, passes once it is gone.
    const probe = script('flaky-disk', `if [ -e '${flag}' ]; then echo "scratch disk missing"; exit 1; fi\necho fine`);
    const ctx = await createOvernightContext({
      config: parseConfig({
        stateDir: dir,
        kernelLog: { enabled: false },
        checks: [{ name: 'scratch', command: [probe], severity: 'critical' }],
      }),
      identity: { scopeRoot: process.pid, selfPid: process.pid },
      health: { gpu: null },
    });
    try {
      const checks = ctx.health.nodeChecks.operatorChecks;
      const stored = () => ctx.events.list({}).filter((e) => e.kind === 'operator_check');
      await checks.run(checks.checks[0]);
      await checks.run(checks.checks[0]); // still failing: no second event
      expect(stored()).toHaveLength(1);
      expect(stored()[0]).toMatchObject({
        source: 'probe',
        severity: 'critical',
        subject: { check: 'scratch', outcome: 'problem' },
      });
      expect(stored()[0].message).toBe('check scratch found a problem: scratch disk missing');
      rmSync(flag);
      await checks.run(checks.checks[0]);
      expect(stored().map((e) => [e.severity, e.subject.outcome])).toEqual([
        ['info', 'ok'],
        ['critical', 'problem'],
      ]); // newest first
    } finally {
      await ctx.close();
    }
  });
});
