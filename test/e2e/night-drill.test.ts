/**
 * The night drill: the monitor with a fast clock against a leaking child, a hung child, an Xid
 * injected on the fake NVML while a child holds the GPU, a filling scratch filesystem and a stalled
 * task — each detected, then recovered or escalated as the policy says, with the audit log, the
 * alerts received by a webhook, and the Prometheus metrics telling the same story.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/util/clock.js';
import { FakeNvmlConfig, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';
import { firstLine, killAll, procState, scripts, spawnNode, waitFor } from '../helpers/children.js';

const fake = new FakeNvmlConfig({ devices: fakeGpus(1), events: [] });
const nvmlLog = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-drill-nvml-')), 'calls.log');
useFakeNvml('full', fake);
process.env.OVERNIGHT_FAKE_NVML_LOG = nvmlLog;
const { createOvernightContext } = await import('../../src/context.js');
const { OvernightMonitor } = await import('../../src/monitor/overnight-monitor.js');
const { OvernightMetrics } = await import('../../src/metrics/prometheus.js');
const { scrapeSources } = await import('../../src/metrics/scrape-sources.js');

const base = mkdtempSync(path.join(tmpdir(), 'ovn-drill-'));
const scratch = path.join(base, 'scratch');
mkdirSync(scratch);
let tmpfs = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', scratch], { stdio: 'ignore' });
  tmpfs = true;
} catch {
  tmpfs = false;
}
afterAll(() => {
  killAll();
  if (tmpfs) execFileSync('umount', ['-l', scratch], { stdio: 'ignore' });
});

describe.skipIf(!tmpfs)('night drill', () => {
  it('detects, recovers or escalates every fault, and the audit log and metrics agree', async () => {
    // A webhook receiver for alerts.
    const alerts: { summary: string; key: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        alerts.push(JSON.parse(body) as { summary: string; key: string });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as { port: number }).port;

    const clock = new ManualClock(Date.now());
    const ctx = await createOvernightContext({
      clock,
      config: parseConfig({
        stateDir: path.join(base, 'state'),
        paths: ['/', scratch],
        thresholds: { disk: 0.8 },
        watch: { warmupSec: 0, leakMinWindowSec: 60, leakMinSlopeMbPerMin: 5, noProgressSec: 0 },
        progress: { stallSec: 600 },
        policy: {
          cleanupRoots: [scratch],
          allowGpuSettings: true,
          allowGpuReset: false,
          termGraceSec: 1,
          maxActionsPerHour: 1000,
        },
        monitor: { recover: 'on', intervalSec: 30 },
        escalation: { webhooks: [{ url: `http://127.0.0.1:${port}/alert`, format: 'json' }], dedupSec: 3600 },
      }),
      identity: { scopeRoot: process.pid, selfPid: process.pid },
    });

    // The faults.
    const leaker = spawnNode(scripts.leak(50));
    const hung = spawnNode(scripts.idle());
    const gpuHolder = spawnNode(scripts.idle());
    await Promise.all([firstLine(leaker), firstLine(hung), firstLine(gpuHolder)]);
    hung.kill('SIGSTOP');
    await waitFor(() => procState(hung.pid!) === 'T');
    fake.write({
      devices: [
        { ...fakeGpus(1)[0], liveProcesses: true, processes: [{ pid: gpuHolder.pid!, usedMemory: 8 * 2 ** 30 }] },
      ],
      events: [],
    });
    for (let i = 0; i < 11; i++) {
      writeFileSync(path.join(scratch, `ckpt-${i}.bin`), Buffer.alloc(5 * 2 ** 20, 1));
      const old = new Date(Date.now() - (20 - i) * 86400_000);
      utimesSync(path.join(scratch, `ckpt-${i}.bin`), old, old);
    }
    await ctx.progress.trackCodingProgress('night-task', [{ stage: 'train', completion: 0.2 }]);

    // A night in seconds: each sleep is 30 s of clock and 150 ms of real time.
    const metrics = new OvernightMetrics(scrapeSources(ctx));
    const cycles: { trigger: string; status: string }[] = [];
    const monitor = new OvernightMonitor(ctx, {
      metrics,
      sleep: async (ms, wake) => {
        await new Promise((r) => setTimeout(r, 150));
        clock.advance(wake.aborted ? 1000 : ms);
      },
      onCycle: (c) => cycles.push({ trigger: c.trigger, status: c.status }),
    });
    const ac = new AbortController();
    const running = monitor.run(ac.signal, 40);
    await new Promise((r) => setTimeout(r, 1500));
    fake.injectXid(0, 48);
    await running;

    // Leak: detected and ended by the monitor, recorded in the audit log.
    const audit = ctx.audit.list({ limit: 10_000 });
    const signalled = (pid: number) =>
      audit.filter(
        (e) =>
          e.action === 'signal' &&
          (e.target as { pid: number }).pid === pid &&
          e.allowed &&
          !e.dry_run &&
          e.actor === 'monitor',
      );
    expect(signalled(leaker.pid!).length).toBeGreaterThan(0);
    await waitFor(() => procState(leaker.pid!) === null || procState(leaker.pid!) === 'Z');
    // Hang: continued and ended.
    expect(signalled(hung.pid!).map((e) => (e.target as { signal: string }).signal)).toEqual(
      expect.arrayContaining(['SIGCONT', 'SIGTERM']),
    );
    // Xid on a GPU held by a child: the woken monitor ended the holder, reset clocks, was refused the
    // reset by the policy, and escalated.
    expect(cycles.some((c) => c.trigger.startsWith('xid'))).toBe(true);
    expect(signalled(gpuHolder.pid!).length).toBeGreaterThan(0);
    expect(readFileSync(nvmlLog, 'utf8')).toMatch(/nvmlDeviceResetGpuLockedClocks 0/);
    expect(audit.some((e) => e.action === 'gpu_reset' && !e.allowed && /allowGpuReset is false/.test(e.reason))).toBe(
      true,
    );
    expect(alerts.some((a) => /gpu_reset recovery escalated/.test(a.summary))).toBe(true);
    // Disk: the oldest files deleted until the scratch filesystem is under 80 %.
    expect(readdirSync(scratch).length).toBeLessThan(11);
    expect(readdirSync(scratch)).not.toContain('ckpt-0.bin');
    expect(audit.some((e) => e.action === 'delete' && e.allowed && e.phase === 'outcome')).toBe(true);
    // Stalled task: alerted once (deduplicated afterwards).
    expect(alerts.filter((a) => a.key === 'stalled:night-task')).toHaveLength(1);

    // The metrics tell the same story.
    const text = await metrics.text();
    expect(text).toMatch(/overnight_recoveries_total\{operation="memory_leak",status="recovered"\} [1-9]/);
    expect(text).toMatch(/overnight_recoveries_total\{operation="process_hang",status="recovered"\} [1-9]/);
    expect(text).toMatch(/overnight_recoveries_total\{operation="gpu_reset",status="escalated"\} [1-9]/);
    expect(text).toMatch(/overnight_task_stalled\{task="night-task"\} 1/);
    expect(text).toMatch(
      new RegExp(
        String.raw`DCGM_FI_DEV_XID_ERRORS\{gpu="0",UUID="GPU-fake-0",pci_bus_id="00000000:10:00.0",` +
          String.raw`device="nvidia0",modelName="Fake H100",Hostname="[^"]+"\} 48`,
      ),
    );
    // Xid 48 (double-bit ECC) is fatal; counted under the GPU's labels though no scrape preceded it.
    expect(text).toMatch(/overnight_gpu_xid_errors_total\{gpu="0",UUID="GPU-fake-0",[^}]*xid_class="fatal"\} 1/);
    expect(text).toMatch(/node_filesystem_avail_bytes\{device="[^"]+",fstype="[^"]+",mountpoint="\/"\}/);

    receiver.close();
    ctx.gpu?.close();
    await ctx.close();
  }, 60_000);
});
