/** The morning report on a terminal: the three summary lines, then what happened, by kind. */
import type { NightReport } from './report-data.js';

export function renderNightText(r: NightReport): string {
  const out: string[] = [`Night report for ${r.node}: ${r.since} to ${r.until}`, ''];
  out.push(...r.summary.lines, '');
  const kinds = Object.entries(r.events_by_kind).sort((a, b) => b[1] - a[1]);
  if (kinds.length) {
    out.push('Kernel and node events:');
    for (const [kind, n] of kinds) {
      const last = r.events.find((e) => e.kind === kind)!;
      out.push(`  ${kind.padEnd(12)} ${String(n).padStart(4)}  last ${last.time}: ${last.message.slice(0, 100)}`);
    }
    out.push('');
  }
  if (r.recoveries.length) {
    out.push('Recoveries:');
    for (const x of r.recoveries)
      out.push(`  ${x.started_at} ${x.operation_type} ${x.status}: ${x.outcome.slice(0, 120)} (why: ${x.why})`);
    out.push('');
  }
  if (r.alerts.length) {
    out.push('Alerts sent:');
    for (const a of r.alerts) out.push(`  ${a.time} [${a.severity}] ${a.message.slice(0, 120)}`);
    out.push('');
  }
  out.push(`Metric history: ${r.series.t.length} samples. Write the HTML report with --out night.html.`);
  return `${out.join('\n')}\n`;
}
