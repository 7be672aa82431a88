/**
 * Operators' checks into the event history: a check's outcome is stored when it changes (ok →
 * problem, problem → ok, a run that could not tell), as node-problem-detector records a condition
 * change, so a check that stays failing all night is one event, not one per run.
 */
import type { EventSeverity, NodeEvent } from '../events/types.js';
import type { OperatorCheckResult, OperatorChecks } from './operator-checks.js';

export function checkEvent(r: OperatorCheckResult, bootId: string): NodeEvent {
  const severity: EventSeverity =
    r.outcome === 'ok'
      ? 'info'
      : r.outcome === 'unknown'
        ? 'warning'
        : r.severity === 'critical'
          ? 'critical'
          : 'warning';
  const what = r.outcome === 'ok' ? 'passes again' : r.outcome === 'problem' ? 'found a problem' : 'could not tell';
  return {
    source: 'probe',
    kind: 'operator_check',
    severity,
    subject: { check: r.name, outcome: r.outcome, ...(r.exit_code !== null ? { exitCode: r.exit_code } : {}) },
    message: `check ${r.name} ${what}: ${r.message}`.slice(0, 500),
    bootId,
    monoUs: null,
    timeMs: r.finished_at,
    key: `check:${r.name}:${r.finished_at}`,
  };
}

/** Stores each check's outcome changes through `add`; the first result of a check is stored unless it is ok. */
export function recordCheckOutcomes(checks: OperatorChecks, bootId: string, add: (e: NodeEvent) => void): void {
  const last = new Map<string, string>();
  const previous = checks.onResult;
  checks.onResult = (r) => {
    previous?.(r);
    const before = last.get(r.name);
    last.set(r.name, r.outcome);
    if (before === r.outcome || (before === undefined && r.outcome === 'ok')) return;
    add(checkEvent(r, bootId));
  };
}
