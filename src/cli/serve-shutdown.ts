/**
 * Shutdown of an HTTP listener (`serve --http`, `monitor --metrics`): server.close() alone waits
 * for every open connection, so one client with a half-sent request kept the process alive after
 * SIGTERM until it disconnected. Stop accepting, drop idle keep-alive connections now, and cut the
 * rest after a short grace in which requests being served may finish.
 */
import type { Server } from 'node:http';

export function closeHttpServer(server: Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
