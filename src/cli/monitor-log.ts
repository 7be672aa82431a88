/**
 * The monitor's --log-file: JSON lines appended to a file. A healthy routine cycle's line is held back
 * and written with the next ones (one write every `holdMs`, default 5 s), because at a 1 s interval one
 * write per cycle (a stream write and a thread-pool hop each time) was a measurable part of the
 * monitor's CPU. Everything an operator waits for is written at once: the start line, the first
 * cycle, events, and any cycle that is not healthy or that recovered, alerted or acted. A SIGKILL can
 * lose at most `holdMs` of healthy cycle lines; an orderly stop writes everything (synchronously).
 * SIGHUP (logrotate's postrotate) reopens the path: held lines go to the old file first, then new
 * lines to a file created at the path.
 */
import { closeSync, openSync, write, writeSync } from 'node:fs';
import { CliError, EX_CONFIG } from './errors.js';

/** Past this many held bytes the lines are written at once (a burst of cycles at 0.05 s). */
const HOLD_MAX_BYTES = 64 * 1024;

export class MonitorLog {
  private held: string[] = [];
  private heldBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** A write in flight: later lines wait for it, so that the file keeps their order. */
  private writing: Promise<void> | null = null;
  private failed = false;
  private closed = false;

  private constructor(
    private readonly file: string,
    private fd: number,
    private readonly holdMs: number,
  ) {}

  /**
   * Opens the file before anything starts, so that a missing directory or a permission problem is
   * one line naming the path and exit 78 (EX_CONFIG), not a write error after start-up and a restart loop.
   */
  static open(file: string, holdMs = 5000): MonitorLog {
    let fd: number;
    try {
      fd = openSync(file, 'a', 0o640);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new CliError(
        `--log-file ${file}: cannot open it for appending (${e.code ?? 'error'}: ` +
          `${e.message.replace(/^\w+: /, '').split(',')[0]}); create its directory (systemd: LogsDirectory=) or ` +
          `choose another path`,
        EX_CONFIG,
      );
    }
    return new MonitorLog(file, fd, holdMs);
  }

  /** One JSON line; `now`: write it (and everything held before it) without waiting. */
  line(obj: object, now: boolean): void {
    if (this.closed) return;
    const text = `${JSON.stringify(obj)}\n`;
    this.held.push(text);
    this.heldBytes += text.length;
    if (now || this.heldBytes >= HOLD_MAX_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.holdMs).unref();
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing || !this.held.length) return;
    const buf = Buffer.from(this.held.join(''));
    this.held = [];
    this.heldBytes = 0;
    this.writing = new Promise<void>((resolve) =>
      write(this.fd, buf, 0, buf.length, null, (err, written) => {
        this.writing = null;
        if (err) this.fail(err);
        // A short write (rare on a regular file): the rest goes first, before the lines held since.
        else if (written < buf.length) this.held.unshift(buf.subarray(written).toString());
        resolve();
        if (this.held.length && !this.closed) this.flush();
      }),
    );
  }

  /** After a successful open, a write error (disk full) is reported once on stderr; the monitor goes on. */
  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    process.stderr.write(`overnight: --log-file ${this.file}: ${err.message}\n`);
  }

  /**
   * Writes what is held to the file open now (after the write in flight), then opens the path again
   * (creating it when logrotate moved it away) and closes the old one. When the path cannot be opened
   * the monitor keeps writing to the old file, and says so once on stderr.
   */
  async reopen(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // A write's callback may start the next one: wait until none is in flight, then switch synchronously.
    while (this.writing) await this.writing;
    if (this.closed) return;
    this.writeHeld();
    let fd: number;
    try {
      fd = openSync(this.file, 'a', 0o640);
    } catch (err) {
      process.stderr.write(
        `overnight: --log-file ${this.file}: cannot reopen it (${(err as Error).message}); still writing to ` +
          `the file open before\n`,
      );
      return;
    }
    closeSync(this.fd);
    this.fd = fd;
    // A new file: a write error there (the disk freed by the rotation) is worth reporting again.
    this.failed = false;
  }

  /** Writes the held lines synchronously (on reopen and close, when no write is in flight). */
  private writeHeld(): void {
    const rest = Buffer.from(this.held.join(''));
    this.held = [];
    this.heldBytes = 0;
    try {
      for (let off = 0; off < rest.length;) off += writeSync(this.fd, rest, off);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Writes what is held (after the write in flight, if any) and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.writing;
    this.writeHeld();
    closeSync(this.fd);
  }
}
