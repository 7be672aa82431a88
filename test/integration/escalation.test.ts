import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Escalator } from '../../src/recovery/escalation.js';
import { ManualClock } from '../../src/util/clock.js';
import { firstLine, killAll, pidsRunning, procState, scripts, spawnNode } from '../helpers/children.js';

afterAll(killAll);

async function receiver(failFirst: number) {
  const bodies: unknown[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      calls++;
      if (calls <= failFirst) return void res.writeHead(503).end();
      bodies.push(JSON.parse(b));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    bodies,
    calls: () => calls,
    close: () => server.close(),
  };
}

const hungAlert = { key: 'k', severity: 'warning' as const, summary: 'test alert', details: {} };

describe('escalation commands', () => {
  it('a command past its time-out is killed with its whole process group: nothing it started is left', async () => {
    const cfg = parseConfig({ escalation: { commands: [['sh', '-c', 'cat >/dev/null; sleep 336; echo done']] } });
    const e = new Escalator(cfg.escalation, new ManualClock());
    e.commandTimeoutMs = 1000;
    try {
      const r = await e.escalate(hungAlert);
      expect(r.channels.find((c) => c.channel === 'command sh')).toMatchObject({
        ok: false,
        error: 'timed out after 1 s (process group killed)',
      });
      // SIGKILL to the group is delivered before kill() returns; reaping by init may lag on a loaded machine.
      for (const t0 = Date.now(); pidsRunning(['sleep', '336']).length && Date.now() - t0 < 10_000;)
        await new Promise((r) => setTimeout(r, 50));
      expect(pidsRunning(['sleep', '336'])).toEqual([]);
    } finally {
      for (const pid of pidsRunning(['sleep', '336'])) process.kill(pid, 'SIGKILL');
    }
  }, 30_000);

  it('notify() decides at once and delivers alerts concurrently; settled() waits for them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-esc-'));
    // Each run marks its start, then waits until two have started: delivered one after another, the first would
    // wait for a second that never comes and time out.
    const script = `cat >/dev/null; touch ${dir}/started.$$; while [ $(ls ${dir} | wc -l) -lt 2 ]; do sleep 0.05; done`;
    const cfg = parseConfig({ escalation: { commands: [['sh', '-c', script]] } });
    const e = new Escalator(cfg.escalation, new ManualClock());
    e.commandTimeoutMs = 20_000;
    const sent: { key: string; ok: boolean[] }[] = [];
    e.onSent = (a, report) => sent.push({ key: a.key, ok: report.channels.map((c) => c.ok) });
    try {
      const a = e.notify({ ...hungAlert, key: 'a' });
      const b = e.notify({ ...hungAlert, key: 'b' });
      expect([a.delivering, b.delivering, a.deduplicated, b.deduplicated]).toEqual([true, true, false, false]);
      expect(e.notify({ ...hungAlert, key: 'a' }).deduplicated).toBe(true);
      expect(sent).toEqual([]);
      await e.settled();
      expect(sent.sort((x, y) => x.key.localeCompare(y.key))).toEqual([
        { key: 'a', ok: [true, true] },
        { key: 'b', ok: [true, true] },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('escalation channels', () => {
  it('retries a failing webhook with backoff; Slack and Alertmanager payloads; dedupes, rate-limits', async () => {
    const flaky = await receiver(2);
    const slack = await receiver(0);
    const am = await receiver(0);
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-esc-'));
    const cmdOut = path.join(dir, 'alert.json');
    const cfg = parseConfig({
      escalation: {
        webhooks: [{ url: flaky.url }, { url: slack.url, format: 'slack' }, { url: am.url, format: 'alertmanager' }],
        commands: [['sh', '-c', `cat > ${cmdOut}`]],
        retries: 3,
        dedupSec: 600,
      },
    }).escalation;
    const clock = new ManualClock();
    const sleeps: number[] = [];
    const e = new Escalator(cfg, clock, async (ms) => void sleeps.push(ms));
    e.maxPerHour = 2;
    const alert = {
      key: 'gpu:0:xid79',
      severity: 'critical' as const,
      summary: 'GPU 0 fell off the bus',
      details: { gpu: 0 },
    };
    const r = await e.escalate(alert);
    expect(r.channels.find((c) => c.channel.startsWith('webhook 1 '))).toMatchObject({ ok: true, attempts: 3 });
    expect(sleeps).toEqual([500, 1000]);
    expect((slack.bodies[0] as { text: string }).text).toMatch(/\[CRITICAL\].*GPU 0 fell off the bus/);
    expect((am.bodies[0] as { labels: { alertname: string; severity: string } }[])[0].labels).toMatchObject({
      alertname: 'OvernightOps',
      severity: 'critical',
    });
    expect(JSON.parse(readFileSync(cmdOut, 'utf8'))).toMatchObject({
      key: 'gpu:0:xid79',
      summary: 'GPU 0 fell off the bus',
    });
    expect((await e.escalate(alert)).deduplicated).toBe(true);
    await e.escalate({ ...alert, key: 'other' });
    const limited = await e.escalate({ ...alert, key: 'third' });
    expect(limited.rateLimited).toBe(true);
    expect(e.counts).toEqual({ sent: 2, deduplicated: 1, rateLimited: 1 });
    clock.advance(3601_000);
    expect((await e.escalate({ ...alert, key: 'third' })).deduplicated).toBe(false);
    for (const x of [flaky, slack, am]) x.close();
  });

  it('names a webhook by position and host, never its secret path, and says on stderr when it failed', async () => {
    const gone = await receiver(0);
    gone.close(); // nothing listens there any more: every attempt fails
    const secretUrl = gone.url.replace('/hook', '/services/T1/B2/SECRETHOOK');
    const cfg = parseConfig({ escalation: { webhooks: [{ url: secretUrl, timeoutMs: 2000 }], retries: 0 } }).escalation;
    const e = new Escalator(cfg, new ManualClock(), async () => undefined);
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    };
    let r;
    try {
      r = await e.escalate({ key: 'disk:full:/', severity: 'critical', summary: 'disk full', details: {} });
    } finally {
      process.stderr.write = write;
    }
    const hook = r.channels.find((c) => c.channel.startsWith('webhook'))!;
    expect(hook).toMatchObject({ ok: false, channel: `webhook 1 (${new URL(secretUrl).host})` });
    expect(JSON.stringify(r)).not.toContain('SECRETHOOK');
    const said = lines.join('');
    expect(said).toMatch(/alert disk:full:\/: webhook 1 \(127\.0\.0\.1:\d+\) failed after 1 attempt\(s\)/);
    expect(said).not.toContain('SECRETHOOK');
  });
});

describe("emergency shutdown (the error handler's last resort)", () => {
  it('in dry-run mode lists the agent tree it would stop and writes the final state', async () => {
    const { createOvernightContext } = await import('../../src/context.js');
    const { OvernightErrorHandler } = await import('../../src/monitor/error-handler.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-emerg-'));
    const ctx = await createOvernightContext({
      config: parseConfig({ stateDir: dir }),
      identity: { scopeRoot: process.pid, selfPid: process.pid },
      health: { gpu: null },
    });
    const child = spawnNode(scripts.idle());
    await firstLine(child);
    const r = await new OvernightErrorHandler(ctx, 'dry_run').emergencyShutdown('test');
    expect(r.stopped).toContain(child.pid);
    expect(procState(child.pid!)).toBe('S');
    expect(existsSync(r.finalState)).toBe(true);
    expect(JSON.parse(readFileSync(r.finalState, 'utf8'))).toMatchObject({ reason: 'test', dry_run: true });
    await ctx.close();
  });
});
