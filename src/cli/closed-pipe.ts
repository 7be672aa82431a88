/**
 * `overnight events | head`, or a monitor whose log reader went away: the next write to the closed
 * pipe fails with EPIPE. Node ignores SIGPIPE, so without a listener that error is an unhandled
 * 'error' event and a stack trace. A Unix filter would die of SIGPIPE there; a command of ours may be
 * mid-way through work that must not be cut short (`progress restore` puts files back as it prints,
 * `record` owes its command's exit status, the monitor its night), so instead the rest of that
 * stream's output is dropped and the command goes on to finish with its own exit code.
 */
export function dropOutputOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    // Later writes are no-ops that report success, so no caller waits on a 'drain' that never comes.
    stream.write = (_chunk: unknown, encodingOrCb?: unknown, cb?: unknown) => {
      const done = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    };
  });
}
