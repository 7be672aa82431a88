/**
 * The design's ResourceManager: manageResources(resourceType, action, parameters) for the nine
 * (gpu | memory | disk) x (optimize | cleanup | reserve) pairs, plus releasing leases and expiring
 * them. Every change passes the policy gate; dryRun lists exactly what would happen.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { cleanupDisk, optimizeDisk, reserveDisk } from './disk-resource.js';
import { cleanupGpu, optimizeGpu, reserveGpu } from './gpu-resource.js';
import type { Lease, LeaseStore } from './leases.js';
import { cleanupMemory, optimizeMemory, reserveMemory } from './memory-resource.js';
import {
  dryRunStatus,
  type ResourceDeps,
  type ResourceParameters,
  type ResourceResult,
  type RunOptions,
} from './types.js';
import { capText } from '../config/validation.js';

export type ResourceType = 'gpu' | 'memory' | 'disk';
export type ResourceActionName = 'optimize' | 'cleanup' | 'reserve';

const TABLE: Record<
  ResourceType,
  Record<ResourceActionName, (d: ResourceDeps, p: ResourceParameters, o: RunOptions) => Promise<ResourceResult>>
> = {
  gpu: { optimize: optimizeGpu, cleanup: cleanupGpu, reserve: reserveGpu },
  memory: { optimize: optimizeMemory, cleanup: cleanupMemory, reserve: reserveMemory },
  disk: { optimize: optimizeDisk, cleanup: cleanupDisk, reserve: reserveDisk },
};

export class ResourceManager {
  constructor(private readonly deps: Omit<ResourceDeps, 'actor'>) {}

  get leases(): LeaseStore {
    return this.deps.leases;
  }

  async manageResources(
    resourceType: ResourceType,
    action: ResourceActionName,
    parameters: ResourceParameters = {},
    options: { dryRun?: boolean; actor?: string } = {},
  ): Promise<ResourceResult & { expired_leases_released?: number }> {
    const d: ResourceDeps = { ...this.deps, actor: options.actor ?? 'manageResources' };
    const expired = await this.expireLeases(d.actor);
    const o: RunOptions = { dryRun: options.dryRun ?? false, priority: parameters.priority ?? 'normal' };
    if (parameters.release) {
      const r = await this.release(parameters.release, d.actor, o.dryRun);
      return {
        status: r.ok ? (o.dryRun ? 'dry_run' : 'success') : 'refused',
        resource_type: resourceType,
        action,
        message: r.message,
        current_usage: {},
        available: {},
        actions: [],
        ...(r.lease ? { lease: r.lease } : {}),
        dry_run: o.dryRun,
      };
    }
    const result = await TABLE[resourceType][action](d, parameters, o);
    // Every result says whether it was a dry run; a dry run the real run would see refused says so.
    const truthful = { ...result, ...(o.dryRun ? { status: dryRunStatus(result) } : {}), dry_run: o.dryRun };
    return expired ? { ...truthful, expired_leases_released: expired } : truthful;
  }

  /** Releases a lease (deleting a disk reservation's file). */
  async release(
    id: string,
    actor = 'manageResources',
    dryRun = false,
  ): Promise<{ ok: boolean; message: string; lease?: Lease }> {
    const lease = this.deps.leases.get(id);
    if (!lease) return { ok: false, message: `no lease ${capText(id)}` };
    if (lease.released_at)
      return { ok: false, message: `lease ${id} was already released at ${lease.released_at}`, lease };
    const r = await this.deps.gate.perform(
      { actor, action: 'release_lease', target: { id, kind: lease.kind, path: lease.path }, dryRun },
      () => null,
      async () => {
        if (lease.path && existsSync(lease.path)) unlinkSync(lease.path);
        return { released: this.deps.leases.release(id, this.deps.clock.now()) };
      },
    );
    return {
      ok: r.allowed && !r.error,
      message: r.error
        ? r.error.message
        : dryRun
          ? `would release ${lease.kind} lease ${id}`
          : `released ${lease.kind} lease ${id}`,
      lease,
    };
  }

  /** Releases leases past their expiry (deleting reservation files). Returns how many. */
  async expireLeases(actor = 'lease-expiry'): Promise<number> {
    let n = 0;
    for (const l of this.deps.leases.expired(this.deps.clock.now())) {
      const r = await this.release(l.id, actor);
      if (r.ok) n++;
    }
    return n;
  }
}
