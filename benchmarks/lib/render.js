// Renders benchmarks/README.md's figures from the results `npm run bench` wrote, so that every figure in the
// README is one the last run measured, with its date, machine and load average. The README is a hand-written
// head (how to run, what each benchmark compares and why) and a generated part between two markers; only the
// generated part is ever rewritten, the rest is kept byte for byte.

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';

/** A table cell: one line, no column breaks. */
const cell = (v) =>
  String(v ?? '')
    .replace(/\r?\n/g, ' ')
    .replace(/\|/g, '\\|');

export function table(head, rows) {
  const lines = [`| ${head.map(cell).join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/** "2026-11-27 12:55 UTC" from an ISO time; the input itself when it is not one. */
export function when(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return String(iso ?? 'date not recorded');
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "4.12 3.80 3.10 before, 5.01 4.02 3.20 after (1/5/15 min, 2 CPUs)" or why there is none. */
export function loadText(load, cpus) {
  if (!load?.before) return 'load average not recorded (a run from before the benchmarks recorded it)';
  return `load average ${load.before} before, ${load.after ?? '?'} after (1/5/15 min${cpus ? `, ${cpus} CPUs` : ''})`;
}

const metText = (t) => (t.met === true ? 'met' : t.met === false ? '**not met**' : 'not judged');

/** The targets of one benchmark as table rows: what, measured, goal, met. */
function targetRows(targets) {
  return targets.map((t) => [t.what, t.value, t.goal, metText(t)]);
}

/**
 * One benchmark's section. r: { title, head, rows, notes, load, targets, date, machine, cpus, error, durationS }.
 * level: the heading's '#'s.
 */
export function renderBenchmark(name, r, level = '##') {
  const out = [`${level} ${r.title ?? name} — \`${name}\``, ''];
  out.push(
    `Measured ${when(r.date)} on ${r.machine ?? 'a machine not recorded'}; ${loadText(r.load, r.cpus)}` +
      (Number.isFinite(r.durationS) ? `; ran ${r.durationS.toFixed(0)} s.` : '.'),
    '',
  );
  if (r.error) {
    out.push(`**Failed in that run:** ${cell(r.error)}. No figures.`, '');
    return out.join('\n');
  }
  if (r.head?.length && r.rows?.length) out.push(table(r.head, r.rows), '');
  for (const n of r.notes ?? []) out.push(`- ${String(n).replace(/\r?\n/g, ' ')}`);
  if (r.notes?.length) out.push('');
  if (r.targets?.length) {
    out.push('Targets:', '', table(['target', 'measured', 'goal', 'result'], targetRows(r.targets)), '');
  }
  return out.join('\n');
}

/** The summary of every target in a set of results, benchmark by benchmark. */
function summary(names, results) {
  const rows = [];
  for (const name of names) {
    const r = results[name];
    if (r.error) rows.push([name, 'failed in the last run', '', '', '', when(r.date)]);
    for (const t of r.targets ?? []) rows.push([name, t.what, t.value, t.goal, metText(t), when(r.date)]);
  }
  if (!rows.length) return '';
  return table(['benchmark', 'target', 'measured', 'goal', 'result', 'measured on'], rows);
}

/** Benchmark names in run.js's order first, then any others the results hold. */
function ordered(results, order) {
  const names = order.filter((n) => results[n]);
  for (const n of Object.keys(results).sort()) if (!names.includes(n)) names.push(n);
  return names;
}

/** The fields a renderer walks as lists; anything else there would be a TypeError mid-render. */
const LISTS = ['head', 'rows', 'notes', 'targets'];

/** Why a benchmark's entry cannot be rendered, or null when it can. */
function invalidEntry(r) {
  if (r === null || typeof r !== 'object' || Array.isArray(r))
    return `${String(JSON.stringify(r) ?? r).slice(0, 60)} is not an object`;
  for (const k of LISTS) if (r[k] != null && !Array.isArray(r[k])) return `its ${k} is not a list`;
  if (r.rows?.some((row) => !Array.isArray(row))) return 'a row of its table is not a list';
  if (r.targets?.some((t) => t === null || typeof t !== 'object')) return 'a target is not an object';
  return null;
}

