/**
 * Parser of `dcgmi diag -r <level> -j` output: the "DCGM GPU Diagnostic" object with test
 * categories, tests and per-GPU results (status Pass / Fail / Warn / Skip / Not Run, with warnings).
 * Older DCGM puts `gpu_ids` on each result, newer `gpu_id`; both are read.
 */

export interface DcgmDiagFailure {
  category: string;
  test: string;
  status: string;
  gpus: string[];
  warnings: string[];
}

export interface DcgmDiagSummary {
  /** ok: every test passed or was skipped; problem: something failed; unknown: no diagnostic in the output */
  outcome: 'ok' | 'problem' | 'unknown';
  tests: number;
  passed: number;
  failed: DcgmDiagFailure[];
  warned: DcgmDiagFailure[];
  /** The first line an operator reads (the NPD/NHC message). */
  message: string;
}

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Parses dcgmi's JSON; text around the object (banners, log lines) is ignored. */
export function parseDcgmDiag(output: string): DcgmDiagSummary {
  const start = output.indexOf('{');
  const end = output.lastIndexOf('}');
  let doc: unknown;
  try {
    // An opening brace with no closing one is output cut short (a killed dcgmi): not JSON either.
    doc = start >= 0 ? JSON.parse(end > start ? output.slice(start, end + 1) : output.slice(start)) : undefined;
  } catch (err) {
    return {
      outcome: 'unknown',
      tests: 0,
      passed: 0,
      failed: [],
      warned: [],
      message: `dcgmi diag output is not JSON: ${(err as Error).message.slice(0, 120)}`,
    };
  }
  const diag = (doc as Record<string, unknown> | undefined)?.['DCGM GPU Diagnostic'] as
    Record<string, unknown> | undefined;
  if (!diag || !Array.isArray(diag.test_categories)) {
    const err =
      str((doc as Record<string, unknown> | undefined)?.error) ||
      output.trim().split('\n')[0]?.slice(0, 200) ||
      'empty output';
    return {
      outcome: 'unknown',
      tests: 0,
      passed: 0,
      failed: [],
      warned: [],
      message: `no diagnostic result from dcgmi: ${err}`,
    };
  }
  let tests = 0;
  let passed = 0;
  const failed: DcgmDiagFailure[] = [];
  const warned: DcgmDiagFailure[] = [];
  for (const cat of diag.test_categories as Record<string, unknown>[]) {
    for (const t of asArray(cat?.tests) as Record<string, unknown>[]) {
      tests++;
      const bad = new Map<string, DcgmDiagFailure>();
      let anyPass = false;
      for (const r of asArray(t?.results) as Record<string, unknown>[]) {
        const status = str(r?.status);
        const gpus = r?.gpu_id !== undefined ? [str(r.gpu_id)] : asArray(r?.gpu_ids).map(str);
        const warnings = asArray(r?.warnings)
          .map((w) => (typeof w === 'object' && w ? str((w as Record<string, unknown>).warning) : str(w)))
          .filter(Boolean);
        if (/^pass$/i.test(status)) anyPass = true;
        if (!/^(fail|warn)/i.test(status)) continue;
        const f = bad.get(status) ?? { category: str(cat.category), test: str(t.name), status, gpus: [], warnings: [] };
        f.gpus.push(...gpus);
        f.warnings.push(...warnings);
        bad.set(status, f);
      }
      for (const f of bad.values()) (/^fail/i.test(f.status) ? failed : warned).push(f);
      if (!bad.size && anyPass) passed++;
    }
  }
  const fmt = (f: DcgmDiagFailure) =>
    `${f.test}${f.gpus.length ? ` (GPU ${f.gpus.join(',')})` : ''}${f.warnings[0] ? `: ${f.warnings[0]}` : ''}`;
  const message = failed.length
    ? `dcgmi diag failed: ${failed.map(fmt).join('; ')}`.slice(0, 300)
    : warned.length
      ? `dcgmi diag passed with warnings: ${warned.map(fmt).join('; ')}`.slice(0, 300)
      : `dcgmi diag passed ${passed} of ${tests} tests`;
  return { outcome: failed.length ? 'problem' : tests ? 'ok' : 'unknown', tests, passed, failed, warned, message };
}
