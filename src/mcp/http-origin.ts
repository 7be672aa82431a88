/**
 * The Origin check of `serve --http` (DNS rebinding, cross-site pages): an Origin passes only when
 * its scheme, host AND port are the server's own — http://localhost:1 is another site than
 * http://localhost:8787, as browsers themselves see it. Configured entries are hostnames (they
 * get this server's scheme and port) or full origins ("https://proxy.example:443") compared whole.
 */
import { capText } from '../config/validation.js';

export interface OriginCheck {
  /** undefined when allowed, else the reason (for the 403 body). */
  (origin: string): string | undefined;
}

function effectivePort(u: URL): string {
  return u.port || (u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '');
}

/** `hostnames` are bare names ("localhost", "[::1]"); `ownPort` is the port the server listens on. */
export function originCheck(hostnames: readonly string[], ownPort: number, extra: readonly string[] = []): OriginCheck {
  const names = new Set(hostnames.map((h) => h.toLowerCase()));
  const full = new Set<string>();
  for (const e of extra) {
    if (e.includes('://')) {
      try {
        const u = new URL(e);
        full.add(`${u.protocol}//${u.hostname}:${effectivePort(u)}`);
      } catch {
        // An unparsable configured origin allows nothing.
      }
    } else names.add(e.toLowerCase());
  }
  const allowed = [...[...names].map((n) => `http://${n}:${ownPort}`), ...full].join(', ');
  return (origin) => {
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return `Origin ${JSON.stringify(capText(origin))} is not a URL; allowed: ${allowed}`;
    }
    const key = `${u.protocol}//${u.hostname}:${effectivePort(u)}`;
    if (full.has(key)) return undefined;
    if (u.protocol === 'http:' && names.has(u.hostname.toLowerCase()) && effectivePort(u) === String(ownPort))
      return undefined;
    return (
      `Origin ${JSON.stringify(capText(origin))} is not this server (scheme, host and port must match); ` +
      `allowed: ${allowed}`
    );
  };
}
