// The added cost of the node checks in a full health check: InfiniBand (8 ports on a fake sysfs
// tree), NVLink (8 GPUs x 18 links through the fake NVML) and NVSwitch fabric, mounts, daemons,
// users, zombies and descriptors, against the same full check on PCIe-only GPUs with nothing
// configured. The two configurations alternate in rounds in one process (interleave(): same NVML library, same
// machine load, the fake's configuration switched untimed before each round), so the difference is the added cost;
// the GPU sample with and without the NVLink links alternates the same way. Also: the node checker alone, and one
// operator check (a spawned script). No issue sets a goal on these, so no targets: the table is for the record.
import { mkdtempSync, mkdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFakeNvml } from './lib/fake-nvml.js';
import { benchDir, fmtUs, interleave, loadAverage, loadColumn, scaled, timeAsync } from './lib/measure.js';

export async function run() {
  const loadFirst = loadAverage();
  const lib = buildFakeNvml();
  const tmp = mkdtempSync(path.join(tmpdir(), 'overnight-bench-nc-'));
  try {
    const base = JSON.parse(readFileSync(path.join(benchDir, 'fixtures/fake-nvml-8gpu.json'), 'utf8'));
    const link = { active: true, version: 4, replay: 0, recovery: 0, crcFlit: 0, crcData: 0 };
    const hgx = {
      ...base,
      devices: base.devices.map((d) => ({
        ...d,
        nvlinks: Array.from({ length: 18 }, () => link),
        fabric: { state: 3, status: 0, cliqueId: 1, healthMask: 2 },
      })),
    };
    const cfgPath = path.join(tmp, 'nvml.json');
    let seq = 0;
    const useNvml = (c) => {
      const t = `${cfgPath}.${++seq}`;
      writeFileSync(t, JSON.stringify(c));
      renameSync(t, cfgPath);
    };
    useNvml(base);
    process.env.OVERNIGHT_NVML_LIBRARY = lib;
    process.env.OVERNIGHT_FAKE_NVML_CONFIG = cfgPath;
    const sysfs = path.join(tmp, 'sys');
    const expected = [];
    for (let i = 0; i < 8; i++) {
      const dir = path.join(sysfs, `class/infiniband/mlx5_${i}/ports/1`);
      mkdirSync(path.join(dir, 'counters'), { recursive: true });
      for (const [f, v] of Object.entries({
        state: '4: ACTIVE',
        phys_state: '5: LinkUp',
        rate: '400 Gb/sec (4X NDR)',
        link_layer: 'InfiniBand',
      }))
        writeFileSync(path.join(dir, f), `${v}\n`);
      for (const c of [
        'symbol_error',
        'link_downed',
        'link_error_recovery',
        'port_rcv_errors',
        'port_xmit_discards',
        'excessive_buffer_overrun_errors',
        'local_link_integrity_errors',
        'port_rcv_data',
        'port_xmit_data',
        'port_rcv_packets',
        'port_xmit_packets',
        'port_xmit_wait',
      ])
        writeFileSync(path.join(dir, 'counters', c), '0\n');
      expected.push({ device: `mlx5_${i}`, port: 1, rateGbps: 400 });
    }
    const script = path.join(tmp, 'check.sh');
    writeFileSync(script, '#!/bin/sh\necho fine\n', { mode: 0o755 });
    const { HealthMonitor } = await import('../dist/health/health-monitor.js');
    const { parseConfig } = await import('../dist/config/load.js');
    const { gpuSampler } = await import('../dist/gpu/gpu-sampler.js');
    const { runOperatorCheck } = await import('../dist/node-checks/operator-checks.js');
    const off = new HealthMonitor({ config: parseConfig({ nodeChecks: { sysfsRoot: path.join(tmp, 'empty') } }) });
    const allOn = parseConfig({
      nodeChecks: {
        sysfsRoot: sysfs,
        infiniband: { expected },
        mounts: [{ path: '/' }, { path: '/proc', fsType: 'proc' }, { path: '/sys' }],
        services: ['init', 'node'],
        unauthorizedUsers: { enabled: true },
      },
      gpu: { expectedCount: 8, persistenceMode: true },
      checks: [{ name: 'fine', command: [script], intervalSec: 86_400 }],
    });
    const on = new HealthMonitor({ config: allOn });
    const sampleOn = await (useNvml(hgx), on.checkSystemHealth('full'));
    const links = sampleOn.metrics.node_checks.gpu_interconnect.gpus.reduce((a, g) => a + (g.nvlink?.length ?? 0), 0);
    const ports = sampleOn.metrics.node_checks.infiniband.ports.length;
    const rounds = scaled(10);
    const per = 15;
    const full = await interleave(
      { off: () => off.checkSystemHealth('full'), on: () => on.checkSystemHealth('full') },
      { rounds, perRound: per, warmup: 2, before: { off: () => useNvml(base), on: () => useNvml(hgx) } },
    );
    const nc = on.nodeChecks;
    const table = await (
      await import('../dist/readers/processes.js')
    )
      .createProcessTable()
      .scanAsync({ status: true, cmdline: true });
    useNvml(hgx);
    const gpu = await gpuSampler().sample();
    const checker = await timeAsync(() => nc.run(table, gpu), { iterations: 100, warmup: 5 });
    const gpus = await interleave(
      { off: () => gpuSampler().sample(), on: () => gpuSampler().sample() },
      { rounds, perRound: 15, warmup: 3, before: { off: () => useNvml(base), on: () => useNvml(hgx) } },
    );
    const gpuOff = gpus.off;
    const gpuOn = gpus.on;
    const lcGpuAfter = gpus.load.after;
    const check = await timeAsync(() => runOperatorCheck(allOn.checks[0]), { iterations: 30, warmup: 3 });
    gpuSampler().close();
    const mOff = full.off.medianUs;
    const mOn = full.on.medianUs;
    const lc = loadColumn(full.load);
    const lcGpu = loadColumn(gpus.load);
    return {
      title:
        `Node checks in a full health check (8 GPUs x 18 NVLink links + fabric on the fake NVML, ${ports} ` +
        `InfiniBand ports on a fake sysfs, 3 mounts, 2 daemons, users, zombies, descriptors)`,
      head: ['what', 'median', 'p99', 'note', 'load (1 min)'],
      rows: [
        [
          'full check, node checks unconfigured, PCIe-only GPUs',
          fmtUs(mOff),
          fmtUs(full.off.p99Us),
          `median of ${rounds} interleaved round medians (${per} checks each)`,
          lc,
        ],
        [
          'full check, everything on',
          fmtUs(mOn),
          fmtUs(full.on.p99Us),
          `added: ${fmtUs(mOn - mOff)} (${(((mOn - mOff) / mOff) * 100).toFixed(0)} %)`,
          lc,
        ],
        [
          'node checker alone (all on, ' + links + ' links judged)',
          fmtUs(checker.medianUs),
          fmtUs(checker.p99Us),
          'native reads on libuv workers; 100 calls',
          lc,
        ],
        [
          'GPU full sample, PCIe-only GPUs',
          fmtUs(gpuOff.medianUs),
          fmtUs(gpuOff.p99Us),
          'interleaved with the next row',
          lcGpu,
        ],
        [
          'GPU full sample, 18 NVLink links + fabric per GPU',
          fmtUs(gpuOn.medianUs),
          fmtUs(gpuOn.p99Us),
          `+${fmtUs(gpuOn.medianUs - gpuOff.medianUs)} for 1000 more NVML calls (125 per GPU)`,
          lcGpu,
        ],
        [
          'one operator check (spawned /bin/sh script)',
          fmtUs(check.medianUs),
          fmtUs(check.p99Us),
          'runs on its own interval, not every check; 30 runs',
          loadColumn({ before: lcGpuAfter, after: loadAverage() }),
        ],
      ],
      notes: ['no issue sets a goal on these figures: no targets'],
      load: { before: loadFirst, after: loadAverage() },
      targets: [],
      raw: { full, checker, gpus, check },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
