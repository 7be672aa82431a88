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
  const chosen = explicitPath ?? process.env.OVERNIGHT_CONFIG;
  const file = chosen ?? defaultConfigPath();
  let raw: unknown = {};
  let used: string | null = null;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ValidationError([`not valid JSON: ${(err as Error).message}`], `configuration ${file}`);
    }
    used = file;
  } else if (chosen) {
    throw new ValidationError([`file not found`], `configuration ${file}`);
  }
  return { config: parseConfig(raw, used ?? 'defaults'), path: used };
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
