import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Escalator } from '../../src/recovery/escalation.js';
import { ManualClock } from '../../src/util/clock.js';
import { firstLine, killAll, procState, scripts, spawnNode } from '../helpers/children.js';

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
    expect(r.channels.find((c) => c.channel.includes(flaky.url))).toMatchObject({ ok: true, attempts: 3 });
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
