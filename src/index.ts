/**
 * overnight-ops: the library entry point.
 * `import { sampleHost, readProcess, listProcesses } from 'overnight-ops'`
 */
export { loadNative, NativeLoadError } from './native.js';
export type * from './native-types.js';
export { sampleHost, createHostReader } from './sampling/host.js';
export {
  readProcess,
  listProcesses,
  listProcessesAsync,
  listDescendants,
  createProcessTable,
  clockTicksPerSecond,
  cpuSeconds,
  isGone,
} from './sampling/processes.js';
