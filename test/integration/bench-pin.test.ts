// benchmarks/lib/pin.js pins the host-sample benchmark and its C limit to one CPU together (with
// taskset, on every thread) and puts them back afterwards. Checked on a real child: its allowed
// CPUs as the kernel reports them, before, pinned and restored.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, spawnGroup } from '../helpers/children.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
interface Pin {
  pinTogether: (pids: number[]) => { cpu: number | null; why?: string; restore?: () => string[] };
  expandCpuList: (list: string) => number[];
}
const load = async () => (await import(pathToFileURL(path.join(root, 'benchmarks/lib/pin.js')).href)) as Pin;

/** Cpus_allowed_list of every thread of `pid`, as the kernel reports them. */
function allowed(pid: number): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))![1];
}

afterAll(() => killAll());

describe('benchmarks/lib/pin.js', () => {
  it('expands taskset CPU lists', async () => {
    const { expandCpuList } = await load();
    expect(expandCpuList('0')).toEqual([0]);
    expect(expandCpuList('0-1')).toEqual([0, 1]);
    expect(expandCpuList('0-2,5,7-8')).toEqual([0, 1, 2, 5, 7, 8]);
  });

  it('pins a process to the last allowed CPU and restores what it had', async () => {
    const { pinTogether, expandCpuList } = await load();
    const child = spawnGroup('sleep', ['600']);
    const pid = child.pid!;
    const before = allowed(pid);
    const pin = pinTogether([pid]);
    if (expandCpuList(allowed(process.pid)).length < 2 || availableParallelism() < 2) {
      expect(pin.cpu).toBeNull();
      return;
    }
    expect(pin.cpu).toBe(expandCpuList(allowed(process.pid)).at(-1));
    expect(allowed(pid)).toBe(String(pin.cpu));
    expect(pin.restore!()).toEqual([]);
    expect(allowed(pid)).toBe(before);
  });
});
