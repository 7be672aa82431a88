/**
 * The morning report as one self-contained HTML file: uPlot (the npm package's minified build) and
 * its stylesheet inlined, the data embedded as JSON, and a Content-Security-Policy that forbids any
 * fetch, so it reads the same offline, from a mail attachment or a file:// URL.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { NightReport, ReportEvent } from './report-data.js';

const require = createRequire(import.meta.url);
let assets: { js: string; css: string } | undefined;

/** uPlot's browser build and stylesheet, read once from the installed package. */
function uplotAssets(): { js: string; css: string } {
  if (!assets) {
    const dir = require.resolve('uplot/dist/uPlot.iife.min.js').replace(/uPlot\.iife\.min\.js$/, '');
    assets = { js: readFileSync(`${dir}uPlot.iife.min.js`, 'utf8'), css: readFileSync(`${dir}uPlot.min.css`, 'utf8') };
  }
  return assets;
}

const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** JSON inside <script>: no "</script>" or "<!--" can end it early. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

function table(head: string[], rows: unknown[][], cls = ''): string {
  if (!rows.length) return '<p class="none">none</p>';
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function eventsByKind(events: ReportEvent[]): string {
  const groups = new Map<string, ReportEvent[]>();
  for (const e of events) (groups.get(e.kind) ?? groups.set(e.kind, []).get(e.kind)!).push(e);
  if (!groups.size) return '<p class="none">none</p>';
  return [...groups.entries()]
    .sort((a, b) => b[1].length - a[1].length)
    .map(([kind, list]) => {
      const rows = list.map((e) => [e.time, e.source, e.severity, e.message]);
      return (
        `<details class="kind" data-kind="${esc(kind)}" open>` +
        `<summary>${esc(kind)} <span class="n">${list.length}</span></summary>` +
        `${table(['time', 'source', 'severity', 'message'], rows, 'events')}</details>`
      );
    })
    .join('');
}

// Runs in the browser: one uPlot per group of series, events drawn as vertical lines.
const CLIENT = String.raw`
(function () {
  var R = JSON.parse(document.getElementById('report-data').textContent);
  var sev = { critical: '#c62828', warning: '#ef8f00', info: '#607d8b' };
  var evs = R.events.map(function (e) {
    return { t: Date.parse(e.time) / 1000, c: sev[e.severity] || '#607d8b', kind: e.kind };
  });
  function eventLines(u) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save(); ctx.lineWidth = 2 * devicePixelRatio;
    evs.forEach(function (e) {
      if (e.t < u.scales.x.min || e.t > u.scales.x.max) return;
      var x = Math.round(u.valToPos(e.t, 'x', true));
      ctx.strokeStyle = e.c; ctx.setLineDash([4, 3]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
    });
    ctx.restore();
  }
  var palette = ['#1565c0', '#2e7d32', '#6a1b9a', '#00838f', '#ad1457', '#5d4037', '#f9a825', '#37474f'];
  var drawn = 0;
  function plot(el, title, xs, series, yLabel) {
    var data = [xs];
    var opts = {
      title: title, width: Math.max(320, el.clientWidth || 900), height: 220,
      series: [{}], axes: [{}, { label: yLabel }], hooks: { draw: [eventLines] }
    };
    series.forEach(function (s, i) {
      data.push(s.values);
      opts.series.push({ label: s.label, stroke: palette[i % palette.length], width: 1.5, spanGaps: false });
    });
    new uPlot(opts, data, el);
    drawn++;
  }
  var t = R.series.t.map(function (ms) { return ms / 1000; });
  var col = function (name, scale) {
    var v = R.series.columns[name];
    return v ? v.map(function (x) { return x === null ? null : x * (scale || 1); }) : null;
  };
  var groups = [
    { id: 'memory', title: 'Memory (GiB)', y: 'GiB',
      s: [['used', 'mem_used_bytes', 1 / 1073741824], ['available', 'mem_available_bytes', 1 / 1073741824]] },
    { id: 'cpu', title: 'CPU busy (%)', y: '%', s: [['busy', 'cpu_busy', 100]] },
    { id: 'psi', title: 'Pressure stall (avg10, %)', y: '%',
      s: [['cpu some', 'psi_cpu_some'], ['memory some', 'psi_memory_some'], ['memory full', 'psi_memory_full'],
        ['io some', 'psi_io_some']] },
  ];
  var gpus = {};
  Object.keys(R.series.columns).forEach(function (k) { var m = /^gpu(\d+)_/.exec(k); if (m) gpus[m[1]] = true; });
  Object.keys(gpus).sort(function (a, b) { return a - b; }).forEach(function (i) {
    groups.push({ id: 'gpu' + i, title: 'GPU ' + i + ': utilization %, temperature °C, power W', y: '',
      s: [['util %', 'gpu' + i + '_util'], ['temp °C', 'gpu' + i + '_temp_c'], ['power W', 'gpu' + i + '_power_w']] });
  });
  var host = document.getElementById('plots');
  groups.forEach(function (g) {
    var series = g.s.map(function (s) { return { label: s[0], values: col(s[1], s[2]) }; })
      .filter(function (s) { return s.values; });
    if (!series.length || !t.length) return;
    var el = document.createElement('div'); el.className = 'plot'; el.dataset.plot = g.id; host.appendChild(el);
    plot(el, g.title, t, series, g.y);
  });
  var th = document.getElementById('task-plots');
  R.tasks.forEach(function (task) {
    var xs = task.checkpoints.map(function (c) { return Date.parse(c.time) / 1000; });
    var ys = task.checkpoints.map(function (c) { return c.completion * 100; });
    var el = document.createElement('div'); el.className = 'plot'; el.dataset.plot = 'task:' + task.task_id;
    th.appendChild(el);
    var title = task.task_id + ' completion (%)' + (task.eta ? ', ETA ' + task.eta : '');
    plot(el, title, xs, [{ label: 'completion', values: ys }], '%');
  });
  document.body.dataset.plots = String(drawn);
})();
`;

/** The report as one HTML document. */
export function renderNightHtml(r: NightReport): string {
  const { js, css } = uplotAssets();
  const verdictClass = { good: 'ok', troubled: 'warn', bad: 'bad' }[r.summary.verdict];
  const summaryLines = r.summary.lines.map((l) => `<p>${esc(l)}</p>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>overnight report: ${esc(r.node)} ${esc(r.since)} to ${esc(r.until)}</title>
<style>${css}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
 margin:0 auto;max-width:1100px;padding:16px;color:#222}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ddd}
#summary{padding:12px 16px;border-left:6px solid;border-radius:4px;margin-bottom:16px}
#summary.ok{border-color:#2e7d32;background:#e8f5e9}#summary.warn{border-color:#ef8f00;background:#fff3e0}
#summary.bad{border-color:#c62828;background:#ffebee}
#summary p{margin:2px 0}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
.none{color:#777}.plot{margin:8px 0}details.kind summary{cursor:pointer;font-weight:600}
.n{color:#555;font-weight:normal}
</style></head>
<body>
<h1>Night report: ${esc(r.node)}</h1>
<div class="range">${esc(r.since)} to ${esc(r.until)} (generated ${esc(r.generated_at)})</div>
<section id="summary" class="${verdictClass}" data-verdict="${esc(r.summary.verdict)}">${summaryLines}</section>
<h2>Node over the night</h2><div id="plots"></div>
<h2>Tasks</h2><div id="tasks">${table(
    ['task', 'stage', 'completion', 'ETA', 'stalled'],
    r.tasks.map((t) => [
      t.task_id,
      t.current_stage ?? '-',
      t.completion === null ? '-' : `${Math.round(t.completion * 100)}%`,
      t.eta ?? t.eta_reason ?? '-',
      t.stalled ? 'yes' : 'no',
    ]),
    'tasks',
  )}</div><div id="task-plots"></div>
<h2>Recoveries</h2><div id="recoveries">${table(
    ['started', 'what', 'target', 'why', 'outcome', 'status'],
    r.recoveries.map((x) => [x.started_at, x.operation_type, JSON.stringify(x.target), x.why, x.outcome, x.status]),
    'recoveries',
  )}</div>
<h2>Alerts sent</h2><div id="alerts">${table(
    ['time', 'severity', 'summary'],
    r.alerts.map((a) => [a.time, a.severity, a.message]),
    'alerts',
  )}</div>
<h2>Events by kind</h2><div id="events">${eventsByKind(r.events)}</div>
<script id="report-data" type="application/json">${scriptJson(r)}</script>
<script>${js}</script>
<script>${CLIENT}</script>
</body></html>
`;
}
