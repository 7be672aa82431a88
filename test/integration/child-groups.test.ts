/**
 * Commands we run and wait on (operators' checks, probes, escalation commands) are done when their main process
 * is: a grandchild that escaped the group with setsid and holds the output pipe must not hold the check, the probe
 * or the health report; what stayed in the group is ended with it; a time-out ends the whole group.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { runProbe } from '../../src/health/probes.js';
import { runOperatorCheck } from '../../src/node-checks/operator-checks.js';
import { Escalator } from '../../src/recovery/escalation.js';
import { ManualClock } from '../../src/util/clock.js';
import { procState, waitFor } from '../helpers/children.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'overnight-child-groups-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A pid file the command writes for a process it starts (each test its own). */
const pidFile = () => path.join(tmp, `pid-${++n}`);
const gone = (pid: number) => procState(pid) === null || procState(pid) === 'Z';
/**
 * `(setsid ... &)`: a process in a new session, out of our group's reach, holding the inherited stdout. The command
 * goes on once it has escaped (written its pid): the group is killed when the command exits, and would otherwise
 * catch it before its setsid() on a loaded machine.
 */
const escape = (file: string, secs: number) =>
  `(setsid sh -c 'echo $$ > ${file}; exec sleep ${secs}' &); while [ ! -s ${file} ]; do sleep 0.02; done`;
/** A background child that stays in the command's group (and holds its stdout too). */
const stay = (file: string, secs: number) => `sleep ${secs} & echo $! > ${file}`;

/** Waits for the pid a command wrote (it may still be starting), then checks whether it has gone. */
async function pidOf(file: string): Promise<number> {
  await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'), 20_000);
  return Number(readFileSync(file, 'utf8'));
}
/** Kills what a test left (the escaped process) whatever happened to the test. */
async function cleanup(files: string[]) {
  for (const f of files) {
    if (!existsSync(f)) continue;
    const pid = Number(readFileSync(f, 'utf8'));
    if (pid > 0 && !gone(pid)) process.kill(pid, 'SIGKILL');
  }
}
const check = (command: string[], extra: object = {}) =>
  parseConfig({ checks: [{ name: 'bg', command, ...extra }] }).checks[0];

describe("a check's children", () => {
  it('a grandchild that escaped with setsid does not hold the check: it is done when its main process is', async () => {
    const esc = pidFile();
    const kept = pidFile();
    try {
      const t0 = Date.now();
      const r = await runOperatorCheck(
        check(['sh', '-c', `${escape(esc, 94)}; ${stay(kept, 95)}; echo started; exit 0`], { timeoutSec: 60 }),
      );
      // Far below both the 60 s time-out and the 94 s hold, with room for a loaded machine.
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(r).toMatchObject({ outcome: 'ok', message: 'started', exit_code: 0, timed_out: false });
      // What stayed in the check's group is ended with it; the escaped one is out of reach (killed in finally).
      const k = await pidOf(kept);
      await waitFor(() => gone(k), 10_000);
      expect(gone(await pidOf(esc))).toBe(false);
    } finally {
      await cleanup([esc, kept]);
    }
  }, 60_000);

  it('times out at its timeoutSec even while an escaped grandchild holds its stdout', async () => {
    const esc = pidFile();
    const kept = pidFile();
    try {
      const t0 = Date.now();
      const r = await runOperatorCheck(
        check(['sh', '-c', `${escape(esc, 94)}; ${stay(kept, 95)}; echo started; sleep 97`], { timeoutSec: 3 }),
      );
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(r).toMatchObject({ outcome: 'unknown', timed_out: true, message: 'timed out after 3 s' });
      const k = await pidOf(kept);
      await waitFor(() => gone(k), 10_000);
    } finally {
      await cleanup([esc, kept]);
    }
  }, 60_000);
});

describe("a probe's children", () => {
  it('a probe past its time-out is killed with its whole group: nothing it started is left', async () => {
    const kept = pidFile();
    try {
      const r = await runProbe({
        name: 'p',
        command: ['sh', '-c', `sleep 91 & echo $! > ${kept}; wait; echo done`],
        timeoutMs: 500,
        intervalMs: 1000,
      });
      expect(r).toMatchObject({ ok: false, error: 'timed out after 500 ms' });
      const k = await pidOf(kept);
      await waitFor(() => gone(k), 10_000);
    } finally {
      await cleanup([kept]);
    }
  }, 60_000);

  it('an escaped grandchild does not hold a probe; its exit status is the result', async () => {
    const esc = pidFile();
    try {
      const t0 = Date.now();
      const ok = await runProbe({
        name: 'p',
        command: ['sh', '-c', `${escape(esc, 94)}; echo started`],
        timeoutMs: 60_000,
        intervalMs: 1000,
      });
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(ok).toMatchObject({ ok: true });
      const bad = await runProbe({ name: 'p', command: ['sh', '-c', 'exit 3'], timeoutMs: 60_000, intervalMs: 1000 });
      expect(bad).toMatchObject({ ok: false, error: 'exit 3' });
    } finally {
      await cleanup([esc]);
    }
  }, 60_000);
});

describe("an escalation command's children", () => {
  it('an escaped grandchild does not hold the delivery; what stayed in the group is ended', async () => {
    const esc = pidFile();
    const kept = pidFile();
    const cfg = parseConfig({
      escalation: { commands: [['sh', '-c', `cat >/dev/null; ${escape(esc, 94)}; ${stay(kept, 95)}; exit 0`]] },
    });
    const e = new Escalator(cfg.escalation, new ManualClock());
    e.commandTimeoutMs = 60_000;
    try {
      const t0 = Date.now();
      const r = await e.escalate({ key: 'k', severity: 'warning', summary: 'test alert', details: {} });
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(r.channels.find((c) => c.channel === 'command sh')).toMatchObject({ ok: true });
      const k = await pidOf(kept);
      await waitFor(() => gone(k), 10_000);
    } finally {
      await cleanup([esc, kept]);
    }
  }, 60_000);
});
