/**
 * Kernel lines injected into the real /dev/kmsg reach every surface: `overnight events`, a one-shot
 * `overnight health --nhc`, and `healthCheck full` of a freshly started `serve` (its own reader
 * stores them; the OOM kill's victim is a real child of the agent, so it is in scope).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { firstLine, killAll, scripts, spawnNode } from '../helpers/children.js';
import { canWriteKmsg, injectKmsg, uniqueMarker } from '../helpers/kmsg.js';
import { CLI, connectStdio, structured, writeConfig } from '../helpers/mcp.js';

const run = promisify(execFile);
const cli = async (args: string[]) => {
  try {
    const r = await run(process.execPath, [CLI, ...args], {
      timeout: 60_000,
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

afterAll(() => killAll());

describe.skipIf(!canWriteKmsg())('kernel events on every surface', () => {
  it('overnight events --json lists injected lines newest first, documented fields; --kind filters', async () => {
    const m = uniqueMarker();
    const { file } = writeConfig({ kernelLog: { enabled: true } });
    injectKmsg(`NVRM: Xid (PCI:0000:3b:00): 79, pid=3131, name=${m}, GPU has fallen off the bus.`);
    injectKmsg(`INFO: task ${m}:3132 blocked for more than 120 seconds.`);
    const r = await cli(['events', '--json', '--since', '10m', '--config', file]);
    expect(r.code, r.stderr).toBe(0);
    const list = (
      JSON.parse(r.stdout) as {
        time: string;
        source: string;
        kind: string;
        severity: string;
        message: string;
        subject: Record<string, unknown>;
      }[]
    ).filter((e) => e.message.includes(m));
    expect(list.map((e) => e.kind)).toEqual(['hung_task', 'xid']);
    for (const e of list) expect(Date.parse(e.time)).toBeGreaterThan(Date.now() - 600_000);
    expect(list[1]).toMatchObject({
      source: 'kmsg',
      severity: 'critical',
      subject: { xid: 79, pid: 3131, comm: m, pciBusId: '0000:3b:00.0' },
    });
    const only = JSON.parse((await cli(['events', '--json', '--kind', 'hung_task', '--config', file])).stdout) as {
      kind: string;
    }[];
    expect(new Set(only.map((e) => e.kind))).toEqual(new Set(['hung_task']));
    const bad = await cli(['events', '--kind', 'xid;drop table', '--config', file]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--kind: got "xid;drop table"; expected comma-separated kinds/);
  });

  it('overnight health --nhc drains on a fatal Xid in the kernel log, on a node without NVML', async () => {
    const m = uniqueMarker();
    const { file } = writeConfig({ kernelLog: { enabled: true } });
    injectKmsg(`NVRM: Xid (PCI:0000:3b:00): 79, pid=3133, name=${m}, GPU has fallen off the bus.`);
    const r = await cli(['health', '--nhc', '--json', '--config', file]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      status: string;
      metrics: { events: { critical: string[]; recent: { message: string }[] } };
    };
    expect(report.status).toBe('critical');
    expect(report.metrics.events.critical.some((c) => c.includes(m) && c.includes('Xid 79'))).toBe(true);
    const plain = await cli(['health', '--nhc', '--config', file]);
    expect(plain.stdout).toMatch(/^overnight: fatal .*Xid 79/);
  });

  it('a fresh serve: healthCheck full says critical for the Xid and names the in-scope OOM victim', async () => {
    const m = uniqueMarker();
    const conn = await connectStdio({ kernelLog: { enabled: true }, watch: { intervalSec: 0.2 } });
    try {
      // A real child of the agent (this test process is serve's parent, the default scope root).
      const victim = spawnNode(scripts.allocateOnce(8));
      await firstLine(victim);
      injectKmsg(`Memory cgroup out of memory: Killed process ${victim.pid} (${m}) total-vm:9000kB, anon-rss:8192kB`);
      injectKmsg(`NVRM: Xid (PCI:0000:3b:00): 79, pid=${victim.pid}, name=${m}, GPU has fallen off the bus.`);
      type Report = {
        status: string;
        metrics: {
          gpu_health: { recent_xids: { xid: number; pciBusId?: string }[] };
          events: {
            critical: string[];
            degraded: string[];
            recent: { kind: string; message: string }[];
            kernel_log: { available: boolean };
          };
        };
      };
      let report: Report | null = null;
      const end = Date.now() + 30_000;
      while (Date.now() < end) {
        report = structured<Report>(
          await conn.client.callTool({ name: 'healthCheck', arguments: { checkType: 'full' } }),
        );
        if (report.metrics.events.recent.filter((e) => e.message.includes(m)).length >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(report!.metrics.events.kernel_log.available).toBe(true);
      expect(
        report!.metrics.events.recent
          .filter((e) => e.message.includes(m))
          .map((e) => e.kind)
          .sort(),
      ).toEqual(['oom_kill', 'xid']);
      expect(report!.status).toBe('critical');
      expect(report!.metrics.events.critical.some((c) => c.includes(m))).toBe(true);
      expect(
        report!.metrics.events.degraded.some(
          (d) => d.includes(`OOM kill in the agent's scope`) && d.includes(`pid ${victim.pid} ${m}`),
        ),
      ).toBe(true);
      expect(report!.metrics.gpu_health.recent_xids.some((x) => x.xid === 79 && x.pciBusId === '0000:3b:00.0')).toBe(
        true,
      );
    } finally {
      await conn.close();
    }
  });
});
