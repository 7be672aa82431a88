/**
 * A port the CLI cannot bind (`monitor --metrics`, `serve --http`) is a configuration error: one line
 * naming the flag and its value, and exit 78 (EX_CONFIG) so that systemd's RestartPreventExitStatus=78
 * stops instead of restarting into the same busy port. Before, the listen error surfaced bare while
 * the background sampler kept the process alive.
 */
import { capText } from '../config/validation.js';
import { CliError, EX_CONFIG } from './errors.js';

export interface ListenFlags {
  /** e.g. '--metrics', and the port it was given. */
  portFlag: string;
  port: number;
  /** e.g. '--metrics-host', and the address it was given (or defaulted to). */
  hostFlag: string;
  host: string;
}

/** The error a failed listen() becomes; anything that is not a bind error is returned as it is. */
export function listenError(err: unknown, f: ListenFlags): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  // server.host comes from the file unchecked: bounded like any echoed value.
  f = { ...f, host: capText(f.host) };
  const port = `${f.portFlag} ${f.port}`;
  const host = `${f.hostFlag} ${f.host}`;
  switch (code) {
    case 'EADDRINUSE':
      return new CliError(
        `${port}: port ${f.port} on ${f.host} is already in use (EADDRINUSE); stop what holds it ` +
          `(\`ss -ltnp 'sport = :${f.port}'\`) or choose another port`,
        EX_CONFIG,
      );
    case 'EACCES':
      return new CliError(
        `${port}: not allowed to bind port ${f.port} on ${f.host} (EACCES); ports below 1024 need ` +
          `CAP_NET_BIND_SERVICE: choose a port from 1024 to 65535`,
        EX_CONFIG,
      );
    case 'EADDRNOTAVAIL':
      return new CliError(
        `${host}: ${f.host} is not an address of this host (EADDRNOTAVAIL); expected a local address ` +
          `(\`ip -brief addr\`), 127.0.0.1, or 0.0.0.0 for all`,
        EX_CONFIG,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliError(
        `${host}: cannot resolve "${f.host}" (${code}); expected an IP address or a resolvable name`,
        EX_CONFIG,
      );
    default:
      return err;
  }
}
