/**
 * healthCheck and the store's reads prepare their SQL once, not on every call (better-sqlite3
 * compiles on each prepare(); the per-call cost grew the server-side time of a check).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createOvernightContext, type OvernightContext } from '../../src/context.js';

let ctx: OvernightContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

describe('statements prepared once', () => {
  it('repeated quick checks, task lists, journal reads and checkpoints prepare nothing new', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'ovn-stmt-'));
    ctx = await createOvernightContext({ config: { ...parseConfig({}), stateDir }, health: { gpu: null } });
    const db = ctx.db;
    let prepares = 0;
    const real = db.prepare.bind(db);
    db.prepare = (sql: string) => {
      prepares++;
      return real(sql);
    };
    const round = async (i: number) => {
      await ctx!.health.checkSystemHealth('quick');
      ctx!.progress.list();
      ctx!.journal.lastRecovery();
      ctx!.journal.recentCounts(3600_000);
      await ctx!.progress.trackCodingProgress('task-a', [{ stage: 'build', completion: 0.1 * (i + 1) }]);
      await ctx!.progress.trackCodingProgress('task-a');
    };
    await round(0);
    const afterFirst = prepares;
    for (let i = 1; i < 5; i++) await round(i);
    expect(prepares).toBe(afterFirst);
  });
});
