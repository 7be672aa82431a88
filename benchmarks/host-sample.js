// Host sample: the addon vs the C limit, in two parts that are judged separately (issue 17 §3):
//  - the host part: /proc/meminfo, stat, loadavg, uptime, pressure/{cpu,memory,io} and statvfs("/"),
//    i.e. sample({ cgroup: false, paths: ["/"] });
//  - the cgroup part: the membership (/proc/<pid>/cgroup, kept open and pread to notice a move) and
//    the cgroup files of this process, i.e. sample() with only the cgroup bit.
// Each C limit (benchmarks/limit/proc_limit.cc) preads exactly the files its part reads, kept open,
// and nothing else. The addon, the C limits and Node's readFileSync run interleaved in ABAB rounds
// (interleave()); each call of a case is a batch of BATCH samples, so that the C limit's pipe round
// trip (measured in the same rounds as `noop` and subtracted) is small beside it. systeminformation
// is a peer with its own caches: timed spaced in the same run, compared like for like.
// The addon and the C limits run pinned to one CPU together (lib/pin.js): the judged ratios compare
// the code, not two vCPUs. A shorter unpinned pass follows, reported beside them for reference.
// Scale with OVN_BENCH_HOST_ROUNDS (default 15) and OVN_BENCH_HOST_BATCH (default 200).
import { existsSync, readFileSync } from 'node:fs';
import si from 'systeminformation';
import { createHostReader } from '../dist/readers/host.js';
import { startProcLimit } from './limit/proc-limit.js';
import { fmtUs, interleave, loadColumn, median, timeAsync, timeSpaced } from './lib/measure.js';
import { pinTogether } from './lib/pin.js';

const HOST_FILES = [
  '/proc/meminfo',
  '/proc/stat',
  '/proc/loadavg',
  '/proc/uptime',
  '/proc/pressure/cpu',
  '/proc/pressure/memory',
  '/proc/pressure/io',
];

/** The cgroup files one sample reads on this machine (as native/proc/cgroup.cc does), plus the membership. */
function cgroupFilesOf(cg) {
  const files = [`/proc/${process.pid}/cgroup`];
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
  return out;
}

/** The unpinned pass's ratios (same code, same rounds design; each process on any CPU). */
function unpinnedNote(u, batch) {
  const rt = u.roundTrip.medianUs;
  const ratio = (addon, lim) => (u[addon].medianUs / Math.max(1e-9, u[lim].medianUs - rt)).toFixed(2);
  return (
    `for reference, unpinned (${u.rounds} rounds after the pinned ones, batches of ${batch}): ` +
    `host part ${ratio('addonHost', 'limitHost')}×, cgroup part ${ratio('addonCgroup', 'limitCgroup')}× its C limit ` +
    `(load ${u.load.before} → ${u.load.after}); not judged`
  );
}

const HOST_OPTS = { cgroup: false, paths: ['/'] };
const CGROUP_OPTS = { cpu: false, perCpu: false, memory: false, load: false, psi: false };

