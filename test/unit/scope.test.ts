/** The scope a policy names: implicit (the parent), a unit/cgroup, a user; and none at all. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { AuditLog } from '../../src/policy/audit-log.js';
import { implicitScope } from '../../src/policy/implicit-scope.js';
import { PolicyGate } from '../../src/policy/policy-gate.js';
import { cgroupPathsOf, parseCgroupSelector } from '../../src/readers/cgroup-membership.js';
import { openDatabase } from '../../src/store/database.js';
import { ManualClock } from '../../src/util/clock.js';

const gate = (policy: Record<string, unknown>) =>
  new PolicyGate(
    parseConfig({ policy }).policy,
    new AuditLog(openDatabase(mkdtempSync(path.join(tmpdir(), 'ovn-scope-')))),
    new ManualClock(),
  );

const kids: number[] = [];
afterEach(() => {
  for (const pid of kids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});
function child(): number {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  kids.push(c.pid!);
  return c.pid!;
}

describe('scope', () => {
  it('the implicit root is the parent when the parent forked us in our session (the test runner here)', () => {
    expect(implicitScope()).toEqual({ root: process.ppid });
    expect(gate({}).scopeOptions.scopeRoot).toBe(process.ppid);
  });

  it('a detached (setsid) process has no implicit scope', () => {
    // libuv returns from spawn once the child has exec'd, so setsid() has already run.
    const c = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    kids.push(c.pid!);
    const v = implicitScope(c.pid);
    expect(v.root).toBeNull();
    expect(v.root === null ? v.reason : '').toMatch(/session leader/);
  });

  it('policy.scopeUnit admits only processes in that cgroup; policy.scopeUser only that user', () => {
    const pid = child();
    const mine = cgroupPathsOf(pid)!;
    const other = gate({ scopeUnit: 'no-such-agent.service' }).checkProcess(pid);
    expect(other.allowed).toBe(false);
    expect(other.allowed ? '' : other.reason).toContain('not in policy.scopeUnit no-such-agent.service');
    // The child's own cgroup path (v2 line or any v1 hierarchy) admits it.
    const own = mine.find((p) => p !== '/') ?? '/';
    expect(gate({ scopeUnit: own }).checkProcess(pid).allowed).toBe(true);
    expect(gate({ scopeUser: userInfo().username }).checkProcess(pid).allowed).toBe(true);
    const nobody = gate({ scopeUser: 'nobody' }).checkProcess(pid);
    expect(nobody.allowed ? '' : nobody.reason).toMatch(/not to policy.scopeUser/);
    expect(() => gate({ scopeUser: 'no-such-user-xyz' })).toThrow(
      /policy.scopeUser: got "no-such-user-xyz"; expected a user name/,
    );
    expect(() => parseCgroupSelector('agent', 'policy.scopeUnit')).toThrow(
      /policy.scopeUnit: got "agent"; expected a cgroup path/,
    );
  });
});
