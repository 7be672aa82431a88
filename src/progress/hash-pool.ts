/**
 * SHA-256 of artifacts off the main thread, with cancellation. One worker thread hashes the open
 * file descriptors it is handed (fds are shared by every thread of the process), up to a byte
 * limit per job, optionally copying what it reads into a second fd. The event loop stays free for
 * the MCP protocol and for SIGTERM; close() (server shutdown) terminates the worker at once, so a
 * multi-GiB hash never holds the process up.
 */
import { Worker } from 'node:worker_threads';

/** Runs inside the worker (plain JS: the same under vitest's TypeScript sources and in dist/). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { readSync, writeSync, fsyncSync } = require('node:fs');
const buf = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', (job) => {
  try {
    const h = createHash('sha256');
    let bytes = 0;
    for (;;) {
      const room = job.maxBytes - bytes;
      const n = readSync(job.fd, buf, 0, Math.min(buf.length, room + 1), bytes);
      if (n === 0) break;
      if (n > room) return parentPort.postMessage({ id: job.id, exceeded: true, bytes: bytes + n });
      h.update(buf.subarray(0, n));
      if (job.copyFd !== undefined) {
        let off = 0;
        while (off < n) off += writeSync(job.copyFd, buf, off, n - off, bytes + off);
      }
      bytes += n;
    }
    if (job.copyFd !== undefined) fsyncSync(job.copyFd);
    parentPort.postMessage({ id: job.id, sha256: h.digest('hex'), bytes });
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: (err && err.code) || String(err) });
  }
});
`;

export type HashOutcome = { sha256: string; bytes: number } | { exceeded: true; bytes: number } | { error: string };

interface Pending {
  resolve: (r: HashOutcome) => void;
  reject: (e: Error) => void;
}

export class HashCancelled extends Error {
  constructor() {
    super('hashing was cancelled (the server is shutting down)');
    this.name = 'HashCancelled';
  }
}

export class HashPool {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  /** Hashes `fd` from offset 0, reading at most `maxBytes` (more is `exceeded`); copies into `copyFd` if given. */
  hash(fd: number, maxBytes: number, copyFd?: number): Promise<HashOutcome> {
    if (this.closed) return Promise.reject(new HashCancelled());
    const w = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<HashOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, fd, maxBytes, ...(copyFd === undefined ? {} : { copyFd }) });
    });
  }

  /** Cancels every job in flight (they reject with HashCancelled) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelAll();
  }

  private cancelAll(): void {
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new HashCancelled());
    this.pending.clear();
    if (w) void w.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true, name: 'ovn-hash' });
    w.on('message', (m: { id: number } & HashOutcome) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      const { id: _id, ...outcome } = m;
      p.resolve(outcome);
      // Idle: let the process exit if nothing else keeps it alive.
      if (!this.pending.size) w.unref();
    });
    w.on('error', (err) => {
      if (this.worker === w) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
    w.unref();
    this.worker = w;
    return w;
  }
}
