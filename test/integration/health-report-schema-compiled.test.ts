/**
 * The validator compiled at build time (scripts/build-validators.mjs, Ajv standalone code) accepts
 * exactly what the zod output schema accepts, for real reports (quick, full, recovery; GPUs through
 * the fake NVML; a node without GPUs), and refuses a wrong-typed or missing field at the place zod
 * names: every node of a real full report is mutated in turn and both verdicts are compared.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../../src/config/load.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { compiledSchema, type CompiledValidator } from '../../src/mcp/compiled-schema.js';
import { healthCheckOutput, healthCheckOutputSchema } from '../../src/mcp/tools/health-check-output.js';
import compiled from '../../src/mcp/tools/health-check-output.validate.js';
import { FakeNvmlConfig, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';

const fake = new FakeNvmlConfig({ devices: fakeGpus(2) });
useFakeNvml('full', fake);
const { gpuSampler } = await import('../../src/gpu/gpu-sampler.js');
const gpu = gpuSampler();
afterAll(() => gpu.close());

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Container = Json[] | { [k: string]: Json };
type Key = string | number;
const get = (c: Container, k: Key): Json => (Array.isArray(c) ? c[Number(k)]! : c[String(k)]!);
const set = (c: Container, k: Key, v: Json) => {
  if (Array.isArray(c)) c[Number(k)] = v;
  else c[String(k)] = v;
};
const remove = (c: Container, k: Key) => {
  if (Array.isArray(c)) c.splice(Number(k), 1);
  else Reflect.deleteProperty(c, k);
};

/** JSON pointers zod names for a refused value (a union's own issue and the issues of its branches). */
function zodPaths(value: unknown): string[] | null {
  const p = healthCheckOutput.safeParse(value);
  if (p.success) return null;
  const out: string[] = [];
  const walk = (issues: readonly z.core.$ZodIssue[], base: readonly PropertyKey[]) => {
    for (const i of issues) {
      const at = [...base, ...i.path];
      out.push(at.map((k) => `/${String(k)}`).join(''));
      if (i.code === 'invalid_union') for (const branch of i.errors) walk(branch, at);
    }
  };
  walk(p.error.issues, []);
  return out;
}

/** JSON pointers the compiled validator names (a missing property is named at the property). */
function compiledPaths(value: unknown): string[] | null {
  if (compiled(value)) return null;
  return (compiled.errors ?? []).map((e) => {
    const missing = (e as { params?: { missingProperty?: string } }).params?.missingProperty;
    return missing === undefined ? e.instancePath : `${e.instancePath}/${missing}`;
  });
}

/** A value of another JSON type than `v` (NaN for numbers is tried separately). */
function wrongTyped(v: Json): Json {
  if (typeof v === 'number') return 'x';
  if (typeof v === 'string') return 7;
  if (typeof v === 'boolean') return 'yes';
  if (v === null) return true;
  return 5;
}

/** Every node of `root` with its parent and key, depth first. */
function* nodes(root: Json): Generator<{ parent: Container; key: Key; path: string }> {
  const stack: { v: Json; path: string }[] = [{ v: root, path: '' }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const entries: [Key, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, child] of entries) {
      yield { parent: v, key: k, path: `${path}/${k}` };
      stack.push({ v: child, path: `${path}/${k}` });
    }
  }
}

/** Mutates a deep copy of `report` at each node with `mutate` and compares both verdicts. */
function compareMutations(report: Json, mutate: (parent: Container, key: Key) => void) {
  let refused = 0;
  let accepted = 0;
  const count = [...nodes(report)].length;
  for (let n = 0; n < count; n++) {
    const copy = structuredClone(report);
    const target = [...nodes(copy)][n];
    mutate(target.parent, target.key);
    const byZod = zodPaths(copy);
    const byCompiled = compiledPaths(copy);
    expect(byCompiled === null, `${target.path}: compiled accepts iff zod accepts`).toBe(byZod === null);
    if (byZod && byCompiled) {
      refused++;
      expect(
        byCompiled.some((p) => byZod.includes(p)),
        `${target.path}: compiled names ${byCompiled.join(', ')}; zod ${byZod.join(', ')}`,
      ).toBe(true);
    } else accepted++;
  }
  return { refused, accepted };
}

