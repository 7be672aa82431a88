// Host sample: the addon vs the C limit (same files, pread on kept-open fds) vs Node's
// readFileSync + parse vs systeminformation.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import si from 'systeminformation';
import { createHostReader } from '../dist/readers/host.js';
import { compile, fmtUs, ratio, timeAsync, timeSpaced, timeSync } from './lib/measure.js';

/** Every file one sample reads on this machine (as native/proc/host_reader.cc and cgroup.cc do). */
function filesOfSample(sample) {
  const files = [
    '/proc/meminfo',
    '/proc/stat',
    '/proc/loadavg',
    '/proc/uptime',
    '/proc/pressure/cpu',
    '/proc/pressure/memory',
    '/proc/pressure/io',
  ];
  const cg = sample.cgroup;
  if (cg?.v1MemoryDir) {
    for (const f of [
      'memory.usage_in_bytes',
      'memory.limit_in_bytes',
      'memory.soft_limit_in_bytes',
      'memory.failcnt',
      'memory.max_usage_in_bytes',
      'memory.memsw.usage_in_bytes',
      'memory.memsw.limit_in_bytes',
      'memory.oom_control',
      'memory.stat',
    ])
      files.push(`${cg.v1MemoryDir}/${f}`);
  } else if (cg?.v2Dir) {
    for (const f of [
      'memory.current',
      'memory.max',
      'memory.high',
      'memory.swap.current',
      'memory.swap.max',
      'memory.events',
      'memory.stat',
    ])
      files.push(`${cg.v2Dir}/${f}`);
  }
  if (cg?.v1CpuDir) {
    for (const f of ['cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.stat']) files.push(`${cg.v1CpuDir}/${f}`);
    files.push(`${cg.v1CpuacctDir ?? cg.v1CpuDir}/cpuacct.usage`);
  } else if (cg?.v2Dir) {
    files.push(`${cg.v2Dir}/cpu.max`, `${cg.v2Dir}/cpu.stat`);
  }
  if (cg?.v2Dir) for (const f of ['cpu.pressure', 'memory.pressure', 'io.pressure']) files.push(`${cg.v2Dir}/${f}`);
  return files.filter((f) => existsSync(f));
}

/** What a careful Node program does without an addon: readFileSync each file and parse it. */
function nodeSample(files) {
  const out = {};
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const kv = {};
    for (const line of text.split('\n')) {
      const parts = line.split(/[:\s]+/);
      if (parts[0]) kv[parts[0]] = Number(parts[1]);
    }
    out[f] = kv;
  }
  readFileSync('/proc/self/cgroup', 'utf8');
  return out;
}

export async function run() {
  const reader = createHostReader();
  const opts = { paths: ['/'] };
  const first = reader.sample(opts);
  const files = filesOfSample(first);
  const limitBin = compile('limit/proc_limit.cc', 'proc_limit');
  const iterations = 5000;

  const addon = timeSync(() => reader.sample(opts), { iterations });
  const limit = JSON.parse(execFileSync(limitBin, ['host', String(iterations), '/', ...files], { encoding: 'utf8' }));
  const node = timeSync(() => nodeSample(files), { iterations: 2000 });
  const siMem = await timeAsync(() => si.mem(), { iterations: 200, warmup: 10 });
  // currentLoad() returns a cached result when called within 200 ms (and otherwise spawns
  // `cat /proc/stat`): time only calls made after the cache expired.
  const siLoad = await timeSpaced(() => si.currentLoad(), 210, 25);
  // Like for like: only the memory part / only the CPU part of our sample.
  const memOnly = timeSync(() => reader.sample({ cpu: false, load: false, psi: false, cgroup: false }), { iterations });
  const cpuReader = createHostReader();
  const cpuOnly = timeSync(() => cpuReader.sample({ memory: false, load: false, psi: false, cgroup: false }), {
    iterations,
  });

  const rows = [
    ['C limit (pread of the same files)', limit.medianUs, limit.p99Us, '1.00x'],
    ['overnight-ops sampleHost()', addon.medianUs, addon.p99Us, ratio(addon.medianUs, limit.medianUs)],
    ['Node readFileSync + parse', node.medianUs, node.p99Us, ratio(node.medianUs, limit.medianUs)],
    ['overnight-ops memory part only', memOnly.medianUs, memOnly.p99Us, ratio(memOnly.medianUs, limit.medianUs)],
    ['overnight-ops cpu part only', cpuOnly.medianUs, cpuOnly.p99Us, ratio(cpuOnly.medianUs, limit.medianUs)],
    ['systeminformation mem()', siMem.medianUs, siMem.p99Us, ratio(siMem.medianUs, limit.medianUs)],
    ['systeminformation currentLoad()', siLoad.medianUs, siLoad.p99Us, ratio(siLoad.medianUs, limit.medianUs)],
  ];
  return {
    title: `Host sample (${files.length} files + /proc/self/cgroup + statvfs; median and p99 per call)`,
    rows: rows.map(([name, med, p99, r]) => [name, fmtUs(med), fmtUs(p99), r]),
    head: ['implementation', 'median', 'p99', 'vs C limit'],
    notes: [
      `addon / C limit: ${(addon.medianUs / limit.medianUs).toFixed(2)}x (target <= 1.3x)`,
      `like for like: systeminformation mem() / our memory part: ` +
        `${(siMem.medianUs / memOnly.medianUs).toFixed(0)}x; currentLoad() / our cpu part: ` +
        `${(siLoad.medianUs / cpuOnly.medianUs).toFixed(0)}x (target >= 20x)`,
      `whole sample vs systeminformation mem() + currentLoad(): ` +
        `${((siMem.medianUs + siLoad.medianUs) / addon.medianUs).toFixed(0)}x`,
    ],
    raw: { addon, limit, node, siMem, siLoad, memOnly, cpuOnly, files: files.length },
  };
}
