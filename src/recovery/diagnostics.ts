/**
 * Diagnostics captured before a hung process is touched: where it waits (wchan, kernel stack,
 * current syscall), its status, a runtime stack dump through a configured signal (SIGQUIT for a
 * JVM, a faulthandler signal for Python) and `py-spy dump` when it is installed.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { PolicyGate } from '../policy/policy-gate.js';

export interface Diagnostics {
  pid: number;
  wchan: string | null;
  kernel_stack: string | null;
  syscall: string | null;
  status: Record<string, string>;
  unreadable: Record<string, string>;
  stack_dump_signal?: { signal: string; sent: boolean; reason: string };
  py_spy?: string;
}

function read(path: string, unreadable: Record<string, string>, key: string, max = 8192): string | null {
  try {
    return readFileSync(path, 'utf8').slice(0, max).trim();
  } catch (err) {
    unreadable[key] = (err as { code?: string }).code ?? String(err);
    return null;
  }
}

function pySpy(pid: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('py-spy', ['dump', '--pid', String(pid)], { timeout: 10_000, maxBuffer: 1 << 20 }, (err, stdout) =>
      resolve(err ? undefined : stdout.slice(0, 16_384)),
    );
  });
}

export async function captureDiagnostics(
  pid: number,
  opts: { gate?: PolicyGate; starttime?: number; dryRun?: boolean; actor?: string } = {},
): Promise<Diagnostics> {
  const unreadable: Record<string, string> = {};
  const statusText = read(`/proc/${pid}/status`, unreadable, 'status') ?? '';
  const status: Record<string, string> = {};
  for (const line of statusText.split('\n')) {
    const [k, ...v] = line.split(':');
    if (
      k &&
      [
        'Name',
        'State',
        'PPid',
        'Threads',
        'VmRSS',
        'SigBlk',
        'SigIgn',
        'voluntary_ctxt_switches',
        'nonvoluntary_ctxt_switches',
      ].includes(k)
    )
      status[k] = v.join(':').trim();
  }
  const d: Diagnostics = {
    pid,
    wchan: read(`/proc/${pid}/wchan`, unreadable, 'wchan'),
    kernel_stack: read(`/proc/${pid}/stack`, unreadable, 'stack'),
    syscall: read(`/proc/${pid}/syscall`, unreadable, 'syscall'),
    status,
    unreadable,
  };
  const sig = opts.gate?.policy.stackDumpSignal as NodeJS.Signals | undefined;
  if (sig && opts.gate) {
    const r = await opts.gate.signal(opts.actor ?? 'diagnostics', pid, opts.starttime ?? 0, sig, opts.dryRun ?? false, {
      purpose: 'stack dump before recovery',
    });
    d.stack_dump_signal = {
      signal: sig,
      sent: r.allowed && !r.dry_run && !r.error,
      reason: r.error?.message ?? r.reason,
    };
  }
  const spy = await pySpy(pid);
  if (spy) d.py_spy = spy;
  return d;
}
