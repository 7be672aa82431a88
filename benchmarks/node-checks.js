// The added cost of the node checks in a full health check: InfiniBand (8 ports on a fake sysfs
// tree), NVLink (8 GPUs x 18 links through the fake NVML) and NVSwitch fabric, mounts, daemons,
// users, zombies and descriptors, against the same full check on PCIe-only GPUs with nothing
// configured. The two configurations alternate in rounds in one process (same NVML library, same
// machine load), so the difference is the added cost. Also: the node checker alone, and one
// operator check (a spawned script).
import { mkdtempSync, mkdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDir, fmtUs, timeAsync } from './lib/measure.js';

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

export async function run() {
  const lib = path.join(benchDir, '../test/fixtures/fake-nvml/build/full/libnvidia-ml.so.1');
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
    const offT = [];
    const onT = [];
    const rounds = 6;
    const per = 15;
    for (let r = 0; r < rounds; r++) {
      useNvml(base);
      const a = await timeAsync(() => off.checkSystemHealth('full'), { iterations: per, warmup: 2 });
      useNvml(hgx);
      const b = await timeAsync(() => on.checkSystemHealth('full'), { iterations: per, warmup: 2 });
      offT.push(a.medianUs);
      onT.push(b.medianUs);
    }
    const nc = on.nodeChecks;
    const table = await (
      await import('../dist/readers/processes.js')
    )
      .createProcessTable()
      .scanAsync({ status: true, cmdline: true });
    const gpu = await gpuSampler().sample();
    const checker = await timeAsync(() => nc.run(table, gpu), { iterations: 100, warmup: 5 });
    useNvml(base);
    const gpuOff = await timeAsync(() => gpuSampler().sample(), { iterations: 100, warmup: 5 });
    useNvml(hgx);
    const gpuOn = await timeAsync(() => gpuSampler().sample(), { iterations: 100, warmup: 5 });
    const check = await timeAsync(() => runOperatorCheck(allOn.checks[0]), { iterations: 30, warmup: 3 });
    gpuSampler().close();
    const mOff = median(offT);
    const mOn = median(onT);
    return {
      title:
        `Node checks in a full health check (8 GPUs x 18 NVLink links + fabric on the fake NVML, ${ports} ` +
        `InfiniBand ports on a fake sysfs, 3 mounts, 2 daemons, users, zombies, descriptors)`,
      head: ['what', 'median', 'p99', 'note'],
      rows: [
        [
          'full check, node checks unconfigured, PCIe-only GPUs',
          fmtUs(mOff),
          '',
          `median of ${rounds} round medians (${per} checks each)`,
        ],
        [
          'full check, everything on',
          fmtUs(mOn),
          '',
          `added: ${fmtUs(mOn - mOff)} (${(((mOn - mOff) / mOff) * 100).toFixed(0)} %)`,
        ],
        [
          'node checker alone (all on, ' + links + ' links judged)',
          fmtUs(checker.medianUs),
          fmtUs(checker.p99Us),
          'native reads on libuv workers',
        ],
        ['GPU full sample, PCIe-only GPUs', fmtUs(gpuOff.medianUs), fmtUs(gpuOff.p99Us), ''],
        [
          'GPU full sample, 18 NVLink links + fabric per GPU',
          fmtUs(gpuOn.medianUs),
          fmtUs(gpuOn.p99Us),
          `+${fmtUs(gpuOn.medianUs - gpuOff.medianUs)} for 1000 more NVML calls (125 per GPU)`,
        ],
        [
          'one operator check (spawned /bin/sh script)',
          fmtUs(check.medianUs),
          fmtUs(check.p99Us),
          'runs on its own interval, not every check',
        ],
      ],
      raw: { offRoundMediansUs: offT, onRoundMediansUs: onT, checker, gpuOff, gpuOn, check },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
