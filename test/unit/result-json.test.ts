/**
 * A tool result's structuredContent is written with the JSON `ok()` made for its text, not
 * serialised a second time: the line parses to the same message the SDK would have written, and
 * anything that is not exactly the noted object (another object, a changed member, another text)
 * is left to the SDK's serialiser.
 */
import { describe, expect, it } from 'vitest';
import { lineWithNotedJson } from '../../src/mcp/result-json.js';
import { ok } from '../../src/mcp/tool-kit.js';

const report = () => ({
  status: 'healthy',
  duration_ms: 0.25,
  // JSON writes a non-finite reading as null, in the text and in the object alike.
  metrics: { cpu: { load1: 0.5, steal_fraction: NaN }, disk: [{ path: '/', used_fraction: 0.7 }] },
  recommendations: [],
});

/** What the SDK hands the transport: the envelope around a shallow copy of the tool's result. */
const response = (r: ReturnType<typeof ok>, id: number | string = 7) => ({
  result: { content: r.content.map((c) => ({ ...c })), structuredContent: { ...r.structuredContent } },
  jsonrpc: '2.0',
  id,
});

describe('tool result JSON written once', () => {
  it('writes one line that parses to the message the SDK would have serialised', () => {
    for (const id of [7, 'req-1']) {
      const r = ok(report());
      const msg = response(r, id);
      const line = lineWithNotedJson(msg);
      expect(line).toBeDefined();
      expect(line!.endsWith('}\n')).toBe(true);
      expect(line!.indexOf('\n')).toBe(line!.length - 1);
      expect(JSON.parse(line!)).toEqual(JSON.parse(JSON.stringify(msg)));
      // Both copies on the wire are one JSON.
      const wire = JSON.parse(line!) as typeof msg;
      expect(JSON.parse(wire.result.content[0].text)).toEqual(wire.result.structuredContent);
    }
  });

  it('leaves a result to the SDK when its object is not the one ok() serialised', () => {
    const r = ok(report());
    const changed = response(r);
    changed.result.structuredContent = { ...changed.result.structuredContent, status: 'degraded' };
    expect(lineWithNotedJson(changed)).toBeUndefined();

    const other = response(ok(report()));
    other.result.content[0].text = other.result.content[0].text.replace('healthy', 'critical');
    expect(lineWithNotedJson(other)).toBeUndefined();

    const extra = response(ok(report()));
    (extra.result.structuredContent as Record<string, unknown>).added = 1;
    expect(lineWithNotedJson(extra)).toBeUndefined();
  });

  it('leaves requests, notifications, errors and results without structuredContent to the SDK', () => {
    expect(lineWithNotedJson({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBeUndefined();
    expect(lineWithNotedJson({ jsonrpc: '2.0', method: 'notifications/progress', params: {} })).toBeUndefined();
    expect(lineWithNotedJson({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'no' } })).toBeUndefined();
    expect(
      lineWithNotedJson({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'x' }], isError: true } }),
    ).toBeUndefined();
    expect(lineWithNotedJson(null)).toBeUndefined();
  });

  it('splices a noted result once: a second send of the same result is serialised by the SDK', () => {
    const r = ok(report());
    expect(lineWithNotedJson(response(r))).toBeDefined();
    expect(lineWithNotedJson(response(r))).toBeUndefined();
  });
});
