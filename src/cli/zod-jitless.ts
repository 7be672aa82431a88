/**
 * Imported first by the one-shot health entry, for its side effect: a one-shot check validates its
 * configuration once, and zod's compiled (eval-generated) parsers cost more to build than they save
 * on one parse (~20 ms of start-up, which Slurm and NPD pay on every run). ES modules evaluate in
 * import order, so this runs before any schema module builds its schemas.
 */
import { config } from 'zod';

config({ jitless: true });
