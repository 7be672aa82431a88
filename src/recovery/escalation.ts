/**
 * Escalation when recovery fails: configured webhooks (JSON, Slack-compatible or
 * Alertmanager-compatible; retried with exponential backoff), commands (the alert as JSON on
 * stdin), and the log (stderr). The same alert key is sent at most once per dedup window, also
 * across a restart: with a history attached, the sends recorded in the state database count too
 * (a monitor in a crash loop would otherwise re-send every active alert on each start).
 */
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { OvernightConfig } from '../config/schema.js';
import { capText } from '../config/validation.js';
import type { Clock } from '../util/clock.js';
import { runGroup } from '../util/process-group.js';

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
  /** notify(): the channels are being delivered in the background (only the log line is in `channels`). */
  delivering?: boolean;
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

/** The host (and port) of a webhook URL, never its path, query or credentials. */
function webhookHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unparsable URL';
  }
}

export class Escalator {
  private readonly lastSent = new Map<string, number>();
  private readonly sentTimes: number[] = [];
  /** Alerts delivered and suppressed, for metrics. */
  readonly counts = { sent: 0, deduplicated: 0, rateLimited: 0 };
  maxPerHour = Infinity;
  /** How long an escalation command may run before its whole process group is killed. */
  commandTimeoutMs = 30_000;
  /** Told of each alert sent (the context stores it in the event history for the morning report). */
  onSent: ((a: Alert, report: DeliveryReport) => void) | undefined;
  /** Where earlier sends are remembered (the context attaches the event store). */
  history: AlertHistory | undefined;
  private seeded = false;
  private readonly inFlight = new Set<Promise<DeliveryReport>>();

  constructor(
    private readonly cfg: OvernightConfig['escalation'],
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => delay(ms),
  ) {}

  get configured(): boolean {
    return this.cfg.webhooks.length > 0 || this.cfg.commands.length > 0;
  }

  /** Decides (de-duplication, hourly cap) and delivers to every channel, concurrently; resolves when all are done. */
  async escalate(a: Alert): Promise<DeliveryReport> {
    const refused = this.decide(a);
    return refused ?? this.deliver(a);
  }

  /**
   * Decides now and delivers in the background: for the monitor's cycle, which must not wait on a slow webhook
   * or a hung command once per alert. settled() waits for what is still being delivered.
   */
  notify(a: Alert): DeliveryReport {
    const refused = this.decide(a);
    if (refused) return refused;
    const delivery = this.deliver(a).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
    return { key: a.key, deduplicated: false, channels: [{ channel: 'log', ok: true, attempts: 1 }], delivering: true };
  }

  /** Waits for the alerts notify() is still delivering (each bounded by its webhook and command time-outs). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** The report of an alert that is not sent (de-duplicated or over the hourly cap); undefined when it is to be. */
  private decide(a: Alert): DeliveryReport | undefined {
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
    return undefined;
  }

  private async deliver(a: Alert): Promise<DeliveryReport> {
    process.stderr.write(`overnight: ESCALATION [${a.severity}] ${a.summary}\n`);
    // Concurrently: one slow channel (a webhook retrying, a command at its time-out) does not hold up the others.
    const channels: DeliveryReport['channels'] = [
      { channel: 'log', ok: true, attempts: 1 },
      ...(await Promise.all([
        ...this.cfg.webhooks.map((w, i) => this.webhook(w, i, a)),
        ...this.cfg.commands.map((c) => this.command(c, a)),
      ])),
    ];
    // notify() callers never see these results: a channel that failed says so where the alert itself was logged.
    for (const c of channels.filter((ch) => !ch.ok)) {
      const why = capText(c.error ?? 'no reason given');
      process.stderr.write(
        `overnight: alert ${capText(a.key)}: ${c.channel} failed after ${c.attempts} attempt(s): ${why}\n`,
      );
    }
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

  private async webhook(w: OvernightConfig['escalation']['webhooks'][number], index: number, a: Alert) {
    // Named by position and host only: a webhook URL carries its secret in the path (Slack, Teams), and the
    // channel names go into the event history, reports and the agent's overnight://events resource.
    const channel = `webhook ${index + 1} (${webhookHost(w.url)})`;
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
        if (res.ok) return { channel, ok: true, attempts: attempt };
        error = `HTTP ${res.status}`;
      } catch (err) {
        error = (err as Error).message;
      }
      if (attempt <= this.cfg.retries) await this.sleep(Math.min(30_000, 500 * 2 ** (attempt - 1)));
    }
    return { channel, ok: false, attempts: this.cfg.retries + 1, error };
  }

  private async command(argv: string[], a: Alert): Promise<DeliveryReport['channels'][number]> {
    // Its own process group: the time-out ends what the command started too (`sh -c '...; sleep'`); the alert on
    // its stdin, which it may leave unread.
    const run = await runGroup(argv, {
      timeoutMs: this.commandTimeoutMs,
      stdin: JSON.stringify({ node: hostname(), ...a }),
    });
    const channel = `command ${argv[0]}`;
    if (run.error) return { channel, ok: false, attempts: 1, error: run.error.message };
    const error = run.timedOut
      ? `timed out after ${this.commandTimeoutMs / 1000} s (process group killed)`
      : run.code !== 0
        ? `exit ${run.code ?? run.signal}`
        : undefined;
    return { channel, ok: !error, attempts: 1, ...(error ? { error } : {}) };
  }
}
