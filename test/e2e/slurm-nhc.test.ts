/**
 * `overnight health --nhc --drain` as the HealthCheckProgram of a real single-node Slurm (munged,
 * slurmctld and slurmd on 127.0.0.1, configured in a temp dir, NodeName different from the host
 * name, HealthCheckInterval=10). A fake-NVML GPU with uncorrectable ECC errors makes the node
 * unhealthy: slurmd's own health check drains it with our reason, resumes it once the GPU is
 * clean, and leaves an administrator's drain alone either way.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeNvmlConfig, buildFakeNvml, fakeGpus } from '../helpers/fake-nvml.js';
import { CLI } from '../helpers/mcp.js';
import { freePort, stopChild } from '../helpers/prometheus.js';

const SLURMCTLD = ['/usr/sbin/slurmctld', '/usr/bin/slurmctld'].find((p) => existsSync(p));
if (!SLURMCTLD)
  console.warn('slurm-nhc.test.ts: skipped: slurmctld is not installed (apt-get install slurm-wlm munge)');

describe.skipIf(!SLURMCTLD)('overnight health --nhc --drain under a real Slurm', () => {
  const daemons: ChildProcess[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-slurm-'));
  afterAll(async () => {
    // slurmd first (it runs the health checks), then the controller, then munge.
    for (const d of daemons.reverse()) await stopChild(d, 10_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it("drains an unhealthy node with its reason, resumes it when healthy, leaves an admin's drain alone", async () => {
    chmodSync(dir, 0o755); // munged wants its socket's directory traversable by all
    const node = `ovn-test-${process.pid}`; // not the host name: the drain must use $SLURMD_NODENAME
    const host = hostname().split('.')[0];
    const conf = path.join(dir, 'slurm.conf');
    const sock = path.join(dir, 'munge.sock');
    const env = { ...process.env, SLURM_CONF: conf };
    const fake = new FakeNvmlConfig({ devices: fakeGpus(1) });
    const ovnConfig = path.join(dir, 'overnight.json');
    // The kernel log is off: the shared ring buffer holds Xid lines other tests injected, and this test
    // decides health by its fake GPU alone.
    writeFileSync(ovnConfig, JSON.stringify({ stateDir: path.join(dir, 'state'), kernelLog: { enabled: false } }));
    const log = path.join(dir, 'healthcheck.log');
    // What slurmd runs: it exports SLURMD_NODENAME and little else, so the wrapper sets the rest.
    const wrapper = path.join(dir, 'overnight-nhc');
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        `export SLURM_CONF=${conf} OVERNIGHT_NVML_LIBRARY=${buildFakeNvml().full} ` +
          `OVERNIGHT_FAKE_NVML_CONFIG=${fake.path}`,
        `echo "start $SLURMD_NODENAME" >> ${log}`,
        `${process.execPath} ${CLI} health --nhc --drain --timeout 30 --config ${ovnConfig} >> ${log} 2>&1`,
        'rc=$?',
        `echo "end $rc" >> ${log}`,
        'exit $rc',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );

    // munge with a key of its own.
    writeFileSync(path.join(dir, 'munge.key'), execFileSync('head', ['-c', '1024', '/dev/urandom']), { mode: 0o600 });
    const munged = spawn(
      'munged',
      [
        '-F',
        '--force',
        `--socket=${sock}`,
        `--key-file=${path.join(dir, 'munge.key')}`,
        `--pid-file=${path.join(dir, 'munged.pid')}`,
        `--seed-file=${path.join(dir, 'munged.seed')}`,
        `--log-file=${path.join(dir, 'munged.log')}`,
      ],
      { stdio: 'ignore' },
    );
    daemons.push(munged);

    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    for (const d of ['ctld', 'slurmd']) mkdirSync(path.join(dir, d));
    writeFileSync(
      conf,
      [
        'ClusterName=overnight-test',
        `SlurmctldHost=${host}(127.0.0.1)`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${sock}`,
        'SlurmUser=root',
        `StateSaveLocation=${path.join(dir, 'ctld')}`,
        `SlurmdSpoolDir=${path.join(dir, 'slurmd')}`,
        `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${path.join(dir, 'slurmd.pid')}`,
        `SlurmctldLogFile=${path.join(dir, 'slurmctld.log')}`,
        `SlurmdLogFile=${path.join(dir, 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'SelectType=select/linear',
        'MpiDefault=none',
        'SwitchType=switch/none',
        'ReturnToService=2',
        `HealthCheckProgram=${wrapper}`,
        'HealthCheckInterval=10',
        'HealthCheckNodeState=ANY',
        `NodeName=${node} NodeHostname=${host} NodeAddr=127.0.0.1 CPUs=1 RealMemory=100 State=UNKNOWN`,
        `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    const until = async (what: string, pred: () => boolean, timeoutMs: number) => {
      const t0 = Date.now();
      while (!pred()) {
        if (Date.now() - t0 > timeoutMs)
          throw new Error(
            `${what}: not within ${timeoutMs} ms. node: ${show()}\nhealth checks:\n${readLog().slice(-2000)}`,
          );
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const readLog = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    const show = () => {
      const r = spawnSync('scontrol', ['show', 'node', '-o', node], { env, encoding: 'utf8', timeout: 10_000 });
      return r.status === 0 ? r.stdout.trim() : `(scontrol: ${r.stderr.trim()})`;
    };
    const state = () => /(?:^|\s)State=(\S+)/.exec(show())?.[1] ?? '';
    const reason = () => /(?:^|\s)Reason=(.*?)(?: \[[^\]]*\])?$/.exec(show())?.[1] ?? '';
    const finishedRuns = () => readLog().match(/^end \d+$/gm)?.length ?? 0;
    const startedRuns = () => readLog().match(/^start /gm)?.length ?? 0;
    /** Waits for a health check that started after now to finish (HealthCheckInterval=10). */
    const nextRun = async () => {
      const before = startedRuns();
      await until('a health check after the change', () => finishedRuns() > before, 60_000);
    };

    await until('munged', () => existsSync(sock), 30_000);
    daemons.push(spawn(SLURMCTLD!, ['-D', '-i', '-f', conf], { stdio: 'ignore', env }));
    daemons.push(spawn('slurmd', ['-D', '-N', node, '-f', conf], { stdio: 'ignore', env }));
    await until('the node in service', () => /^(IDLE|MIXED|ALLOCATED)$/.test(state()), 90_000);

    // 1. Uncorrectable ECC errors: slurmd's health check drains the node with our reason.
    fake.write({ devices: fakeGpus(1, { eccUncVol: 3 }) });
    await until(
      'drained by overnight',
      () => state().includes('DRAIN') && reason().startsWith('overnight: GPU 0'),
      60_000,
    );
    expect(reason()).toBe('overnight: GPU 0: 3 uncorrectable ECC errors since the last reset');
    expect(readLog()).toContain(`start ${node}`); // slurmd passed SLURMD_NODENAME

    // 2. Healthy again: resumed.
    fake.write({ devices: fakeGpus(1) });
    await until('resumed', () => /^(IDLE|MIXED|ALLOCATED)$/.test(state()), 60_000);

    // 3. An administrator's drain: left alone while the node fails, and not resumed when it passes.
    execFileSync('scontrol', ['update', `nodename=${node}`, 'state=drain', 'reason=admin: replacing a fan'], { env });
    fake.write({ devices: fakeGpus(1, { eccUncVol: 3 }) });
    await nextRun();
    expect(readLog().trimEnd().split('\n').at(-1)).toBe('end 1'); // the check did fail
    expect(state()).toContain('DRAIN');
    expect(reason()).toBe('admin: replacing a fan');
    fake.write({ devices: fakeGpus(1) });
    await nextRun();
    expect(readLog().trimEnd().split('\n').at(-1)).toBe('end 0');
    expect(state()).toContain('DRAIN');
    expect(reason()).toBe('admin: replacing a fan');

    // Both of our acts are in the audit log, with the node's name.
    const audit = JSON.parse(
      execFileSync(process.execPath, [CLI, 'audit', '--json', '--config', ovnConfig], { encoding: 'utf8' }),
    ) as { action: string; phase: string; target: { node: string }; outcome: unknown }[];
    const acts = audit.filter((e) => e.phase === 'outcome').map((e) => `${e.action} ${e.target.node}`);
    expect(acts).toContain(`slurm_drain ${node}`);
    expect(acts).toContain(`slurm_resume ${node}`);
    expect(acts).toHaveLength(2);
  }, 300_000);
});
