import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MonitorLog } from '../../src/cli/monitor-log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function logPath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-monlog-'));
  dirs.push(dir);
  return path.join(dir, 'monitor.jsonl');
}
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { n: number });
async function until(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the monitor log file', () => {
  it('holds routine lines back, writes an urgent line at once after them, in order', async () => {
    const file = logPath();
    // An hour: the routine lines can only reach the file with the urgent one.
    const log = MonitorLog.open(file, 3600_000);
    try {
      log.line({ n: 1 }, false);
      log.line({ n: 2 }, false);
      await new Promise((r) => setTimeout(r, 100));
      expect(readFileSync(file, 'utf8')).toBe('');
      log.line({ n: 3 }, true);
      await until('urgent line written', () => lines(file).length === 3);
      expect(lines(file).map((l) => l.n)).toEqual([1, 2, 3]);
    } finally {
      await log.close();
    }
  });

  it('writes held lines after the hold time, and everything on close', async () => {
    const file = logPath();
    const log = MonitorLog.open(file, 200);
    log.line({ n: 1 }, false);
    await until('held line written after the hold', () => lines(file).length === 1);
    // Lines written while a write may be in flight keep their order; close writes the rest.
    for (let n = 2; n <= 500; n++) log.line({ n }, n % 97 === 0);
    await log.close();
    expect(lines(file).map((l) => l.n)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    // After close, lines are dropped rather than written to a closed descriptor.
    log.line({ n: 501 }, true);
    expect(lines(file)).toHaveLength(500);
  });

  it('appends to an existing file', async () => {
    const file = logPath();
    const a = MonitorLog.open(file);
    a.line({ n: 1 }, false);
    await a.close();
    const b = MonitorLog.open(file);
    b.line({ n: 2 }, true);
    await b.close();
    expect(lines(file).map((l) => l.n)).toEqual([1, 2]);
  });

  it('reopen: held lines go to the rotated file, later lines to a new file at the path', async () => {
    const file = logPath();
    const log = MonitorLog.open(file, 3600_000);
    try {
      log.line({ n: 1 }, true);
      log.line({ n: 2 }, false);
      renameSync(file, `${file}.1`);
      await log.reopen();
      expect(lines(`${file}.1`).map((l) => l.n)).toEqual([1, 2]);
      expect(readFileSync(file, 'utf8')).toBe('');
      log.line({ n: 3 }, false);
    } finally {
      await log.close();
    }
    expect(lines(file).map((l) => l.n)).toEqual([3]);
  });

  it('reopen: when the path cannot be opened, keeps writing to the file open before', async () => {
    const file = logPath();
    const log = MonitorLog.open(file, 3600_000);
    const moved = `${path.dirname(file)}-moved`;
    dirs.push(moved);
    try {
      log.line({ n: 1 }, false);
      // The directory goes away (renamed): the path cannot be created again.
      renameSync(path.dirname(file), moved);
      await log.reopen();
      log.line({ n: 2 }, false);
    } finally {
      await log.close();
    }
    expect(lines(path.join(moved, path.basename(file))).map((l) => l.n)).toEqual([1, 2]);
  });
});
