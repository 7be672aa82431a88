/**
 * Sampler options are defined once (src/sampler/options.ts); the binding's own range checks, for a
 * caller that reaches it directly, must not disagree with them.
 */
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native.js';
import { Sampler } from '../../src/sampler/sampler.js';

describe('ringSize', () => {
  it('16..1000000 in the schema and in the binding; absent is allowed by both', () => {
    const Native = loadNative().Sampler;
    for (const ringSize of [0, 15, 1_000_001]) {
      expect(() => new Sampler({ intervalUs: 1000, ringSize }), `schema ${ringSize}`).toThrow(
        /ringSize.*16 to 1000000/s,
      );
      expect(() => new Native({ intervalUs: 1000, ringSize }), `binding ${ringSize}`).toThrow(
        /ringSize.*\[16, 1000000\]/s,
      );
    }
    for (const ringSize of [16, 1_000_000, undefined]) {
      const opts = { intervalUs: 1000, ...(ringSize === undefined ? {} : { ringSize }) };
      expect(() => new Sampler(opts).stop()).not.toThrow();
      expect(() => new Native(opts).stop()).not.toThrow();
    }
  });
});
