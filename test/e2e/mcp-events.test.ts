/**
 * The history for agents: resources overnight://events and overnight://report, and logging
 * notifications for new warning/critical kernel events once the client has set a level.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canWriteKmsg, injectKmsg, uniqueMarker, waitFor } from '../helpers/kmsg.js';
import { connectStdio } from '../helpers/mcp.js';

type Conn = Awaited<ReturnType<typeof connectStdio>>;
let conn: Conn;
const messages: { level: string; logger?: string; data: { kind: string; message: string } }[] = [];

beforeAll(async () => {
  conn = await connectStdio({ kernelLog: { enabled: true } });
  conn.client.setNotificationHandler('notifications/message', (n) => {
    messages.push(n.params as (typeof messages)[number]);
  });
});
afterAll(async () => conn?.close());

const readJson = async <T>(uri: string): Promise<T> => {
  const r = await conn.client.readResource({ uri });
  const c = r.contents[0] as { uri: string; mimeType?: string; text: string };
  expect(c).toMatchObject({ uri, mimeType: 'application/json' });
  return JSON.parse(c.text) as T;
};

describe('MCP resources and logging over stdio', () => {
  it('declares resources and logging, and lists both resources', async () => {
    expect(conn.client.getServerCapabilities()).toMatchObject({ resources: {}, logging: {}, tools: {} });
    const { resources } = await conn.client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual(['overnight://events', 'overnight://report']);
    expect(resources.every((r) => r.mimeType === 'application/json' && (r.description ?? '').length > 20)).toBe(true);
  });

  it('overnight://report gives the report data with series, events, recoveries, tasks and alerts', async () => {
    const r = await readJson<Record<string, unknown>>('overnight://report');
    for (const k of ['summary', 'series', 'events', 'recoveries', 'tasks', 'alerts']) expect(r).toHaveProperty(k);
    expect((r.summary as { lines: string[] }).lines).toHaveLength(3);
  });

  it.skipIf(!canWriteKmsg())('notifies only after logging/setLevel, and only at or above the level', async () => {
    const before = uniqueMarker();
    injectKmsg(`INFO: task ${before}:7001 blocked for more than 120 seconds.`);
    // Stored by serve's reader (visible in the resource) but not sent: no level was set.
    const stored = async (m: string) =>
      (await readJson<{ message: string }[]>('overnight://events')).some((e) => e.message.includes(m));
    const end = Date.now() + 30_000;
    while (!(await stored(before))) {
      if (Date.now() > end) throw new Error('the first line never reached overnight://events');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(messages.filter((x) => x.data.message.includes(before))).toEqual([]);

    /* eslint-disable-next-line @typescript-eslint/no-deprecated --
       this tests the server's MCP logging, which the protocol still has */
    await conn.client.setLoggingLevel('critical');
    const m = uniqueMarker();
    injectKmsg(`INFO: task ${m}:7002 blocked for more than 120 seconds.`); // warning: below critical
    injectKmsg(`NVRM: Xid (PCI:0000:3b:00): 79, pid=7003, name=${m}, GPU has fallen off the bus.`);
    await waitFor(() => messages.some((x) => x.data.message.includes(m)), 30_000, 'the critical notification');
    const mine = messages.filter((x) => x.data.message.includes(m));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ level: 'critical', logger: 'overnight.kmsg', data: { kind: 'xid' } });
  });
});
