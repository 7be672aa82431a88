/**
 * Disk: optimize (report the largest consumers under the configured roots, and caches), cleanup
 * (delete under configured roots only, oldest first, until usage is under the threshold — in
 * native code, never following a symlink or crossing a filesystem, skipping flocked files),
 * reserve (fallocate a reservation file for a task, released on request or expiry).
 */
import { existsSync, mkdirSync, statfsSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadNative, type TreeEntry } from '../native.js';
import { PRIORITY_EFFECTS, reservationBasis, reservationBytes } from './sizes.js';
import {
  actionOf,
  type ResourceAction,
  type ResourceDeps,
  type ResourceParameters,
  type ResourceResult,
  type RunOptions,
} from './types.js';

const MB = 2 ** 20;

/** Caches commonly filled by agents' tools, reported (never deleted unless configured as a root). */
export const KNOWN_CACHES = [
  '.cache/pip',
  '.cache/huggingface',
  '.cache/torch',
  '.npm/_cacache',
  '.cache/yarn',
  '.cache/go-build',
  '.cargo/registry',
  '.cache/uv',
  '.triton/cache',
  '.nv/ComputeCache',
];

function fsUsage(p: string) {
  const s = statfsSync(p);
  const total = s.blocks * s.bsize;
  const avail = s.bavail * s.bsize;
  return {
    path: p,
    total_bytes: total,
    available_bytes: avail,
    used_fraction: total ? 1 - avail / total : 0,
    inodes_used_fraction: s.files ? 1 - s.ffree / s.files : 0,
  };
}

function roots(d: ResourceDeps, p: ResourceParameters): string[] | { refusal: string } {
  const configured = d.config.policy.cleanupRoots.map((r) => path.resolve(r));
  if (p.path !== undefined) {
    const want = path.resolve(p.path);
    if (!configured.includes(want))
      return {
        refusal: `${want} is not a configured cleanup root (policy.cleanupRoots: ${configured.join(', ') || 'none'})`,
      };
    return [want];
  }
  return configured;
}

export async function optimizeDisk(d: ResourceDeps, p: ResourceParameters, o: RunOptions): Promise<ResourceResult> {
  const rs = roots(d, p);
  const list = Array.isArray(rs) ? rs : [];
  const consumers: {
    root: string;
    largest_files: { path: string; bytes: number }[];
    largest_dirs: { path: string; bytes: number }[];
    total_bytes: number;
    files: number;
  }[] = [];
  for (const root of list) {
    const w = await loadNative().walkTree(root, { maxEntries: 500_000 });
    const dirs = new Map<string, number>();
    for (const f of w.files) {
      const top = f.path.split('/')[0]!;
      if (f.path.includes('/')) dirs.set(top, (dirs.get(top) ?? 0) + f.allocated);
    }
    consumers.push({
      root,
      total_bytes: w.files.reduce((a, f) => a + f.allocated, 0),
      files: w.files.length,
      largest_files: [...w.files]
        .sort((a, b) => b.allocated - a.allocated)
        .slice(0, 10)
        .map((f) => ({ path: path.join(root, f.path), bytes: f.allocated })),
      largest_dirs: [...dirs]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([dir, bytes]) => ({ path: path.join(root, dir), bytes })),
    });
  }
  const caches = [];
  for (const rel of KNOWN_CACHES) {
    const c = path.join(os.homedir(), rel);
    if (!existsSync(c)) continue;
    const w = await loadNative().walkTree(c, { maxEntries: 200_000 });
    caches.push({ path: c, bytes: w.files.reduce((a, f) => a + f.allocated, 0), files: w.files.length });
  }
  const usage = [...new Set([...list, ...d.config.paths])].filter((x) => existsSync(x)).map(fsUsage);
  return {
    status: o.dryRun ? 'dry_run' : 'success',
    resource_type: 'disk',
    action: 'optimize',
    message:
      `${consumers.length} cleanup root(s) and ${caches.length} cache(s) reported` +
      (Array.isArray(rs) ? '' : `; ${rs.refusal}`),
    current_usage: { filesystems: usage },
    available: { filesystems: usage.map((u) => ({ path: u.path, available_bytes: u.available_bytes })) },
    actions: [
      { step: 'report', target: {}, outcome: 'reported', detail: 'largest consumers and caches; nothing changed' },
    ],
    report: { consumers, caches },
  };
}

