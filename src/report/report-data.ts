/**
 * The morning report's data, read from the one store: the metric history, the events, the
 * recoveries (what, why, outcome), the alerts sent, and each task's progress against its ETA.
 * The HTML, the text summary and `--json` are all drawn from this one object.
 */
import { hostname } from 'node:os';
import type { OvernightConfig } from '../config/schema.js';
import type { EventStore } from '../events/event-store.js';
import type { MetricHistory, MetricSeries } from '../history/metric-history.js';
import type { ProgressTracker } from '../progress/progress-tracker.js';
import type { Db } from '../store/database.js';

export interface ReportEvent {
  time: string;
  source: string;
  kind: string;
  severity: string;
  message: string;
  subject: Record<string, unknown>;
}

export interface ReportRecovery {
  id: string;
  operation_type: string;
  status: string;
  started_at: string;
  finished_at: string;
  target: unknown;
  /** Why: what was wrong before. */
  why: string;
  /** Outcome, as the recovery said it. */
  outcome: string;
}

export interface ReportTask {
  task_id: string;
  checkpoints: { time: string; stage: string; completion: number }[];
  completion: number | null;
  current_stage: string | null;
  eta: string | null;
  eta_reason?: string;
  stalled: boolean;
}

export interface NightReport {
  node: string;
  generated_at: string;
  since: string;
  until: string;
  /** The first screen: three lines that say whether the night went well. */
  summary: { verdict: 'good' | 'troubled' | 'bad'; lines: [string, string, string] };
  series: MetricSeries;
  events: ReportEvent[];
  events_by_kind: Record<string, number>;
  recoveries: ReportRecovery[];
  tasks: ReportTask[];
  alerts: ReportEvent[];
}

export interface ReportSources {
  db: Db;
  events: EventStore;
  history: MetricHistory;
  progress: Pick<ProgressTracker, 'list' | 'report'>;
  config: Pick<OvernightConfig, 'history'>;
}

const iso = (ms: number) => new Date(ms).toISOString();

function recoveries(db: Db, sinceMs: number): ReportRecovery[] {
  const rows = db
    .prepare(`SELECT * FROM recoveries WHERE finished_at >= ? AND status != 'dry_run' ORDER BY started_at`)
    .all(iso(sinceMs)) as Record<string, string>[];
  return rows.map((r) => {
    const before = JSON.parse(r.before ?? '{}') as { status?: string; breached?: string[] };
    const result = JSON.parse(r.result ?? '{}') as { message?: string };
    return {
      id: r.id!,
      operation_type: r.operation_type!,
      status: r.status!,
      started_at: r.started_at!,
      finished_at: r.finished_at!,
      target: JSON.parse(r.target ?? 'null') as unknown,
      why:
        `node ${before.status ?? 'unknown'}` +
        (before.breached?.length ? `; breached: ${before.breached.join(', ')}` : ''),
      outcome: result.message ?? r.status!,
    };
  });
}

async function tasks(db: Db, progress: ReportSources['progress'], sinceMs: number): Promise<ReportTask[]> {
  const out: ReportTask[] = [];
  for (const t of progress.list()) {
    const cps = db
      .prepare('SELECT t_ms, stage, completion FROM checkpoints WHERE task_id = ? AND t_ms >= ? ORDER BY seq')
      .all(t.task_id, sinceMs) as { t_ms: number; stage: string; completion: number }[];
    if (!cps.length) continue;
    const r = await progress.report(t.task_id);
    out.push({
      task_id: t.task_id,
      checkpoints: cps.map((c) => ({ time: iso(c.t_ms), stage: c.stage, completion: c.completion })),
      completion: t.completion,
      current_stage: t.stage,
      eta: r.estimated_completion?.eta ?? null,
      ...(r.estimated_completion_reason ? { eta_reason: r.estimated_completion_reason } : {}),
      stalled: r.stalled.stalled,
    });
  }
  return out;
}

function taskText(t: ReportTask): string {
  const state = t.stalled ? ' (stalled)' : t.eta ? ` (ETA ${t.eta})` : '';
  return `${t.task_id} ${t.completion === null ? '?' : Math.round(t.completion * 100)}%${state}`;
}

function summarize(r: Omit<NightReport, 'summary'>): NightReport['summary'] {
  const crit = r.events.filter((e) => e.severity === 'critical' && e.kind !== 'alert');
  const warn = r.events.filter((e) => e.severity === 'warning' && e.kind !== 'alert');
  const failedRec = r.recoveries.filter((x) => x.status !== 'recovered');
  const verdict = crit.length || failedRec.length ? 'bad' : warn.length || r.recoveries.length ? 'troubled' : 'good';
  const hours = ((Date.parse(r.until) - Date.parse(r.since)) / 3600_000).toFixed(1);
  const kinds = Object.entries(r.events_by_kind)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const line1 =
    verdict === 'good'
      ? `The night went well: ${hours} h on ${r.node} without kernel trouble, recoveries or alerts.`
      : verdict === 'troubled'
        ? `The night had trouble but held: ${warn.length} warning event(s) and ${r.recoveries.length} ` +
          `recovery(ies) in ${hours} h on ${r.node}.`
        : `The night went badly: ${crit.length} critical event(s)` +
          `${failedRec.length ? ` and ${failedRec.length} failed recovery(ies)` : ''} in ${hours} h on ` +
          `${r.node}${crit[0] ? `; first: ${crit[crit.length - 1]!.kind} at ${crit[crit.length - 1]!.time}` : ''}.`;
  const line2 =
    `Events: ${kinds || 'none'}. Recoveries: ` +
    `${r.recoveries.length ? r.recoveries.map((x) => `${x.operation_type} ${x.status}`).join(', ') : 'none'}. ` +
    `Alerts sent: ${r.alerts.length}.`;
  const line3 = r.tasks.length ? `Tasks: ${r.tasks.map(taskText).join('; ')}.` : 'Tasks: none reported progress.';
  return { verdict, lines: [line1, line2, line3] };
}

/** Builds the report for [sinceMs, untilMs]. */
export async function buildNightReport(
  src: ReportSources,
  sinceMs: number,
  untilMs = Date.now(),
): Promise<NightReport> {
  const stored = src.events.list({ sinceMs, limit: 100_000 }).filter((e) => e.timeMs <= untilMs);
  const all: ReportEvent[] = stored.map((e) => ({
    time: iso(e.timeMs),
    source: e.source,
    kind: e.kind,
    severity: e.severity,
    message: e.message,
    subject: e.subject,
  }));
  const events = all.filter((e) => e.kind !== 'alert');
  const byKind: Record<string, number> = {};
  for (const e of events) byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
  const base = {
    node: hostname(),
    generated_at: iso(Date.now()),
    since: iso(sinceMs),
    until: iso(untilMs),
    series: src.history.series(sinceMs, untilMs),
    events,
    events_by_kind: byKind,
    recoveries: recoveries(src.db, sinceMs),
    tasks: await tasks(src.db, src.progress, sinceMs),
    alerts: all.filter((e) => e.kind === 'alert'),
  };
  return { summary: summarize(base), ...base };
}
