/**
 * One rule for JSON-RPC batches on both transports: MCP 2025-03-26 made servers accept them and
 * 2025-06-18 removed them, so a batch is served on a connection (stdio) or a request (HTTP,
 * by its MCP-Protocol-Version header) of 2025-03-26 or older and refused with -32600 otherwise.
 */
/** The last protocol version whose servers accept JSON-RPC batches (2025-06-18 removed them). */
export const LAST_BATCH_VERSION = '2025-03-26';

/** Whether a negotiated protocol version allows JSON-RPC batches (versions are ISO dates). */
export function batchesAllowed(version: string | undefined): boolean {
  return version !== undefined && version <= LAST_BATCH_VERSION;
}

/** The -32600 text for a batch the negotiated version does not allow. */
export function batchRefusal(version: string | undefined, oneEach = 'send one message per line'): string {
  const named = version ?? '(none negotiated yet: send initialize first)';
  return (
    `JSON-RPC batches are not supported by protocol version ${named} ` +
    `(MCP ${LAST_BATCH_VERSION} was the last to allow them); ${oneEach}`
  );
}

/**
 * Whether a request's MCP-Protocol-Version header names a dated version that has no batches;
 * anything else (absent: 2025-03-26 by the spec; not a date) is left to the SDK to judge.
 */
export function headerRefusesBatches(version: string | undefined): boolean {
  return version !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(version) && !batchesAllowed(version);
}
