/**
 * The shipped Prometheus files against the real tools: `promtool check rules`, `promtool test rules`
 * (the unit tests beside the rules) and `promtool check config`; then a real Prometheus server
 * scraping a monitor with two (fake-NVML) GPUs: dcgm-exporter's labels, GpuXidError for a fatal Xid
 * but not for Xid 13, and OvernightMonitorDown pending once the monitor is gone.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeNvmlConfig, buildFakeNvml, fakeGpus } from '../helpers/fake-nvml.js';
import { writeConfig } from '../helpers/mcp.js';
import { freePort, parseExposition, startMonitor, stopChild, waitForHttp } from '../helpers/prometheus.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/prometheus');
const havePromtool = spawnSync('promtool', ['--version']).status === 0;
const havePrometheus = spawnSync('prometheus', ['--version']).status === 0;

function promtool(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd: EXAMPLES, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe.skipIf(!havePromtool)('examples/prometheus with promtool', () => {
  it('the rules pass `promtool check rules`', () => {
    const r = promtool(['check', 'rules', 'overnight-rules.yml']);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  it('the rules pass their unit tests (`promtool test rules`), monitor down with the target down included', () => {
    const r = promtool(['test', 'rules', 'overnight-rules.test.yml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('the scrape config passes `promtool check config`', () => {
    const r = promtool(['check', 'config', 'prometheus.yml']);
    expect(r.code).toBe(0);
  });
});

describe.skipIf(!havePrometheus)('a real Prometheus scraping the monitor', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const c of children) await stopChild(c);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('sees dcgm-exporter labels; GpuXidError on a fatal Xid only; OvernightMonitorDown once it is gone', async () => {
    const fake = new FakeNvmlConfig({ devices: fakeGpus(2) });
    const { file, dir } = writeConfig({ monitor: { intervalSec: 300 } });
    dirs.push(dir);
    const monitor = await startMonitor(file, [], {
      OVERNIGHT_NVML_LIBRARY: buildFakeNvml().full,
      OVERNIGHT_FAKE_NVML_CONFIG: fake.path,
    });
    children.push(monitor.child);
    const target = new URL(monitor.url).host;

    // dcgm-exporter's label set, framebuffer in whole MiB, and each GPU's Xid classes starting at 0.
    const scrape = await waitForHttp(monitor.url);
    const ours = parseExposition(scrape);
    // promtool's lint draws only on names and labels that are node_exporter's and dcgm-exporter's own:
    // node_memory_MemTotal_bytes, DCGM_FI_DEV_* (counters without _total, labels UUID/modelName/
    // Hostname), and our GPU series that carry dcgm-exporter's labels so that they join with its.
    const allowed = [
      /^node_memory_\w+ metric names should be written in 'snake_case' not 'camelCase'$/,
      /^DCGM_FI_DEV_\w+ /,
      /^overnight_gpu_\w+ label names should be written in 'snake_case' not 'camelCase'$/,
    ];
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    expect((lint.stdout + lint.stderr).split('\n').filter((l) => l && !allowed.some((a) => a.test(l)))).toEqual([]);
    const host = hostname();
    const fb = ours.get('DCGM_FI_DEV_FB_USED')!;
    expect(
      fb.series.get(
        `Hostname="${host}",UUID="GPU-fake-1",device="nvidia1",gpu="1",modelName="Fake ` +
          `H100",pci_bus_id="00000000:11:00.0"`,
      ),
    ).toBe(2048);
    expect(
      ours
        .get('overnight_gpu_xid_errors_total')!
        .series.get(
          `Hostname="${host}",UUID="GPU-fake-1",device="nvidia1",gpu="1",modelName="Fake ` +
            `H100",pci_bus_id="00000000:11:00.0",xid_class="fatal"`,
        ),
    ).toBe(0);
    for (const [name, f] of ours) if (f.type !== 'counter') expect(name.endsWith('_total'), name).toBe(false);

    const promDir = mkdtempSync(path.join(tmpdir(), 'ovn-prometheus-'));
    dirs.push(promDir);
    const cfg = path.join(promDir, 'prometheus.yml');
    writeFileSync(
      cfg,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(path.join(EXAMPLES, 'overnight-rules.yml'))}]`,
        'scrape_configs:',
        '  - job_name: overnight',
        `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const prom = spawn(
      'prometheus',
      [
        `--config.file=${cfg}`,
        `--storage.tsdb.path=${path.join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    children.push(prom);
    const api = `http://127.0.0.1:${port}/api/v1`;
    const query = async (q: string) => {
      const r = (await (await fetch(`${api}/query?query=${encodeURIComponent(q)}`)).json()) as {
        status: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return r.status === 'success' ? r.data.result : [];
    };
    const until = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
      const t0 = Date.now();
      for (;;) {
        const v = await f().catch(() => undefined);
        if (v !== undefined) return v;
        if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await waitForHttp(`http://127.0.0.1:${port}/-/ready`, 60_000);
    // Two scrapes of the zeroed Xid counters, so increase() has a baseline.
    await until('two scrapes', async () =>
      Number(
        (await query('count_over_time(overnight_gpu_xid_errors_total{xid_class="fatal",gpu="1"}[1m])'))[0]?.value[1] ??
          0,
      ) >= 2
        ? true
        : undefined,
    );

    fake.injectXid(0, 13); // an application's fault: counted, no page
    fake.injectXid(1, 79); // fallen off the bus: pages
    const firing = await until('GpuXidError firing', async () => {
      const r = await query('ALERTS{alertname="GpuXidError",alertstate="firing"}');
      return r.length ? r : undefined;
    });
    expect(firing.map((a) => a.metric.gpu)).toEqual(['1']);
    expect(firing[0].metric.pci_bus_id).toBe('00000000:11:00.0');
    const app = await query('overnight_gpu_xid_errors_total{xid_class="application",gpu="0"}');
    expect(app[0]?.value[1]).toBe('1');

    await stopChild(monitor.child);
    const down = await until('OvernightMonitorDown pending', async () => {
      const r = await query('ALERTS{alertname="OvernightMonitorDown"}');
      return r.length ? r : undefined;
    });
    expect(down[0].metric).toMatchObject({
      alertstate: 'pending',
      job: 'overnight',
      instance: target,
      severity: 'critical',
    });
  }, 180_000);
});
