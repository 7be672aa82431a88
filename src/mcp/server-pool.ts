/**
 * Server instances for Streamable HTTP, reused across requests. The SDK's HTTP entry serves each
 * request with an instance from a factory and closes it after the exchange; building a fresh
 * McpServer and registering the four tools every time cost 0.2-0.7 ms of the main thread per
 * request on these machines. An instance the SDK has closed (its transport is gone) goes back to
 * the pool and serves a later request. Main thread only.
 */
import type { McpServer } from '@modelcontextprotocol/server';

export class ServerPool {
  private readonly idle: McpServer[] = [];
  created = 0;

  constructor(
    private readonly make: () => McpServer,
    /** Idle instances kept; more are dropped for the garbage collector. */
    private readonly maxIdle = 64,
  ) {}

  /** An instance not serving anything now; it returns to the pool when the SDK closes it. */
  take(): McpServer {
    let s = this.idle.pop();
    if (!s) {
      s = this.make();
      this.created++;
    }
    const inner = s.server;
    const previous = inner.onclose;
    const instance = s;
    // The SDK chains its own onclose in front of ours and calls ours after the transport is gone.
    inner.onclose = () => {
      inner.onclose = previous;
      previous?.();
      if (inner.transport === undefined && this.idle.length < this.maxIdle) this.idle.push(instance);
    };
    return s;
  }
}
