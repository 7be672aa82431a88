/** Loads and validates the configuration file, with clear errors at start-up. */
import { existsSync, readFileSync } from 'node:fs';
import {
  CONFIG_SECRETS,
  configSchema,
  defaultConfigPath,
  defaultStateDir,
  weakTokenReason,
  type OvernightConfig,
} from './schema.js';
import { formatIssues, ValidationError } from './validation.js';

export interface LoadedConfig {
  config: OvernightConfig & { stateDir: string };
  /** The file read, or null when none exists and defaults are used. */
  path: string | null;
}

/**
 * Resolves the path (explicit, then OVERNIGHT_CONFIG, then the default location) and validates
 * the file. A missing default file means defaults; a missing explicit file is an error.
 */
export function loadConfig(explicitPath?: string): LoadedConfig {
  // `--config "$UNSET"` is a mistake to report, not a request for the defaults; an empty
  // OVERNIGHT_CONFIG is unset, as in a shell.
  if (explicitPath === '')
    throw new ValidationError(['got an empty path; expected a JSON configuration file'], 'configuration');
  const chosen = explicitPath ?? (process.env.OVERNIGHT_CONFIG || undefined);
  const file = chosen ?? defaultConfigPath();
  let raw: unknown = {};
  let used: string | null = null;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ValidationError([`not valid JSON: ${withoutExcerpt((err as Error).message)}`], `configuration ${file}`);
    }
    used = file;
  } else if (chosen) {
    throw new ValidationError([`file not found`], `configuration ${file}`);
  }
  return { config: parseConfig(raw, used ?? 'defaults'), path: used };
}

/**
 * V8's JSON error quotes the text around the fault ('Unexpected token 'r', "root:*:202"... is not valid
 * JSON'): a configuration holds server.token, and Slurm shows this line as a drain reason to every user.
 * The position stays; the quoted text goes.
 */
function withoutExcerpt(message: string): string {
  const m = /^(Unexpected token .{1,12}?, ).*( is not valid JSON)$/s.exec(message);
  if (m) return `${m[1]}(text not shown)${m[2]}`;
  return message.replace(/"(?:[^"\\]|\\.)*"(?:\.\.\.)?/g, '(text not shown)').slice(0, 200);
}

/** Validates a configuration object (from a file or from code). */
export function parseConfig(raw: unknown, where = 'configuration'): OvernightConfig & { stateDir: string } {
  const r = configSchema.safeParse(raw);
  if (!r.success)
    throw new ValidationError(formatIssues(r.error, raw, '', configSchema, CONFIG_SECRETS), `invalid ${where}`);
  const token = r.data.server.token ?? process.env.OVERNIGHT_TOKEN;
  const weak = r.data.server.token === undefined && token !== undefined ? weakTokenReason(token) : null;
  if (weak) throw new ValidationError([`OVERNIGHT_TOKEN: ${weak}`], `invalid environment`);
  return {
    ...r.data,
    server: { ...r.data.server, ...(token ? { token } : {}) },
    stateDir: r.data.stateDir ?? process.env.OVERNIGHT_STATE_DIR ?? defaultStateDir(),
  };
}