export async function cleanupDisk(d: ResourceDeps, p: ResourceParameters, o: RunOptions): Promise<ResourceResult> {
  const base = { resource_type: 'disk' as const, action: 'cleanup' as const };
  const rs = roots(d, p);
  if (!Array.isArray(rs) || !rs.length) {
    const why = Array.isArray(rs)
      ? 'no cleanup roots are configured (policy.cleanupRoots): nothing may be deleted'
      : rs.refusal;
    void d.gate.refuse({ actor: d.actor, action: 'delete', target: { path: p.path ?? null }, dryRun: o.dryRun }, why);
    return { ...base, status: 'refused', message: why, current_usage: {}, available: {}, actions: [] };
  }
  const threshold = p.threshold ?? d.config.thresholds.disk ?? 0.9;
  const minAge = PRIORITY_EFFECTS[o.priority].minFileAgeMs;
  const actions: ResourceAction[] = [];
  const results = [];
  let allUnder = true;
  for (const root of rs) {
    const u = fsUsage(root);
    const need = Math.ceil((u.used_fraction - threshold) * u.total_bytes);
    if (need <= 0) {
      results.push({ root, before: u, after: u, deleted: 0, freed_bytes: 0 });
      continue;
    }
    const w = await loadNative().walkTree(root);
    const now = d.clock.now();
    const candidates = w.files.filter((f) => now - f.mtimeMs >= minAge).sort((a, b) => a.mtimeMs - b.mtimeMs);
    // Rounds: choose the oldest files that cover what is still needed, delete, re-measure; files
    // that could not be deleted (flocked, swapped for a symlink) are replaced by the next oldest.
    let next = 0;
    let remaining = need;
    const deleted: { path: string; freed: number }[] = [];
    const skipped: { path: string; skipped?: string }[] = [];
    for (let round = 0; round < 8 && remaining > 0 && next < candidates.length; round++) {
      const chosen: TreeEntry[] = [];
      let sum = 0;
      while (next < candidates.length && sum < remaining) {
        chosen.push(candidates[next]!);
        sum += candidates[next++]!.allocated;
      }
      const r = await d.gate.perform(
        {
          actor: d.actor,
          action: 'delete',
          target: { root, files: chosen.length, bytes: sum },
          inputs: { threshold, priority: o.priority, round, oldest: chosen.slice(0, 20).map((f) => f.path) },
          dryRun: o.dryRun,
        },
        () => null,
        () =>
          loadNative().deleteUnder(
            root,
            chosen.map((f) => f.path),
          ),
      );
      const outcomes = r.outcome ?? [];
      const del = outcomes.filter((x) => x.deleted);
      const skip = outcomes.filter((x) => !x.deleted);
      deleted.push(...del);
      skipped.push(...skip);
      const act = actionOf(
        'delete',
        r,
        { root, files: chosen.length },
        `deleted ${del.length} of ${chosen.length} files ` +
          `(${Math.round(del.reduce((a, x) => a + x.freed, 0) / MB)} MB); skipped ` +
          `${skip.length}${skip.length ? ` (${[...new Set(skip.map((x) => x.skipped))].join(', ')})` : ''}`,
      );
      if (o.dryRun)
        act.detail = `would delete ${chosen.length} files, oldest first (${Math.round(sum / MB)} MB): ${chosen
          .slice(0, 10)
          .map((f) => f.path)
          .join(', ')}${chosen.length > 10 ? ', ...' : ''}`;
      actions.push(act);
      if (o.dryRun || !r.allowed) break;
      const now$ = fsUsage(root);
      remaining = Math.ceil((now$.used_fraction - threshold) * now$.total_bytes);
    }
    const after = fsUsage(root);
    if (after.used_fraction > threshold && !o.dryRun) allUnder = false;
    results.push({
      root,
      before: u,
      after,
      deleted: deleted.length,
      freed_bytes: deleted.reduce((a, x) => a + x.freed, 0),
      skipped: skipped.slice(0, 20),
      symlinks_not_followed: w.skippedSymlinks,
      other_filesystems_not_crossed: w.skippedMounts,
      too_young: w.files.length - candidates.length,
    });
  }
  return {
    ...base,
    status: o.dryRun ? 'dry_run' : allUnder ? 'success' : 'partial',
    message: allUnder
      ? `every cleanup root is under ${Math.round(threshold * 100)}%`
      : `still over ${Math.round(threshold * 100)}% after deleting what priority ${o.priority} allows`,
    current_usage: { filesystems: results.map((r) => r.after) },
    available: { filesystems: results.map((r) => ({ path: r.root, available_bytes: r.after.available_bytes })) },
    actions,
    report: { roots: results },
  };
}

