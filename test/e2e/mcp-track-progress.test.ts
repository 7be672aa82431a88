import { execFileSync, spawn } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ProgressTracker } from '../../src/progress/progress-tracker.js';
import { openDatabase } from '../../src/store/database.js';
import { systemClock } from '../../src/util/clock.js';
import { waitFor } from '../helpers/children.js';
import { CLI, connectClient, connectStdio, errorText, structured, writeConfig } from '../helpers/mcp.js';
import type { Client } from '@modelcontextprotocol/client';

let client: Client;
let cfg: { file: string };

beforeAll(async () => {
  const c = await connectClient({}, 'progress-tests');
  client = c.client;
  cfg = { file: c.config };
});
afterAll(async () => client?.close());

describe('trackProgress over MCP', () => {
  it("has the design's schema (taskId required; checkpoints of stage, completion, artifacts)", async () => {
    const { tools } = await client.listTools();
    const t = tools.find((x) => x.name === 'trackProgress')!;
    expect(t.inputSchema.required).toEqual(['taskId']);
    const cps = (
      t.inputSchema.properties as Record<string, { type: string; items: { properties: Record<string, unknown> } }>
    ).checkpoints;
    expect(cps.type).toBe('array');
    expect(Object.keys(cps.items.properties)).toEqual(['stage', 'completion', 'artifacts']);
  });

  it('writes, reads back, and refuses bad input with the field named', async () => {
    const w = structured<{ task_id: string; recorded: number; current_stage: { stage: string } }>(
      await client.callTool({
        name: 'trackProgress',
        arguments: {
          taskId: 'e2e-task',
          checkpoints: [
            { stage: 'plan', completion: 0.1 },
            { stage: 'build', completion: 0.3 },
          ],
        },
      }),
    );
    expect(w.recorded).toBe(2);
    const r = structured<{ stages_completed: number; estimated_completion: unknown }>(
      await client.callTool({ name: 'trackProgress', arguments: { taskId: 'e2e-task' } }),
    );
    expect(r.stages_completed).toBe(1);
    expect(
      errorText(
        await client.callTool({
          name: 'trackProgress',
          arguments: { taskId: 'e2e-task', checkpoints: [{ stage: 'x', completion: 2 }] },
        }),
      ),
    ).toMatch(/checkpoints\.0\.completion: got 2/);
    expect(errorText(await client.callTool({ name: 'trackProgress', arguments: { checkpoints: [] } }))).toMatch(
      /taskId/,
    );
  });

  it('an artifact outside the roots is refused as bad input: the field named, nothing stored, no stack', async () => {
    const { client: c, close, stderr } = await connectStdio();
    try {
      const r = await c.callTool({
        name: 'trackProgress',
        arguments: { taskId: 'outside', checkpoints: [{ stage: 's', completion: 0.5, artifacts: ['/etc/hostname'] }] },
      });
      const text = errorText(r);
      expect(text).toMatch(/nothing was stored/);
      expect(text).toMatch(/checkpoints\.0\.artifacts\.0/);
      expect(text).toMatch(/What to do: correct the fields named above/);
      expect(text).not.toMatch(/server log/);
      const read = structured<{ checkpoints_total?: number; stages_completed: number }>(
        await c.callTool({ name: 'trackProgress', arguments: { taskId: 'outside' } }),
      );
      expect(read.stages_completed).toBe(0);
      expect(stderr()).not.toMatch(/\n\s+at /);
    } finally {
      await close();
    }
  });

  it('answers a stored write as stored when the same completion is reported again (no ETA, a reason)', async () => {
    // An agent re-reporting the same progress: the regression's slope is ~1e-20, not 0, and once made
    // the ETA throw after the checkpoint was committed, so the call came back isError and was retried.
    const call = () =>
      client.callTool({
        name: 'trackProgress',
        arguments: { taskId: 'same-again', checkpoints: [{ stage: 'build', completion: 0.3 }] },
      });
    for (let i = 1; i <= 4; i++) {
      const r = await call();
      expect((r as { isError?: boolean }).isError ?? false).toBe(false);
      const s = structured<{
        recorded: number;
        checkpoints: number;
        estimated_completion: unknown;
        estimated_completion_reason?: string;
      }>(r);
      expect(s.recorded).toBe(1);
      expect(s.checkpoints).toBe(i);
      if (i >= 3) {
        expect(s.estimated_completion).toBeNull();
        expect(s.estimated_completion_reason).toMatch(/no progress over the last \d+ checkpoints/);
      }
    }
    const read = await client.callTool({ name: 'trackProgress', arguments: { taskId: 'same-again' } });
    expect((read as { isError?: boolean }).isError ?? false).toBe(false);
    expect(structured<{ checkpoints: number }>(read).checkpoints).toBe(4);
  });

  it('`overnight progress` shows the same task as JSON', () => {
    const list = JSON.parse(
      execFileSync(process.execPath, [CLI, 'progress', '--json', '--config', cfg.file], { encoding: 'utf8' }),
    ) as { task_id: string; completion: number }[];
    expect(list.find((t) => t.task_id === 'e2e-task')!.completion).toBe(0.3);
    const one = JSON.parse(
      execFileSync(process.execPath, [CLI, 'progress', 'e2e-task', '--config', cfg.file], { encoding: 'utf8' }),
    ) as { checkpoints: number };
    expect(one.checkpoints).toBe(2);
  });
});

