/**
 * overnight-ops: the library entry point.
 * `import { sampleHost, readProcess, listProcesses } from 'overnight-ops'`
 */
export { loadNative, NativeLoadError } from './native.js';
export type * from './native-types.js';
export { sampleHost, createHostReader } from './readers/host.js';
export {
  readProcess,
  listProcesses,
  listProcessesAsync,
  listDescendants,
  createProcessTable,
  clockTicksPerSecond,
  cpuSeconds,
  isGone,
} from './readers/processes.js';
export { GpuSampler, gpuSampler, nvmlInfo, type GpuSampleOptions, type GpuSampleOutcome } from './gpu/gpu-sampler.js';
export { watchGpuEvents, GPU_EVENT, type GpuEvent, type GpuEventSubscription } from './gpu/gpu-events.js';
export { classifyXid, FATAL_XIDS, type XidClassification, type RecoveryStep } from './gpu/xid.js';
export { gpuVerdict, GpuHealthTracker, DEFAULT_GPU_LIMITS, type GpuVerdict, type GpuStatus } from './gpu/verdict.js';
export { HealthMonitor, type HealthReport, type CheckType } from './health/health-monitor.js';
export { RecoveryManager, type RecoveryResult, type OperationType } from './recovery/recovery-manager.js';
export { ProgressTracker, type ProgressReport } from './progress/progress-tracker.js';
export { createOvernightContext, type OvernightContext } from './context.js';
export { registerOvernightTools, createOvernightServer, HPCServiceFactory } from './mcp/server.js';
export { parseConfig, loadConfig } from './config/load.js';
export { PolicyGate } from './policy/policy-gate.js';
export { AuditLog } from './policy/audit-log.js';
export {
  Sampler,
  benchmarkReport,
  monotonicNowMs,
  type SamplerOptions,
  type SampleBatch,
  type BenchmarkReport,
  type ProcessScan,
} from './sampler/sampler.js';
