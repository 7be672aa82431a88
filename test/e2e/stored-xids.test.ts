/**
 * The first complaint: an Xid the monitor saw (fake NVML) and one in the kernel log must
 * reach a separately started serve: healthCheck shows them and gpu_reset acts on them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { buildFakeNvml, fakeGpus, FakeNvmlConfig } from '../helpers/fake-nvml.js';
import { canWriteKmsg, injectKmsg, uniqueMarker, waitFor } from '../helpers/kmsg.js';
import { CLI, connectStdio, structured, writeConfig } from '../helpers/mcp.js';

const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
});

type Health = {
  status: string;
  metrics: {
    gpu_health: { devices: { index: number; status: string }[]; recent_xids: { gpuIndex?: number; xid: number }[] };
    events: { recent: { message: string; subject: { pciBusId?: string } }[] };
  };
};

describe('Xids stored by one process, acted on by another', () => {
  it('an NVML Xid 48 the monitor received: a fresh serve reports the GPU and gpu_reset targets it', async () => {
    const fake = new FakeNvmlConfig({ devices: fakeGpus(2) });
    const env = { OVERNIGHT_NVML_LIBRARY: buildFakeNvml().full, OVERNIGHT_FAKE_NVML_CONFIG: fake.path };
    const cfg = { monitor: { intervalSec: 0.5, recover: 'off' } };
    const { file } = writeConfig(cfg);
    const stateDir = path.join(path.dirname(file), 'state');
    const monitor = spawn(process.execPath, [CLI, 'monitor', '--config', file, '--json'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(monitor);
    let err = '';
    monitor.stderr.on('data', (d) => (err += d));
    await waitFor(() => /"type":"cycle"/.test(err), 60_000, "the monitor's first cycle");
    fake.injectXid(0, 48);
    const db = openDatabase(stateDir);
    try {
      await waitFor(
        () => db.prepare(`SELECT 1 FROM events WHERE source = 'nvml' AND kind = 'xid'`).get(),
        30_000,
        'the monitor storing the Xid',
      );
    } finally {
      db.close();
    }
    monitor.kill('SIGTERM');
    await new Promise((r) => monitor.once('exit', r));

    // A serve that never saw the event (its own NVML watcher starts after it).
    const conn = await connectStdio({ stateDir, ...cfg }, env);
    try {
      const h = structured<Health>(
        await conn.client.callTool({ name: 'healthCheck', arguments: { checkType: 'full' } }),
      );
      expect(h.metrics.gpu_health.recent_xids).toEqual(
        expect.arrayContaining([expect.objectContaining({ gpuIndex: 0, xid: 48 })]),
      );
      expect(h.metrics.gpu_health.devices.find((d) => d.index === 0)!.status).not.toBe('healthy');
      const r = structured<{
        status: string;
        nothing_to_do?: boolean;
        target: { gpu?: number } | null;
        message: string;
      }>(
        await conn.client.callTool({
          name: 'recoverOperation',
          arguments: { operationType: 'gpu_reset', dryRun: true },
        }),
      );
      expect(r.nothing_to_do).not.toBe(true);
      expect(r.message).not.toMatch(/nothing had to be done/);
      expect(r.status).not.toBe('recovered');
    } finally {
      await conn.close();
    }
  });

  it.skipIf(!canWriteKmsg())(
    "a kernel Xid 79 on a GPU's bus: healthCheck names the GPU and gpu_reset escalates instead of resetting",
    async () => {
      const m = uniqueMarker();
      const bus = randomInt(0xc0, 0xf0).toString(16); // not a bus other tests write lines for
      const gpus = fakeGpus(2).map((g, i) => (i === 1 ? { ...g, busId: `00000000:${bus.toUpperCase()}:00.0` } : g));
      const fake = new FakeNvmlConfig({ devices: gpus });
      const env = { OVERNIGHT_NVML_LIBRARY: buildFakeNvml().full, OVERNIGHT_FAKE_NVML_CONFIG: fake.path };
      const conn = await connectStdio({ kernelLog: { enabled: true } }, env);
      try {
        injectKmsg(`NVRM: Xid (PCI:0000:${bus}:00): 79, pid=9001, name=${m}, GPU has fallen off the bus.`);
        let h: Health | null = null;
        const end = Date.now() + 30_000;
        while (Date.now() < end) {
          h = structured<Health>(await conn.client.callTool({ name: 'healthCheck', arguments: { checkType: 'full' } }));
          if (h.metrics.events.recent.some((e) => e.message.includes(m))) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(h!.metrics.events.recent.find((e) => e.message.includes(m))!.subject.pciBusId).toBe(`0000:${bus}:00.0`);
        expect(h!.metrics.gpu_health.recent_xids).toEqual(
          expect.arrayContaining([expect.objectContaining({ gpuIndex: 1, xid: 79 })]),
        );
        expect(h!.metrics.gpu_health.devices.find((d) => d.index === 1)!.status).toBe('failed');
        expect(h!.status).toBe('critical');
        const r = structured<{ status: string; message: string }>(
          await conn.client.callTool({
            name: 'recoverOperation',
            arguments: { operationType: 'gpu_reset', context: { gpu: 1 } },
          }),
        );
        expect(r.status).toBe('escalated');
        expect(r.message).toMatch(/GPU 1 cannot be fixed by a reset.*Xid 79/);
      } finally {
        await conn.close();
      }
    },
  );
});
