/**
 * Escalation when recovery fails: configured webhooks (JSON, Slack-compatible or
 * Alertmanager-compatible; retried with exponential backoff), commands (the alert as JSON on
 * stdin), and the log (stderr). The same alert key is sent at most once per dedup window, also
 * across a restart: with a history attached, the sends recorded in the state database count too
 * (a monitor in a crash loop would otherwise re-send every active alert on each start).
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { OvernightConfig } from '../config/schema.js';
import type { Clock } from '../util/clock.js';

export interface Alert {
  /** Same key = same fault: de-duplicated within the window. */
  key: string;
  severity: 'warning' | 'critical';
  summary: string;
  details: Record<string, unknown>;
}

export interface DeliveryReport {
  key: string;
  deduplicated: boolean;
  rateLimited?: boolean;
  channels: { channel: string; ok: boolean; attempts: number; error?: string }[];
}

export function webhookPayload(a: Alert, format: 'json' | 'slack' | 'alertmanager', at: Date) {
  const node = hostname();
  if (format === 'slack')
    return {
      text: `*[${a.severity.toUpperCase()}]* ${node}: ${a.summary}`,
      attachments: [{ text: '```' + JSON.stringify(a.details, null, 2).slice(0, 3000) + '```' }],
    };
  if (format === 'alertmanager')
    return [
      {
        labels: { alertname: 'OvernightOps', severity: a.severity, instance: node, key: a.key },
        annotations: { summary: a.summary, description: JSON.stringify(a.details).slice(0, 4000) },
        startsAt: at.toISOString(),
      },
    ];
  return { node, at: at.toISOString(), ...a };
}

/** Alerts already sent, as recorded in the state database (by this process or an earlier one). */
export interface AlertHistory {
  /** The time the alert with this key was last sent at or after `sinceMs`, or undefined. */
  lastSent(key: string, sinceMs: number): number | undefined;
  /** The times of all alerts sent at or after `sinceMs`, oldest first. */
  sentSince(sinceMs: number): number[];
}

export class Escalator {
  private readonly lastSent = new Map<string, number>();
  private readonly sentTimes: number[] = [];
  /** Alerts delivered and suppressed, for metrics. */
  readonly counts = { sent: 0, deduplicated: 0, rateLimited: 0 };
  maxPerHour = Infinity;
  /** Told of each alert sent (the context stores it in the event history for the morning report). */
  onSent: ((a: Alert, report: DeliveryReport) => void) | undefined;
  /** Where earlier sends are remembered (the context attaches the event store). */
  history: AlertHistory | undefined;
  private seeded = false;

  constructor(
    private readonly cfg: OvernightConfig['escalation'],
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => delay(ms),
  ) {}

  get configured(): boolean {
    return this.cfg.webhooks.length > 0 || this.cfg.commands.length > 0;
  }

  async escalate(a: Alert): Promise<DeliveryReport> {
    const now = this.clock.now();
    const windowMs = this.cfg.dedupSec * 1000;
    this.seedFromHistory(now);
    let last = this.lastSent.get(a.key);
    // Memory answers while it says "sent within the window"; otherwise the database may know better.
    if (last === undefined || now - last >= windowMs) last = this.remembered(a.key, now - windowMs) ?? last;
    if (last !== undefined && now - last < windowMs) {
      this.counts.deduplicated++;
      return { key: a.key, deduplicated: true, channels: [] };
    }
    while (this.sentTimes.length && now - this.sentTimes[0]! > 3600_000) this.sentTimes.shift();
    if (this.sentTimes.length >= this.maxPerHour) {
      this.counts.rateLimited++;
      return { key: a.key, deduplicated: true, channels: [], rateLimited: true };
    }
    this.sentTimes.push(now);
    this.lastSent.set(a.key, now);
    this.counts.sent++;
    const channels: DeliveryReport['channels'] = [];
    process.stderr.write(`overnight: ESCALATION [${a.severity}] ${a.summary}\n`);
    channels.push({ channel: 'log', ok: true, attempts: 1 });
    for (const w of this.cfg.webhooks) channels.push(await this.webhook(w, a));
    for (const c of this.cfg.commands) channels.push(await this.command(c, a));
    const report = { key: a.key, deduplicated: false, channels };
    try {
      this.onSent?.(a, report);
    } catch {
      /* recording the alert must not undo sending it */
    }
    return report;
  }

  /** Once per process: the hourly cap starts from the sends recorded in the last hour. */
  private seedFromHistory(now: number): void {
    if (this.seeded || !this.history) return;
    this.seeded = true;
    try {
      const earlier = this.history.sentSince(now - 3600_000);
      this.sentTimes.unshift(...earlier.filter((t) => t <= now));
    } catch (err) {
      process.stderr.write(`overnight: alert history unreadable (hourly cap starts at 0): ${(err as Error).message}\n`);
    }
  }

  /** The last recorded send of `key` since `sinceMs`; a history that cannot be read means "none". */
  private remembered(key: string, sinceMs: number): number | undefined {
    if (!this.history) return undefined;
    try {
      const t = this.history.lastSent(key, sinceMs);
      if (t !== undefined) this.lastSent.set(key, t);
      return t;
    } catch (err) {
      process.stderr.write(
        `overnight: alert history unreadable (de-duplication in memory only): ${(err as Error).message}\n`,
      );
      return undefined;
    }
  }

  private async webhook(w: OvernightConfig['escalation']['webhooks'][number], a: Alert) {
    const body = JSON.stringify(webhookPayload(a, w.format, new Date(this.clock.now())));
    let error = '';
    for (let attempt = 1; attempt <= this.cfg.retries + 1; attempt++) {
      try {
        const res = await fetch(w.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(w.timeoutMs),
        });
        if (res.ok) return { channel: `webhook ${w.url}`, ok: true, attempts: attempt };
        error = `HTTP ${res.status}`;
      } catch (err) {
        error = (err as Error).message;
      }
      if (attempt <= this.cfg.retries) await this.sleep(Math.min(30_000, 500 * 2 ** (attempt - 1)));
    }
    return { channel: `webhook ${w.url}`, ok: false, attempts: this.cfg.retries + 1, error };
  }

  private command(argv: string[], a: Alert): Promise<DeliveryReport['channels'][number]> {
    return new Promise((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'ignore'], timeout: 30_000 });
      child.on('error', (err) =>
        resolve({ channel: `command ${argv[0]}`, ok: false, attempts: 1, error: err.message }),
      );
      child.on('exit', (code) =>
        resolve({
          channel: `command ${argv[0]}`,
          ok: code === 0,
          attempts: 1,
          ...(code === 0 ? {} : { error: `exit ${code}` }),
        }),
      );
      child.stdin.end(JSON.stringify({ node: hostname(), ...a }));
    });
  }
}