/** The results with every entry that cannot be rendered replaced by a failure saying why (never a TypeError). */
function checked(results) {
  const out = {};
  for (const [name, r] of Object.entries(results ?? {})) {
    const why = invalidEntry(r);
    out[name] = why
      ? { ...(why.endsWith('not an object') ? {} : r), error: `invalid entry in the results: ${why}` }
      : r;
    if (why) for (const k of LISTS) delete out[name][k];
  }
  return out;
}

/** A results file is in the current format when every benchmark in it says its load average or why it failed. */
export function isCurrentFormat(data) {
  const rs = Object.values(data?.results ?? {});
  return rs.length > 0 && rs.every((r) => r && (r.load?.before || r.error));
}

/**
 * The generated part, markers included.
 * latest: results/latest.json's content; others: [{ file, data }] from results/<machine>-*.json (rendered as their own
 * sections when in the current format, listed as skipped otherwise); order: run.js's list of benchmarks.
 */
export function renderGenerated(latest, { others = [], order = [] } = {}) {
  const results = checked(latest?.results);
  const names = ordered(results, order);
  const out = [
    BEGIN,
    '<!-- Written by `npm run bench` / `node benchmarks/run.js --render` from results/latest.json: edit the ' +
      'head above, not this part. -->',
    '',
    '## Figures of the last run',
    '',
  ];
  if (!names.length) {
    out.push('No results yet: run `npm run bench`.', '', END);
    return out.join('\n');
  }
  const runs = [...new Set(names.map((n) => when(results[n].date).slice(0, 10)))].sort();
  out.push(
    `From results/latest.json (benchmarks measured ${runs.join(', ')}; each section says when, where and under ` +
      `what load). ` +
      'Ratios are to a limit or peer measured in the same run.',
    '',
  );
  const sum = summary(names, results);
  if (sum) out.push('### Targets', '', sum, '');
  for (const name of names) out.push(renderBenchmark(name, results[name], '###'));
  const current = others.filter((o) => isCurrentFormat(o.data));
  const skipped = others.filter((o) => !isCurrentFormat(o.data));
  for (const { file, data } of current) {
    out.push(`## ${file}: ${data.machine ?? 'machine not recorded'}, ${when(data.date)}`, '');
    const rs = checked(data.results);
    const on = ordered(rs, order);
    const s = summary(on, rs);
    if (s) out.push(s, '');
    for (const name of on) out.push(renderBenchmark(name, rs[name], '###'));
  }
  if (skipped.length) {
    out.push(
      `Not rendered (results without a load average, from before the current format; raw JSON only): ${skipped
        .map((o) => `results/${o.file}`)
        .join(', ')}.`,
      '',
    );
  }
  out.push(END);
  return out.join('\n');
}

/**
 * The README with its generated part replaced: everything before BEGIN and after END is kept byte for byte; a
 * README without the markers gets the generated part appended after a blank line.
 */
export function spliceReadme(readme, generated) {
  const b = readme.indexOf(BEGIN);
  const e = readme.indexOf(END, b + BEGIN.length);
  const firstEnd = readme.indexOf(END);
  if (b >= 0 && firstEnd >= 0 && firstEnd < b)
    throw new Error(`README's ${END} comes before its ${BEGIN}: put the markers back in order by hand`);
  if (b < 0 || e < 0) {
    if (b >= 0 || readme.includes(END)) throw new Error(`README has one of ${BEGIN} / ${END} but not the other`);
    return `${readme}${readme.endsWith('\n') ? '' : '\n'}\n${generated}\n`;
  }
  return readme.slice(0, b) + generated + readme.slice(e + END.length);
}
