/** The monitor's terminal view: health, GPUs, memory, tasks with progress bars, recent events. */
import { gpuDevices } from '../health/gpu-health.js';
import type { HealthReport } from '../health/health-monitor.js';
import { formatBytes, formatPercent, progressBar } from '../util/format.js';
import type { CycleReport, MonitorEvent } from './overnight-monitor.js';

const color = (code: number, s: string) => (process.stdout.isTTY ? `\x1b[${code}m${s}\x1b[0m` : s);
const statusColor = (s: string) => color(s === 'healthy' ? 32 : s === 'degraded' ? 33 : 31, s.toUpperCase());

function breachText(b: HealthReport['breached'][number]): string {
  const fraction = b.unit === 'fraction';
  return (
    `${b.metric} ${fraction ? formatPercent(b.observed) : b.observed.toFixed(0)} > ` +
    `${fraction ? formatPercent(b.limit, 0) : b.limit}`
  );
}

function memoryText(m: HealthReport['metrics']['memory_status']): string {
  const e = m.effective;
  return e ? `${formatPercent(e.used_fraction)} used (${e.source}), ${formatBytes(e.available_bytes)} available` : '-';
}

export function renderLiveView(
  c: CycleReport,
  h: HealthReport,
  tasks: { task_id: string; completion: number | null; stage: string | null }[],
  events: MonitorEvent[],
  intervalMs: number,
): string {
  const m = h.metrics.memory_status;
  const lines = [
    `overnight monitor — ${c.at}  cycle ${c.duration_ms.toFixed(1)} ms  (woke: ${c.trigger}; every ` +
      `${intervalMs / 1000} s)`,
    `status ${statusColor(h.status)}${h.breached.length ? `  breached: ${h.breached.map(breachText).join(', ')}` : ''}`,
    '',
    `memory  ${memoryText(m)}   psi some ${m.pressure_some_avg10 ?? '-'}%`,
    `cpu     ${formatPercent(h.metrics.cpu.busy_fraction)} busy   load ${h.metrics.cpu.load1 ?? '-'}`,
  ];
  const gh = h.metrics.gpu_health;
  if (!gh.available) lines.push(`gpus    ${gh.reason}`);
  for (const d of gpuDevices(gh))
    lines.push(
      `gpu ${d.index}   ${statusColor(d.status)} util ${formatPercent(d.utilization_gpu, 0)} mem ` +
        `${formatPercent(d.memory_used_fraction, 0)} ${d.temperature_c ?? '-'}°C ${d.reasons.join('; ')}`,
    );
  for (const d of h.metrics.disk)
    if ('used_fraction' in d)
      lines.push(`disk    ${d.path} ${formatPercent(d.used_fraction)} used, ${formatBytes(d.available_bytes)} free`);
  lines.push('', 'tasks');
  if (!tasks.length) lines.push('  (none)');
  for (const t of tasks.slice(0, 8))
    lines.push(
      `  ${t.task_id.slice(0, 24).padEnd(24)} ${progressBar(t.completion ?? 0, 24)} ` +
        `${t.stage ?? ''}${c.stalled_tasks.includes(t.task_id) ? color(31, ' STALLED') : ''}`,
    );
  lines.push('', 'recent events');
  for (const e of events.slice(-8)) lines.push(`  ${e.at.slice(11, 19)} ${e.kind.padEnd(9)} ${e.detail}`);
  if (!events.length) lines.push('  (none)');
  return lines.join('\n');
}
