/**
 * The GPUs this node must have. `gpu.expectedCount` when configured; otherwise the GPUs seen at the
 * first healthy check, remembered in the store (node_facts), so that a GPU that falls off the bus
 * makes the node critical ("GPU 0000:3b:00.0 is gone") instead of a smaller healthy node.
 */
import { prepared } from '../store/statements.js';
import type { Db } from '../store/database.js';
import { normalizeBusId } from './kmsg-matcher.js';

export interface GpuInventoryCheck {
  expected: number | null;
  /** Where the expectation comes from. */
  basis: 'config' | 'first_healthy_boot' | null;
  seen: number | null;
  /** Bus ids seen before and not now (when the first healthy set is known). */
  missing: string[];
  /** Set when fewer GPUs are there than expected. */
  problem?: string;
}

const FACT = 'gpu.inventory';

export class GpuInventory {
  constructor(
    private readonly db: Db,
    private readonly configured: number | undefined,
  ) {}

  private stored(): { count: number; busIds: string[] } | null {
    const r = prepared(this.db, 'SELECT value FROM node_facts WHERE key = ?').get(FACT) as
      { value: string } | undefined;
    return r ? (JSON.parse(r.value) as { count: number; busIds: string[] }) : null;
  }

  /**
   * Compares the GPUs seen now (null: NVML not available; busIds null when the sample did not read
   * them, as a quick one does not) with the expectation; remembers them when none is stored yet,
   * the bus ids are known and the node is healthy otherwise.
   */
  check(
    seenNow: { count: number; busIds: string[] | null } | null,
    otherwiseHealthy: boolean,
    nowMs = Date.now(),
  ): GpuInventoryCheck {
    const now = seenNow?.busIds?.map(normalizeBusId) ?? null;
    let stored = this.stored();
    if (!stored && now && now.length > 0 && otherwiseHealthy) {
      stored = { count: now.length, busIds: [...now].sort() };
      prepared(this.db, 'INSERT OR IGNORE INTO node_facts (key, value, updated_ms) VALUES (?, ?, ?)').run(
        FACT,
        JSON.stringify(stored),
        nowMs,
      );
    }
    const expected = this.configured ?? stored?.count ?? null;
    const basis = this.configured !== undefined ? 'config' : stored ? 'first_healthy_boot' : null;
    const seen = seenNow ? seenNow.count : null;
    const missing = stored && now ? stored.busIds.filter((b) => !now.includes(b)) : [];
    const out: GpuInventoryCheck = { expected, basis, seen, missing };
    if (expected !== null && expected > 0 && (seen ?? 0) < expected) {
      const which = missing.length
        ? missing.map((b) => `GPU ${b} is gone`).join('; ')
        : `${expected - (seen ?? 0)} GPU(s) missing`;
      out.problem =
        seen === null
          ? `expected ${expected} GPU(s) ` +
            `(${basis === 'config' ? 'gpu.expectedCount' : 'seen at the first healthy boot'}) but NVML is not ` +
            `available: ${which}`
          : `expected ${expected} GPU(s), found ${seen}: ${which}`;
    }
    return out;
  }
}
