/**
 * jsonWithEscape() is JSON.stringify, byte for byte, with the text's escape made alongside; frozen
 * parts' JSON is kept by identity, so what is not (deeply) frozen is always serialised afresh. Also
 * the line a healthCheck result goes out as (okRepeated + lineWithNotedJson) against what the SDK
 * would have written, and a real quick report's JSON across a sampler tick.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { HealthMonitor, type BackgroundReadings } from '../../src/health/health-monitor.js';
import { deepFreeze } from '../../src/health/sample-sections.js';
import { jsonWithEscape } from '../../src/mcp/json-fragments.js';
import { lineWithNotedJson } from '../../src/mcp/result-json.js';
import { okRepeated } from '../../src/mcp/tool-kit.js';
import { monotonicNowMs } from '../../src/util/clock.js';

const expectStringify = (v: object) => {
  const { json, escaped } = jsonWithEscape(v);
  expect(json).toBe(JSON.stringify(v));
  expect(escaped).toBe(JSON.stringify(JSON.stringify(v)).slice(1, -1));
};

const awkward = () => ({
  s: 'quote " backslash \\ newline \n tab \t nul \u0000 bell \u0007 é 日本 😀 lone \ud800 end \udc00',
  'key "with" quotes\n': 1,
  n: [0, -0, 1.5e-7, 1e21, NaN, Infinity, -Infinity, 2 ** 53 + 2],
  b: [true, false, null],
  gone: undefined,
  fn: () => 1,
  inArray: [undefined, () => 2, { x: undefined }],
  date: new Date(0),
  deep: { a: { b: { c: { d: { e: [1, { f: 'g' }] } } } } },
  empty: { o: {}, a: [] },
  10: 'integer-like keys come first',
});

describe('jsonWithEscape', () => {
  it('writes what JSON.stringify writes, and its escape, for awkward plain data', () => {
    expectStringify(awkward());
    expectStringify([awkward(), awkward()]);
    expectStringify({});
    expectStringify([]);
  });

  it('frozen parts: the same bytes, and a later change anywhere unfrozen is seen', () => {
    const frozen = deepFreeze(awkward());
    const live = { status: 'healthy', frozen, list: [frozen, { count: 1 }] };
    expectStringify(live);
    live.status = 'critical';
    live.list[1] = { count: 2 };
    expectStringify(live);
    // Shallowly frozen with a live inside: never kept, so its inside's changes show.
    const inner = { v: 1 };
    const shallow = Object.freeze({ inner });
    const holder = { shallow };
    expectStringify(holder);
    inner.v = 2;
    expectStringify(holder);
    expect(jsonWithEscape(holder).json).toContain('"v":2');
  });

  it('an okRepeated result goes out as the line JSON.stringify would have made', () => {
    const frozen = deepFreeze({ memory: { used_fraction: 0.25, note: 'a "quoted" word' }, disk: [{ path: '/' }] });
    for (const id of [7, 'req-"1"']) {
      const r = okRepeated({ status: 'healthy', metrics: frozen, duration_ms: 0.5 });
      const msg = {
        jsonrpc: '2.0',
        id,
        result: { content: r.content.map((c) => ({ ...c })), structuredContent: { ...r.structuredContent } },
      };
      const line = lineWithNotedJson(msg);
      expect(line).toBe(
        `${JSON.stringify({ jsonrpc: '2.0', id, result: { content: msg.result.content } }).slice(0, -2)},` +
          `"structuredContent":${r.content[0].text}}}\n`,
      );
      expect(JSON.parse(line!)).toEqual(JSON.parse(JSON.stringify(msg)));
    }
  });
});

describe("a quick report's JSON across a sampler tick", () => {
  let monitor: HealthMonitor | undefined;
  afterEach(() => {
    monitor?.stop();
    monitor = undefined;
  });

  it('is JSON.stringify of each report, and shows the new host reading after the tick', async () => {
    const quiet: BackgroundReadings = {
      read: () => ({
        count: 0,
        channels: [],
        timestamps: new Float64Array(0),
        values: new Float64Array(0),
        lost: 0,
        column: () => new Float64Array(0),
      }),
      window: () => ({ count: 0, signals: {} }),
    };
    monitor = new HealthMonitor({ config: parseConfig({}), gpu: null, sampler: quiet });
    const tickMs = 200;
    monitor.start(tickMs);
    const first = await monitor.checkSystemHealth('quick');
    const second = await monitor.checkSystemHealth('quick');
    for (const r of [first, second]) expectStringify(r);
    // Within the tick the reports share their frozen sections (that is what makes the JSON cheap).
    if (second.sample_age_ms > 0) expect(second.metrics.memory_status).toBe(first.metrics.memory_status);
    expect(Object.isFrozen(first.metrics.memory_status)).toBe(true);
    expect(() => {
      (first.metrics.memory_status as { swap: unknown }).swap = null;
    }).toThrow(TypeError);
    const until = monotonicNowMs() + tickMs + 20;
    while (monotonicNowMs() < until) await new Promise((r) => setTimeout(r, 10));
    const after = await monitor.checkSystemHealth('quick');
    expect(after.sample_age_ms).toBe(0);
    expect(after.metrics.memory_status).not.toBe(first.metrics.memory_status);
    expectStringify(after);
    expect(JSON.parse(jsonWithEscape(after).json)).toEqual(JSON.parse(JSON.stringify(after)));
  });
});
