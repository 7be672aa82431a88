/** Real child processes that leak, spin, stop, hang or hold memory, for tests. */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const NODE = process.execPath;

const live = new Set<ChildProcess>();
/** Process groups started by spawnGroup (the leader's pid), ended as a whole. */
const groups = new Set<number>();

/** Spawns `node -e script`; the child is killed by killAll(). */
export function spawnNode(script: string, options: SpawnOptions = {}): ChildProcess {
  const child = spawn(NODE, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], ...options });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

export function spawnCommand(cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: 'ignore', ...options });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

/**
 * Spawns a command as the leader of its own process group; killAll() ends the whole group, so the
 * grandchildren a shell starts (`head &`, `sleep &`) do not outlive a failed test.
 */
export function spawnGroup(cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: 'ignore', ...options, detached: true });
  groups.add(child.pid!);
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

/** Resolves with the first line the child prints on stdout (children print "ready" when set up). */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    // 'close', not 'exit': a child that prints and exits at once may exit before its output is read.
    child.on('close', (code) => reject(new Error(`child exited (${code}) before printing a line`)));
  });
}

export const scripts = {
  /** Allocates `mb` MiB once (touching every page) and stays flat. */
  allocateOnce: (mb: number) =>
    `const b = Buffer.alloc(${mb} * 1024 * 1024, 1); console.log('ready'); setInterval(() => b[0]++, 1000);`,
  /** Grows by `mbPerSec` MiB a second, in 10 steps a second. */
  leak: (mbPerSec: number) =>
    `const keep = []; console.log('ready'); setInterval(() => keep.push(Buffer.alloc(${mbPerSec} * 1024 * 102.4, ` +
    `1)), 100);`,
  /** Burns CPU forever. */
  spin: () => `console.log('ready'); for (;;) {}`,
  /** Sleeps forever, doing nothing (no CPU, no context switches, no io). */
  idle: () => `console.log('ready'); setInterval(() => {}, 1 << 30);`,
  /** Ignores SIGTERM. */
  ignoreTerm: () => `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1 << 30);`,
};

/** Waits until `pred` is true, polling every `stepMs`. */
export async function waitFor(pred: () => boolean, timeoutMs = 10_000, stepMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** State letter of a pid from /proc, read in TypeScript (independent of the native reader). */
export function procState(pid: number): string | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** Alive and not a zombie. */
export function running(pid: number): boolean {
  const state = procState(pid);
  return state !== null && state !== 'Z';
}

/** Live (not zombie) pids whose command line is exactly `argv`; a unique sleep length finds a test's own. */
export function pidsRunning(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8') === want && running(Number(d));
      } catch {
        return false;
      }
    })
    .map(Number);
}

export function killAll(): void {
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      /* the group is empty */
    }
  }
  groups.clear();
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

/** Runs `node ...args` to its end (at most 60 s), without a GPU driver; resolves with its exit code and output. */
export function execNode(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      args,
      { env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
