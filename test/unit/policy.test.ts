import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { AuditLog } from '../../src/policy/audit-log.js';
import { PolicyGate } from '../../src/policy/policy-gate.js';
import { BUILTIN_PROTECTED, protectedName } from '../../src/policy/process-scope.js';
import { openDatabase } from '../../src/store/database.js';
import { ManualClock } from '../../src/util/clock.js';

function gate(policy: Record<string, unknown>) {
  const db = openDatabase(mkdtempSync(path.join(tmpdir(), 'ovn-policy-')));
  const clock = new ManualClock();
  const audit = new AuditLog(db);
  return {
    db,
    clock,
    audit,
    gate: new PolicyGate(parseConfig({ policy }).policy, audit, clock, {
      scopeRoot: process.pid,
      selfPid: process.pid,
    }),
  };
}

describe('policy gate', () => {
  it('enforces the hourly budget of destructive acts (dry runs and reservations do not count)', async () => {
    const { gate: g, clock } = gate({ maxActionsPerHour: 2 });
    const act = () =>
      g.perform(
        { actor: 't', action: 'delete', target: {}, dryRun: false },
        () => null,
        async () => 'ok',
      );
    expect((await act()).allowed).toBe(true);
    expect(
      (
        await g.perform(
          { actor: 't', action: 'delete', target: {}, dryRun: true },
          () => null,
          async () => 'x',
        )
      ).allowed,
    ).toBe(true);
    expect(
      (
        await g.perform(
          { actor: 't', action: 'lease_gpu', target: {}, dryRun: false },
          () => null,
          async () => 'x',
        )
      ).allowed,
    ).toBe(true);
    expect((await act()).allowed).toBe(true);
    const third = await act();
    expect(third.allowed).toBe(false);
    expect(third.reason).toMatch(/hourly budget of 2/);
    clock.advance(3601_000);
    expect((await act()).allowed).toBe(true);
  });

  it('counts disk reservations as bookkeeping: two at budget 2 leave the next real recovery allowed', async () => {
    const { gate: g } = gate({ maxActionsPerHour: 2 });
    for (let i = 0; i < 2; i++)
      expect(
        (
          await g.perform(
            { actor: 't', action: 'reserve_disk', target: { i }, dryRun: false },
            () => null,
            async () => 'ok',
          )
        ).allowed,
      ).toBe(true);
    expect(
      (
        await g.perform(
          { actor: 't', action: 'signal', target: {}, dryRun: false },
          () => null,
          async () => 'ok',
        )
      ).allowed,
    ).toBe(true);
  });

  it('checks a dry run against the budget (it says it would be refused) without spending any', async () => {
    const { gate: g } = gate({ maxActionsPerHour: 1 });
    const act = (dryRun: boolean) =>
      g.perform(
        { actor: 't', action: 'delete', target: {}, dryRun },
        () => null,
        async () => 'ok',
      );
    expect(await act(true)).toMatchObject({ allowed: true, dry_run: true });
    expect(await act(false)).toMatchObject({ allowed: true, dry_run: false });
    const dry = await act(true);
    expect(dry).toMatchObject({ allowed: false, dry_run: true });
    expect(dry.reason).toMatch(/hourly budget of 1/);
  });

  it('matches protected names by executable basename, argv[0] (fallback) and the 15-character comm', () => {
    const gone = 2 ** 22 + 1; // above pid_max: no /proc/PID/exe, so argv[0] is the fallback
    expect(
      protectedName(
        { pid: gone, comm: 'fabric', cmdline: ['/usr/bin/nvidia-fabricmanager', '-c', '/etc/fm.cfg'] },
        BUILTIN_PROTECTED,
      ),
    ).toBe('executable nvidia-fabricmanager');
    expect(protectedName({ pid: gone, comm: 'nvidia-persiste', cmdline: [] }, BUILTIN_PROTECTED)).toBe(
      'name nvidia-persistenced',
    );
    expect(
      protectedName({ pid: gone, comm: 'nvidia-persist', cmdline: ['./nvidia-persist'] }, BUILTIN_PROTECTED),
    ).toBeNull();
    expect(
      protectedName({ pid: gone, comm: 'python3', cmdline: ['python3', 'train.py'] }, [
        ...BUILTIN_PROTECTED,
        'train.py',
      ]),
    ).toBeNull();
    // This very process: its executable is node, whatever comm says.
    expect(protectedName({ pid: process.pid, comm: 'renamed', cmdline: ['x'] }, ['node'])).toBe('executable node');
  });

  it('writes the decision before the act and the outcome after, and the log cannot be edited', async () => {
    const { gate: g, audit, db } = gate({});
    let seenDuringAct = 0;
    await g.perform(
      { actor: 't', action: 'delete', target: { path: '/x' }, inputs: { why: 'test' }, dryRun: false },
      () => null,
      async () => {
        seenDuringAct = audit.list().length;
        return { freed: 1 };
      },
    );
    expect(seenDuringAct).toBe(1);
    const rows = audit.list();
    expect(rows.map((r) => r.phase)).toEqual(['decision', 'outcome']);
    expect(rows[1].outcome).toEqual({ freed: 1 });
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE audit SET reason = 'x'").run()).toThrow(/append-only/);
  });

  it('records an act that throws as its outcome', async () => {
    const { gate: g, audit } = gate({});
    const r = await g.perform(
      { actor: 't', action: 'delete', target: {}, dryRun: false },
      () => null,
      async () => {
        throw Object.assign(new Error('disk on fire'), { code: 'EIO' });
      },
    );
    expect(r.error).toEqual({ code: 'EIO', message: 'disk on fire' });
    expect(audit.list().at(-1)!.outcome).toEqual({ error: { code: 'EIO', message: 'disk on fire' } });
  });

  it('refuses protected names, deny patterns and processes outside the allow list', () => {
    const { gate: g } = gate({ deny: ['^node '], allow: [] });
    expect(g.checkProcess(1)).toMatchObject({ allowed: false });
    const self = g.checkProcess(process.ppid);
    expect(self.allowed).toBe(false);
  });
});
