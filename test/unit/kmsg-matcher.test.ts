import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchKernelLine, normalizeBusId } from '../../src/events/kmsg-matcher.js';
import { KMSG_RULES } from '../../src/events/kmsg-catalog.js';

const corpusPath = path.resolve(__dirname, '../fixtures/kmsg/corpus.tsv');
const corpus = readFileSync(corpusPath, 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const tab = l.indexOf('\t');
    return { kind: l.slice(0, tab), line: l.slice(tab + 1) };
  });

describe('kernel-log catalog against the corpus of real lines', () => {
  it.each(corpus)('$kind <- $line', ({ kind, line }) => {
    const m = matchKernelLine(line, 0);
    if (kind === '-') expect(m).toBeNull();
    else expect(m?.kind).toBe(kind);
  });

  it('every rule is exercised by at least one corpus line', () => {
    const used = new Set(corpus.map((c) => matchKernelLine(c.line, 0)?.rule).filter(Boolean));
    expect(KMSG_RULES.map((r) => r.id).filter((id) => !used.has(id))).toEqual([]);
  });
});

describe('matchKernelLine fields', () => {
  it('an Xid line gives code, bus id, pid, comm, the GPU index NVML knows, and the catalog severity', () => {
    const gpus = new Map([[normalizeBusId('00000000:3B:00.0'), 1]]);
    const m = matchKernelLine(
      'NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus.',
      1,
      { gpuIndexByBusId: gpus },
    );
    expect(m).toMatchObject({
      kind: 'xid',
      severity: 'critical',
      subject: { xid: 79, pciBusId: '0000:3b:00.0', pid: 1234, comm: 'python3', gpuIndex: 1, xidClass: 'fatal' },
    });
    const app = matchKernelLine(
      "NVRM: Xid (PCI:0000:b7:00): 13, pid='<unknown>', name=<unknown>, Graphics SM Warp Exception",
      0,
    );
    expect(app?.severity).toBe('warning');
    expect(app?.subject.pid).toBeUndefined();
    expect(app?.subject.gpuIndex).toBeUndefined();
  });

  it('an OOM kill says whether the victim was in the agent scope', () => {
    const scope = (pid: number) => (pid === 4242 ? true : pid === 1 ? false : undefined);
    const line = (pid: number) =>
      `Memory cgroup out of memory: Killed process ${pid} (python3) total-vm:1kB, anon-rss:1kB`;
    expect(matchKernelLine(line(4242), 0, { inScope: scope })?.subject).toMatchObject({
      pid: 4242,
      comm: 'python3',
      inScope: true,
    });
    expect(matchKernelLine(line(1), 0, { inScope: scope })?.subject.inScope).toBe(false);
    expect(matchKernelLine(line(7), 0, { inScope: scope })?.subject).not.toHaveProperty('inScope');
  });

  it('hung task, lockup, I/O error and SXid carry their numbers', () => {
    expect(
      matchKernelLine('INFO: task kworker/u16:2:1234 blocked for more than 120 seconds.', 0)?.subject,
    ).toMatchObject({ comm: 'kworker/u16:2', pid: 1234, seconds: 120 });
    expect(matchKernelLine('watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [java:77]', 0)).toMatchObject({
      kind: 'lockup',
      subject: { cpu: 3, seconds: 23, comm: 'java', pid: 77 },
    });
    expect(matchKernelLine('I/O error, dev nvme0n1, sector 42 op 0x1:(WRITE)', 0)?.subject).toMatchObject({
      device: 'nvme0n1',
      sector: 42,
    });
    expect(
      matchKernelLine('nvidia-nvswitch0: SXid (PCI:0000:05:00.0): 11004, Fatal, Link 01 ingress invalid ACL', 0),
    ).toMatchObject({ kind: 'sxid', severity: 'critical', subject: { sxid: 11004, pciBusId: '0000:05:00.0' } });
  });

  it('only kernel (0) and user (1) facility lines are matched', () => {
    const line = 'Out of memory: Killed process 9 (x)';
    expect(matchKernelLine(line, 0)).not.toBeNull();
    expect(matchKernelLine(line, 1)).not.toBeNull();
    expect(matchKernelLine(line, 3)).toBeNull(); // daemon: systemd writing to /dev/kmsg
  });

  it('normalizes NVML and kernel bus ids alike', () => {
    expect(normalizeBusId('00000000:3B:00.0')).toBe('0000:3b:00.0');
    expect(normalizeBusId('0000:3b:00')).toBe('0000:3b:00.0');
    expect(normalizeBusId('3b:00.1')).toBe('0000:3b:00.1');
  });
});