export async function run() {
  const rounds = Number(process.env.OVN_BENCH_HOST_ROUNDS ?? 15);
  const batch = Number(process.env.OVN_BENCH_HOST_BATCH ?? 200);
  // One reader per part, as independent consumers have: each keeps its own files and baseline.
  const hostReader = createHostReader();
  const cgReader = createHostReader();
  const wholeReader = createHostReader();
  const cgroupFiles = cgroupFilesOf(cgReader.sample(CGROUP_OPTS).cgroup);
  const limit = startProcLimit();
  const cpu = {};
  let r;
  let unpinned;
  let pin;
  let siMem;
  let siLoad;
  try {
    const hostSet = await limit.set('host', '/', HOST_FILES);
    const cgSet = await limit.set('cgroup', null, cgroupFiles);
    await limit.set('whole', '/', [...HOST_FILES, ...cgroupFiles]);
    // CPU time per sample beside the wall time: on a loaded machine the wall time also holds the
    // waits for a CPU, which CPU time does not (process.cpuUsage() counts all of Node's threads,
    // idle during a synchronous loop but for the GC's).
    const times = (name, fn) => () => {
      const c0 = process.cpuUsage();
      for (let i = 0; i < batch; i++) fn();
      const c = process.cpuUsage(c0);
      (cpu[name] ??= []).push((c.user + c.system) / batch);
    };
    const limitRun = (name, set) => async () => {
      const x = await limit.run(set, batch);
      (cpu[name] ??= []).push(x.cpuUs / batch);
    };
    pin = pinTogether([process.pid, limit.pid]);
    try {
      r = await interleave(
        {
          limitHost: limitRun('limitHost', 'host'),
          addonHost: times('addonHost', () => hostReader.sample(HOST_OPTS)),
          limitCgroup: limitRun('limitCgroup', 'cgroup'),
          addonCgroup: times('addonCgroup', () => cgReader.sample(CGROUP_OPTS)),
          limitWhole: limitRun('limitWhole', 'whole'),
          addonWhole: times('addonWhole', () => wholeReader.sample({ paths: ['/'] })),
          nodeWhole: times('nodeWhole', () => nodeSample([...HOST_FILES, ...cgroupFiles])),
          roundTrip: () => limit.noop(),
        },
        { rounds, perRound: 3, warmup: 2 },
      );
    } finally {
      pin.restore?.();
    }
    // For reference: the two parts unpinned, each process on whichever CPU the scheduler picks.
    if (pin.cpu !== null) {
      unpinned = await interleave(
        {
          limitHost: () => limit.run('host', batch),
          addonHost: () => {
            for (let i = 0; i < batch; i++) hostReader.sample(HOST_OPTS);
          },
          limitCgroup: () => limit.run('cgroup', batch),
          addonCgroup: () => {
            for (let i = 0; i < batch; i++) cgReader.sample(CGROUP_OPTS);
          },
          roundTrip: () => limit.noop(),
        },
        { rounds: Math.max(3, Math.round(rounds / 2)), perRound: 3, warmup: 1 },
      );
    }
    r.files = { host: hostSet.items, cgroup: cgSet.items };
    siMem = await timeAsync(() => si.mem(), { iterations: 100, warmup: 10 });
    // currentLoad() returns a cached result when called within 200 ms (and otherwise spawns
    // `cat /proc/stat`): time only calls made after the cache expired.
    siLoad = await timeSpaced(() => si.currentLoad(), 210, 20);
  } finally {
    limit.close();
  }
  const rt = r.roundTrip.medianUs;
  const per = (name) => r[name].medianUs / batch;
  const limitPer = (name) => Math.max(0, r[name].medianUs - rt) / batch;
  const parts = [
    ['host part', `${r.files.host} /proc files + statvfs`, per('addonHost'), limitPer('limitHost'), 1.3],
    ['cgroup part', `${r.files.cgroup} files (membership + cgroup)`, per('addonCgroup'), limitPer('limitCgroup'), 1.5],
    [
      'whole sample',
      `${r.files.host + r.files.cgroup} files + statvfs`,
      per('addonWhole'),
      limitPer('limitWhole'),
      null,
    ],
  ];
  const load = loadColumn(r.load);
  const cpuOf = (name) => median(cpu[name]);
  const cpuPairs = {
    'host part': ['addonHost', 'limitHost'],
    'cgroup part': ['addonCgroup', 'limitCgroup'],
    'whole sample': ['addonWhole', 'limitWhole'],
  };
  const rows = [];
  for (const [what, files, addon, lim] of parts) {
    const [a, l] = cpuPairs[what];
    rows.push([`C limit, ${what} (${files})`, fmtUs(lim), '1.00×', fmtUs(cpuOf(l)), '1.00×', load]);
    rows.push([
      `**overnight-ops ${what}**`,
      fmtUs(addon),
      `**${(addon / lim).toFixed(2)}×**`,
      fmtUs(cpuOf(a)),
      `${(cpuOf(a) / cpuOf(l)).toFixed(2)}×`,
      load,
    ]);
  }
  const nodeUs = per('nodeWhole');
  rows.push([
    'Node readFileSync + parse, whole sample',
    fmtUs(nodeUs),
    `${(nodeUs / limitPer('limitWhole')).toFixed(2)}×`,
    fmtUs(cpuOf('nodeWhole')),
    `${(cpuOf('nodeWhole') / cpuOf('limitWhole')).toFixed(2)}×`,
    load,
  ]);
  rows.push(['systeminformation mem()', fmtUs(siMem.medianUs), '', '', '', load]);
  rows.push(['systeminformation currentLoad() (its 200 ms cache expired)', fmtUs(siLoad.medianUs), '', '', '', load]);
  // Like for like: the memory part is meminfo alone, the CPU part /proc/stat alone (both in the host part).
  const memOnly = await interleave(
    {
      memory: () => hostReader.sample({ cpu: false, load: false, psi: false, cgroup: false }),
      cpu: () => hostReader.sample({ memory: false, load: false, psi: false, cgroup: false }),
    },
    { rounds: 5, perRound: 200, warmup: 20 },
  );
  const siMemX = siMem.medianUs / memOnly.memory.medianUs;
  const siLoadX = siLoad.medianUs / memOnly.cpu.medianUs;
  const targets = [
    ...parts
      .filter(([, , , , goal]) => goal !== null)
      .map(([what, , addon, lim, goal]) => ({
        what: `${what}: sampleHost() / its C limit`,
        value: Number((addon / lim).toFixed(2)),
        goal: `≤ ${goal}×`,
        met: addon / lim <= goal,
      })),
    {
      what: 'systeminformation mem() / our memory part',
      value: Number(siMemX.toFixed(0)),
      goal: '≥ 20×',
      met: siMemX >= 20,
    },
    {
      what: 'systeminformation currentLoad() / our CPU part',
      value: Number(siLoadX.toFixed(0)),
      goal: '≥ 20×',
      met: siLoadX >= 20,
    },
  ];
  return {
    title:
      `Host sample, host part and cgroup part each against its own C limit (per sample; median of ${rounds} ` +
      `interleaved rounds of ${batch}-sample batches)`,
    head: [
      'implementation',
      'wall time per sample',
      'vs its C limit',
      'CPU time per sample',
      'vs its C limit (CPU)',
      'load 1 min (before → after)',
    ],
    rows,
    notes: [
      pin.cpu !== null
        ? `the addon and its C limits ran pinned together to CPU ${pin.cpu} (taskset -a; lib/pin.js): the ratios ` +
          `compare the code on one CPU, not two vCPUs of different noise`
        : `not pinned (${pin.why}): the two processes ran on whichever CPUs the scheduler picked`,
      ...(unpinned ? [unpinnedNote(unpinned, batch)] : []),
      `C limit round trip over its pipe: ${fmtUs(rt)} per batch of ${batch}, measured in the same rounds and ` +
        `subtracted (${((rt / r.limitWhole.medianUs) * 100).toFixed(1)} % of the whole-sample batch)`,
      `like for like: systeminformation mem() / our memory part: ${siMemX.toFixed(0)}×; currentLoad() / our ` +
        `CPU part: ${siLoadX.toFixed(0)}× (target ≥ 20×)`,
      'the targets are judged on wall time (median of round medians); CPU time (median over rounds of user + ' +
        'system per sample: getrusage in the C limit, process.cpuUsage() here) leaves out the waits for a CPU ' +
        'that a loaded machine adds to both',
      `load average before ${r.load.before}, after ${r.load.after}`,
    ],
    load: r.load,
    targets,
    raw: {
      interleaved: r,
      pinnedCpu: pin.cpu,
      unpinned,
      cpuUs: Object.fromEntries(Object.keys(cpu).map((k) => [k, cpuOf(k)])),
      batch,
      siMem,
      siLoad,
      memOnly,
    },
  };
}
