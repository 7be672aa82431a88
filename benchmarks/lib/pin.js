// Pins processes to one CPU for the benchmarks that compare the addon with a C limit in another
// process (host-sample). On the 2-vCPU VMs this project runs on, the two processes otherwise run
// on whichever vCPU the scheduler picks, and the vCPUs differ (steal, the host's interrupts): the
// same code measured 1.11×–1.43× its C limit from one unpinned run to the next, so the ratio
// compared the vCPUs as much as the code. Pinned, both run on the same CPU with the same caches
// and the same neighbours. taskset (util-linux, in every Debian) does it, for every thread (-a);
// threads and children started later inherit the CPU.
import { spawnSync } from 'node:child_process';

function taskset(args) {
  const r = spawnSync('taskset', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { ok: false, why: r.error?.message ?? (r.stderr.trim() || `exit ${r.status}`) };
  return { ok: true, out: r.stdout };
}

/** The CPUs `pid` may run on, as taskset lists them ("0-1,4"), or null. */
function affinityOf(pid) {
  const r = taskset(['-c', '-p', String(pid)]);
  return r.ok ? r.out.slice(r.out.lastIndexOf(':') + 1).trim() : null;
}

/** "0-1,4" → [0, 1, 4] */
export function expandCpuList(list) {
  const out = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/**
 * Pins every thread of each of `pids` to the last CPU this process may use. Returns
 * { cpu, restore() } (restore puts each process back on the CPUs it had and returns what it could
 * not put back), or { cpu: null, why }
 * when it cannot (no taskset, a single CPU): the benchmark then runs unpinned and says so.
 */
export function pinTogether(pids) {
  const own = affinityOf(process.pid);
  if (own === null) return { cpu: null, why: 'taskset is not available' };
  const cpus = expandCpuList(own);
  if (cpus.length < 2) return { cpu: null, why: `this process may run on CPU ${own} only` };
  const cpu = cpus[cpus.length - 1];
  const before = pids.map((pid) => [pid, affinityOf(pid)]);
  // Returns what could not be put back (run.js also checks its own threads after each benchmark).
  const restore = () => {
    const failures = [];
    for (const [pid, list] of before) {
      const r =
        list === null ? { ok: false, why: 'its CPUs were not known' } : taskset(['-a', '-c', '-p', list, String(pid)]);
      if (!r.ok) failures.push(`pid ${pid}: ${r.why}`);
    }
    return failures;
  };
  for (const pid of pids) {
    const r = taskset(['-a', '-c', '-p', String(cpu), String(pid)]);
    if (!r.ok) {
      restore();
      return { cpu: null, why: `taskset failed for pid ${pid}: ${r.why}` };
    }
  }
  return { cpu, restore };
}