export function reservationDir(d: ResourceDeps): string {
  return path.resolve(d.config.policy.reservationDir ?? path.join(d.config.stateDir, 'reservations'));
}

export async function reserveDisk(d: ResourceDeps, p: ResourceParameters, o: RunOptions): Promise<ResourceResult> {
  const base = { resource_type: 'disk' as const, action: 'reserve' as const };
  const dir = reservationDir(d);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const u = fsUsage(dir);
  const bytes = reservationBytes(p, u.total_bytes);
  if (bytes === null || bytes <= 0)
    return {
      ...base,
      status: 'refused',
      message:
        'say how much to reserve: parameters.size (bytes or "10G") or parameters.threshold (a fraction of the ' +
        'filesystem in (0, 1])',
      current_usage: { filesystems: [u] },
      available: { bytes: u.available_bytes },
      actions: [],
    };
  const taskId = p.taskId ?? 'unnamed';
  const durationSec = p.durationSec ?? 3600;
  const file = path.join(dir, `${taskId.replace(/[^A-Za-z0-9._-]/g, '_')}-${Date.now()}-${process.pid}.reserve`);
  const headroom = Math.floor(u.total_bytes * PRIORITY_EFFECTS[o.priority].headroomFraction * 0.1);
  let refusal: string | undefined;
  let lease: ResourceResult['lease'];
  const r = await d.gate.perform(
    {
      actor: d.actor,
      action: 'reserve_disk',
      target: { path: file, bytes, taskId },
      inputs: { priority: o.priority, durationSec },
      dryRun: o.dryRun,
    },
    () =>
      u.available_bytes - headroom < bytes
        ? `${Math.round(bytes / MB)} MB asked; ${Math.round(u.available_bytes / MB)} MB available, ` +
          `${Math.round(headroom / MB)} MB kept free at priority ${o.priority}`
        : null,
    async () => {
      await loadNative().reserveSpace(file, bytes);
      const g = d.leases.grant(
        'disk',
        d.clock.now(),
        { taskId, durationSec, priority: o.priority, path: file },
        () => ({ amount: bytes }),
      );
      if ('refusal' in g) {
        unlinkSync(file);
        refusal = g.refusal;
      } else lease = g.lease;
      return { path: file };
    },
  );
  const after = fsUsage(dir);
  const act = actionOf('reserve_disk', r, { path: file, bytes }, `fallocated ${Math.round(bytes / MB)} MB`);
  if (o.dryRun)
    return {
      ...base,
      status: r.allowed ? 'dry_run' : 'refused',
      message: r.allowed ? `would fallocate ${Math.round(bytes / MB)} MB at ${file}` : r.reason,
      current_usage: { filesystems: [after] },
      available: { bytes: after.available_bytes },
      actions: [act],
    };
  if (!r.allowed || r.error || refusal)
    return {
      ...base,
      status: 'refused',
      message: refusal ?? r.error?.message ?? r.reason,
      current_usage: { filesystems: [after] },
      available: { bytes: after.available_bytes },
      actions: [act],
    };
  return {
    ...base,
    status: 'success',
    message:
      `reserved ${Math.round(bytes / MB)} MB (${reservationBasis(p, u.total_bytes)}) for ${taskId} at ${file} ` +
      `until ${lease!.expires_at}`,
    current_usage: { filesystems: [after] },
    available: { bytes: after.available_bytes },
    actions: [act],
    lease: lease!,
  };
}
