/**
 * Artifacts: inspecting an agent's file (confined, hashed on the hash worker within a budget), a content-addressed
 * store of copies under the state directory, and restoring a file from it (natively: no symlink on the way to the
 * target followed, written beside it and renamed over it, so a reader never sees half a file).
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadNative } from '../native.js';
import { openArtifact, type HashBudget } from './artifact-access.js';
import type { HashPool } from './hash-pool.js';

export interface FileFacts {
  exists: boolean;
  bytes: number | null;
  sha256: string | null;
  error?: string;
}

/** Size and sha256 of a file we trust (a stored copy), unbounded, on the main thread's stream. */
export async function fileFacts(p: string): Promise<FileFacts> {
  try {
    const st = statSync(p);
    if (!st.isFile()) return { exists: true, bytes: null, sha256: null, error: 'not a regular file' };
    const h = createHash('sha256');
    await pipeline(createReadStream(p), h);
    return { exists: true, bytes: st.size, sha256: h.digest('hex') };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'ENOENT'
      ? { exists: false, bytes: null, sha256: null }
      : { exists: false, bytes: null, sha256: null, error: code ?? String(err) };
  }
}

export interface InspectOptions {
  roots: string[];
  pool: HashPool;
  budget: HashBudget;
  /** Copy the file into this store while hashing it (when it is at most maxCopyBytes). */
  copyInto?: ArtifactStore;
  maxCopyBytes?: number;
}

export type Inspected = (FileFacts & { stored: boolean; not_hashed?: string }) | { refused: string };

/**
 * Size and sha256 of an agent's artifact (following symlinks: it is what the agent made), if it
 * lies under the roots, hashed on the hash worker within what is left of the call's budget.
 */
export async function inspectArtifact(p: string, o: InspectOptions): Promise<Inspected> {
  const opened = openArtifact(p, o.roots);
  if ('refused' in opened) return { refused: opened.refused };
  if ('missing' in opened) return { exists: false, bytes: null, sha256: null, stored: false };
  if ('error' in opened) return { exists: false, bytes: null, sha256: null, stored: false, error: opened.error };
  const { fd, st } = opened;
  try {
    if (!st.isFile()) return { exists: true, bytes: null, sha256: null, stored: false, error: 'not a regular file' };
    if (st.size > o.budget.left) {
      return {
        exists: true,
        bytes: st.size,
        sha256: null,
        stored: false,
        not_hashed:
          `not hashed: ${st.size} bytes, and ${o.budget.left} of this call's ${o.budget.limit} bytes ` +
          `(progress.maxHashBytesPerCall) are left`,
      };
    }
    const copy = o.copyInto && st.size <= (o.maxCopyBytes ?? Infinity) ? o.copyInto.incoming() : null;
    try {
      const r = await o.pool.hash(fd, o.budget.left, copy?.fd);
      o.budget.left -= Math.min(o.budget.left, 'bytes' in r ? r.bytes : 0);
      if ('error' in r) return { exists: true, bytes: st.size, sha256: null, stored: false, error: r.error };
      if ('exceeded' in r)
        return {
          exists: true,
          bytes: st.size,
          sha256: null,
          stored: false,
          not_hashed:
            `not hashed: it grew past the ${o.budget.limit} bytes one call may hash ` +
            `(progress.maxHashBytesPerCall)`,
        };
      const stored = copy ? (copy.commit(r.sha256), true) : false;
      return { exists: true, bytes: r.bytes, sha256: r.sha256, stored };
    } finally {
      copy?.discard();
    }
  } finally {
    closeSync(fd);
  }
}

export class ArtifactStore {
  constructor(readonly dir: string) {}

  blobPath(sha: string): string {
    return path.join(this.dir, sha.slice(0, 2), sha);
  }

  has(sha: string): boolean {
    return existsSync(this.blobPath(sha));
  }

  /**
   * A temporary file in the store for a copy in progress: write into fd, then commit(sha256) moves
   * it to its content address; discard() removes whatever was not committed.
   */
  incoming(): { fd: number; commit: (sha256: string) => void; discard: () => void } {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(this.dir, `.incoming-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const fd = openSync(tmp, 'wx', 0o600);
    let done = false;
    return {
      fd,
      commit: (sha) => {
        const dest = this.blobPath(sha);
        mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
        if (existsSync(dest)) unlinkSync(tmp);
        else renameSync(tmp, dest);
        done = true;
      },
      discard: () => {
        closeSync(fd);
        if (!done) rmSync(tmp, { force: true });
      },
    };
  }

  /** Deletes copies older than `maxAgeMs` that `keep` does not name. Returns how many were deleted. */
  prune(keep: Set<string>, maxAgeMs: number, nowMs: number): number {
    let removed = 0;
    if (!existsSync(this.dir)) return 0;
    for (const sub of readdirSync(this.dir)) {
      if (sub.length !== 2) continue;
      for (const sha of readdirSync(path.join(this.dir, sub))) {
        const p = path.join(this.dir, sub, sha);
        if (keep.has(sha)) continue;
        try {
          if (nowMs - statSync(p).mtimeMs > maxAgeMs) {
            unlinkSync(p);
            removed++;
          }
        } catch {
          /* removed by another process */
        }
      }
    }
    return removed;
  }

  /**
   * Puts a stored copy back at `target`, verified by hash. No symlink on the way to the target is
   * followed (a parent swapped for a symlink would redirect the write elsewhere): the native walk
   * refuses it and names the component. A symlink at the target itself is replaced, not followed.
   */
  async restore(sha: string, target: string): Promise<{ ok: boolean; error?: string; refused_at?: string }> {
    const blob = this.blobPath(sha);
    if (!existsSync(blob)) return { ok: false, error: 'no stored copy of this version' };
    const facts = await fileFacts(blob);
    if (facts.sha256 !== sha) return { ok: false, error: `stored copy is corrupt (sha256 ${facts.sha256})` };
    const r = await loadNative().restoreFile(blob, path.resolve(target));
    return r.ok
      ? { ok: true }
      : { ok: false, error: r.error ?? 'not restored', ...(r.refusedAt ? { refused_at: r.refusedAt } : {}) };
  }
}
