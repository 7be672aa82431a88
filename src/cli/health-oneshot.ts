/**
 * The entry of `overnight health`, which Slurm (HealthCheckProgram) and NPD run every few seconds to
 * minutes on every node. scripts/bundle-health.mjs bundles it, with zod and our modules, into one
 * file (dist/health-oneshot.bundle.js): Node 20's ES module loader costs ~1 ms per module, and this
 * path holds ~160 of them (95 of them zod's). See ./health-loader.ts for how it is found.
 */
import './zod-jitless.js';

export { registerHealthCommand } from './health.js';