async function reports() {
  const monitor = new HealthMonitor({ config: parseConfig({}), gpu });
  monitor.recordXid(1, 79, Date.now());
  const out: Record<string, Json> = {};
  for (const type of ['quick', 'full', 'recovery'] as const)
    out[type] = (await monitor.checkSystemHealth(type)) as unknown as Json;
  out.noGpu = (await new HealthMonitor({ gpu: null }).checkSystemHealth('full')) as unknown as Json;
  return out;
}

describe('the compiled healthCheck output validator', () => {
  it('accepts real quick, full and recovery reports (and a node without GPUs), as objects and as sent', async () => {
    for (const [type, r] of Object.entries(await reports())) {
      expect(zodPaths(r), type).toBeNull();
      expect(compiledPaths(r), type).toBeNull();
      expect(compiledPaths(JSON.parse(JSON.stringify(r))), `${type} after JSON`).toBeNull();
    }
  });

  it('refuses a wrong-typed value at every node of a real full report exactly where zod does', async () => {
    const { full } = await reports();
    const { refused, accepted } = compareMutations(full, (parent, key) => {
      set(parent, key, wrongTyped(get(parent, key)));
    });
    // Most nodes are typed by the schema; loose objects' extra fields accept anything.
    expect(refused).toBeGreaterThan(100);
    expect(accepted).toBeGreaterThan(0);
  });

  it('agrees with zod on a missing field at every node, and on the GPU union of a node without GPUs', async () => {
    const { full, noGpu } = await reports();
    for (const r of [full!, noGpu!]) {
      const { refused } = compareMutations(r, remove);
      expect(refused).toBeGreaterThan(20);
    }
    const { refused } = compareMutations(noGpu, (parent, key) => {
      set(parent, key, wrongTyped(get(parent, key)));
    });
    expect(refused).toBeGreaterThan(50);
  });

  it('accepts NaN and ±Infinity in readings (zod reads them as null), refuses them elsewhere, like zod', async () => {
    const { full } = await reports();
    for (const bad of [NaN, Infinity, -Infinity]) {
      const { refused, accepted } = compareMutations(full, (parent, key) => {
        if (typeof get(parent, key) === 'number') set(parent, key, bad);
      });
      expect(refused, String(bad)).toBeGreaterThan(5); // duration_ms, thresholds, counts
      expect(accepted, String(bad)).toBeGreaterThan(20); // readings, and every non-number node
    }
    const r = structuredClone(full!) as { duration_ms: number; metrics: { memory_status: { host: object } } };
    r.metrics.memory_status.host = { ...r.metrics.memory_status.host, used_fraction: NaN };
    expect(compiled(r)).toBe(true);
    r.duration_ms = NaN;
    expect(compiledPaths(r)).toEqual(['/duration_ms']);
  });

  it('as registerTool sees it: the JSON Schema zod gives, the value unchanged, zod issues for a refusal', async () => {
    const { quick } = await reports();
    const std = healthCheckOutputSchema['~standard'];
    const target = { target: 'draft-2020-12' } as const;
    expect(JSON.stringify(std.jsonSchema.output(target))).toBe(
      JSON.stringify(healthCheckOutput['~standard'].jsonSchema.output(target)),
    );
    const good = await std.validate(quick);
    expect(good.issues).toBeUndefined();
    expect((good as { value: unknown }).value).toBe(quick); // the handler's object, not a transformed copy
    const bad = { ...(quick as object), duration_ms: 'slow' };
    expect(await std.validate(bad)).toEqual(await healthCheckOutput['~standard'].validate(bad));
    expect((await std.validate(bad)).issues?.[0]?.path).toEqual(['duration_ms']);
  });

  it("a compiled check that disagrees with zod (a stale build) yields zod's verdict and says so once", async () => {
    const { quick } = await reports();
    const refuseAll: CompiledValidator = Object.assign(() => false, {
      errors: [{ instancePath: '/status', message: 'stale' }],
    });
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const schema = compiledSchema(healthCheckOutput, refuseAll, 'test');
      expect((await schema['~standard'].validate(quick)).issues).toBeUndefined();
      expect((await schema['~standard'].validate(quick)).issues).toBeUndefined();
      const said = write.mock.calls.map((c) => String(c[0])).filter((s) => s.includes('compiled test validator'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/\/status stale.*npm run build/);
    } finally {
      write.mockRestore();
    }
  });
});
