/**
 * Artifacts: hashing (sha256, streamed), a content-addressed store of copies under the state
 * directory, and restoring a file from it (written beside the target and renamed over it, so a
 * reader never sees half a file and a symlink at the target is replaced, not followed).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface FileFacts {
  exists: boolean;
  bytes: number | null;
  sha256: string | null;
  error?: string;
}

/** Size and sha256 of a file (following symlinks: it is what the agent made). */
export async function fileFacts(p: string): Promise<FileFacts> {
  try {
    const st = statSync(p);
    if (!st.isFile()) return { exists: true, bytes: null, sha256: null, error: 'not a regular file' };
    const h = createHash('sha256');
    await pipeline(createReadStream(p), h);
    return { exists: true, bytes: st.size, sha256: h.digest('hex') };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'ENOENT' ? { exists: false, bytes: null, sha256: null } : { exists: false, bytes: null, sha256: null, error: code ?? String(err) };
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

  /** Copies a file into the store while hashing it; returns its hash and size (or null if it changed while copying). */
  async put(src: string): Promise<{ sha256: string; bytes: number } | null> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(this.dir, `.incoming-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const h = createHash('sha256');
    let bytes = 0;
    const src$ = createReadStream(src);
    src$.on('data', (chunk: Buffer | string) => {
      h.update(chunk);
      bytes += chunk.length;
    });
    await pipeline(src$, createWriteStream(tmp, { mode: 0o600 }));
    const fh = await openFile(tmp, 'r');
    await fh.sync();
    await fh.close();
    const sha = h.digest('hex');
    const dest = this.blobPath(sha);
    mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
    if (existsSync(dest)) unlinkSync(tmp);
    else renameSync(tmp, dest);
    return { sha256: sha, bytes };
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

  /** Puts a stored copy back at `target`, verified by hash. */
  async restore(sha: string, target: string): Promise<{ ok: boolean; error?: string }> {
    const blob = this.blobPath(sha);
    if (!existsSync(blob)) return { ok: false, error: 'no stored copy of this version' };
    const facts = await fileFacts(blob);
    if (facts.sha256 !== sha) return { ok: false, error: `stored copy is corrupt (sha256 ${facts.sha256})` };
    mkdirSync(path.dirname(target), { recursive: true });
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.overnight-restore-${process.pid}`);
    await pipeline(createReadStream(blob), createWriteStream(tmp));
    const fh = await openFile(tmp, 'r');
    await fh.sync();
    await fh.close();
    const written = await fileFacts(tmp);
    if (written.sha256 !== sha) {
      unlinkSync(tmp);
      return { ok: false, error: 'the written copy did not verify' };
    }
    renameSync(tmp, target);
    return { ok: true };
  }
}