describe('restore and hashing from the command line and the server', () => {
  it("`overnight progress restore <task> --config F` uses F's state directory", async () => {
    const { file, dir } = writeConfig();
    const work = path.join(dir, 'work');
    mkdirSync(work);
    const cfgJson = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...cfgJson, progress: { storeArtifacts: true, artifactRoots: [work] } }));
    const config = parseConfig(JSON.parse(readFileSync(file, 'utf8')));
    const db = openDatabase(config.stateDir);
    const a = path.join(work, 'out.txt');
    writeFileSync(a, 'good');
    await new ProgressTracker(db, config, systemClock).trackCodingProgress('cli-restore', [
      { stage: 's', completion: 0.5, artifacts: [a] },
    ]);
    db.close();
    writeFileSync(a, 'broken');
    const out = JSON.parse(
      execFileSync(process.execPath, [CLI, 'progress', 'restore', 'cli-restore', '--config', file], {
        encoding: 'utf8',
      }),
    ) as { checkpoint: number };
    expect(out.checkpoint).toBe(1);
    expect(readFileSync(a, 'utf8')).toBe('good');
    // Overwriting files is a destructive act: decided by the policy and written to the audit log.
    const audit = openDatabase(config.stateDir);
    const rows = audit
      .prepare(`SELECT phase, target FROM audit WHERE action = 'restore_artifacts' ORDER BY id`)
      .all() as { phase: string; target: string }[];
    audit.close();
    expect(rows.map((r) => r.phase)).toEqual(['decision', 'outcome']);
    expect(JSON.parse(rows[0].target)).toMatchObject({ taskId: 'cli-restore', checkpoint: 1, paths: [a] });
  });

  it('SIGTERM ends the server promptly while it hashes a hundred 2 GiB artifacts', async () => {
    const { file, dir } = writeConfig();
    const big = path.join(dir, 'sparse.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 2 * 2 ** 30);
    closeSync(fd);
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...cfg, progress: { artifactRoots: [dir], maxHashBytesPerCall: 2 ** 40 } }));
    const server = spawn(process.execPath, [CLI, 'serve', '--config', file], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
    });
    try {
      const exited = new Promise<number>((resolve) => server.once('exit', () => resolve(Date.now())));
      const send = (m: unknown) => server.stdin.write(`${JSON.stringify(m)}\n`);
      let out = '';
      server.stdout.on('data', (d: Buffer) => (out += d.toString()));
      send({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      });
      await waitFor(() => out.includes('"id":1'), 60_000);
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      const rchar = () => Number(/rchar: (\d+)/.exec(readFileSync(`/proc/${server.pid}/io`, 'utf8'))![1]);
      const before = rchar();
      send({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: {
          name: 'trackProgress',
          arguments: {
            taskId: 'huge',
            checkpoints: [{ stage: 's', completion: 0.1, artifacts: Array.from({ length: 100 }, () => big) }],
          },
        },
      });
      // Hashing is under way once the server has read 256 MiB (bounded wait, however slow the machine).
      await waitFor(() => rchar() - before > 256 * 2 ** 20, 60_000);
      const t0 = Date.now();
      server.kill('SIGTERM');
      const t1 = await exited;
      process.stderr.write(
        `SIGTERM to exit while hashing: ${t1 - t0} ms (load ` +
          `${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n`,
      );
      // The rest of 200 GiB would take minutes; the server must not wait for it.
      expect(t1 - t0).toBeLessThan(20_000);
      expect(out).not.toMatch(/"id":2,"result":\{"content".*"recorded"/);
    } finally {
      server.kill('SIGKILL');
    }
  }, 120_000);
});
