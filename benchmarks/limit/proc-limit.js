// Client of benchmarks/limit/proc_limit.cc in its server mode: the C limit runs in its own process
// and answers one command at a time, so a benchmark can interleave it with the addon in ABAB rounds.
// A command's wall time as seen from here includes one pipe round trip; `noop()` measures that
// round trip so the benchmark can subtract it (measured in the same rounds).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { compile } from '../lib/measure.js';

export function startProcLimit() {
  const bin = compile('limit/proc_limit.cc', 'proc_limit');
  const child = spawn(bin, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const w = waiting.shift();
    const r = JSON.parse(line);
    if (r.error) w?.reject(new Error(`proc_limit: ${r.error}`));
    else w?.resolve(r);
  });
  child.on('exit', () => {
    for (const w of waiting.splice(0)) w.reject(new Error('proc_limit exited'));
  });
  const ask = (cmd) =>
    new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      child.stdin.write(`${cmd}\n`);
    });
  return {
    /** The C limit's process (benchmarks pin it beside their own: lib/pin.js). */
    pid: child.pid,
    /** Opens `files` kept-open under `name`; statvfsPath (or null) is statvfs'd once per pass. */
    set: (name, statvfsPath, files) => {
      if (files.some((f) => /\s/.test(f))) throw new Error('proc_limit: file names with white space are not supported');
      return ask(`set ${name} ${statvfsPath ?? '-'} ${files.join(' ')}`);
    },
    run: (name, iterations) => ask(`run ${name} ${iterations}`),
    scan: (iterations) => ask(`scan ${iterations}`),
    noop: () => ask('noop'),
    close: () => {
      child.stdin.end();
      child.kill();
    },
  };
}
