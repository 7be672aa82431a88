/**
 * Xid classification after NVIDIA's published Xid catalog (docs.nvidia.com/deploy/xid-errors:
 * the cause columns of the Xid listing and the catalog's "resolution bucket" immediate actions):
 * each Xid has a cause (application / driver / hardware), NVIDIA's immediate action, whether a GPU
 * reset can clear it, and from those a severity and a ladder of recovery steps.
 *
 * An application error (Xid 13, 31, 43, 45, ...) says a program on the GPU faulted: the GPU is
 * fine, the program is restarted, and neither the GPU's status nor a reset plan changes.
 */

export type XidSeverity = 'info' | 'application' | 'degraded' | 'fatal';
export type RecoveryStep = 'none' | 'restart_application' | 'reset_gpu' | 'drain_node' | 'reboot_node';
/** The likely cause, as NVIDIA's listing names it. */
export type XidCause = 'application' | 'driver' | 'hardware' | 'unknown';
/** NVIDIA's "resolution bucket (immediate action)", lower-cased. */
export type XidAction =
  | 'ignore'
  | 'restart_app'
  | 'reset_gpu'
  | 'restart_bm'
  | 'contact_support'
  | 'workflow_xid_48'
  | 'workflow_nvlink_err'
  | 'xid_154_eval';

export interface XidClassification {
  xid: number;
  cause: XidCause;
  /** NVIDIA's immediate action for it. */
  action: XidAction;
  severity: XidSeverity;
  /** What to do, in order; stop at the first step that clears the condition. */
  ladder: RecoveryStep[];
  /** false where a GPU reset cannot help (79: the GPU has fallen off the bus) */
  resettable: boolean;
  description: string;
}

interface Entry {
  cause: XidCause;
  action: XidAction;
  description: string;
  /** Only where the action alone does not say it (63: a pending remap waits for a reset, the GPU still works). */
  severity?: XidSeverity;
}

/** The table (one line per Xid, facts from NVIDIA's catalog; the rest is derived below). */
const CATALOG: Record<number, Entry> = {
  8: {
    cause: 'application',
    action: 'restart_app',
    description: 'GPU stopped processing: the channel timed out (an application or driver fault)',
  },
  9: { cause: 'driver', action: 'restart_bm', description: 'Driver error programming the GPU' },
  12: { cause: 'driver', action: 'restart_bm', description: 'Driver error handling a GPU exception' },
  13: {
    cause: 'application',
    action: 'restart_app',
    description: 'Graphics engine exception: usually an application bug (out-of-range access, illegal instruction)',
  },
  31: {
    cause: 'application',
    action: 'restart_app',
    description: 'GPU memory page fault: an application accessed an invalid address',
  },
  32: { cause: 'driver', action: 'contact_support', description: 'Invalid or corrupted push buffer stream' },
  38: { cause: 'driver', action: 'reset_gpu', description: 'Driver firmware error' },
  43: {
    cause: 'application',
    action: 'restart_app',
    description:
      'GPU stopped processing: a channel was reset after an application fault; other applications are unaffected',
  },
  45: {
    cause: 'application',
    action: 'ignore',
    description:
      'Preemptive cleanup: the driver ended a context after an earlier error (or the application was killed)',
  },
  48: { cause: 'hardware', action: 'workflow_xid_48', description: 'Double-bit ECC error: uncorrectable memory error' },
  56: { cause: 'driver', action: 'contact_support', description: 'Display engine error' },
  57: { cause: 'hardware', action: 'contact_support', description: 'Error programming the video memory interface' },
  58: { cause: 'hardware', action: 'contact_support', description: 'Unstable video memory interface detected' },
  61: { cause: 'driver', action: 'reset_gpu', description: 'Internal micro-controller breakpoint/warning' },
  62: { cause: 'driver', action: 'reset_gpu', description: 'Internal micro-controller halt' },
  63: {
    cause: 'hardware',
    action: 'reset_gpu',
    severity: 'degraded',
    description: 'ECC page retirement or row remapping recorded: a GPU reset applies it',
  },
  64: { cause: 'hardware', action: 'reset_gpu', description: 'ECC page retirement or row remapping failure' },
  68: { cause: 'application', action: 'restart_app', description: 'Video processor (NVDEC) exception' },
  69: { cause: 'application', action: 'restart_app', description: 'Graphics engine class error' },
  74: { cause: 'hardware', action: 'workflow_nvlink_err', description: 'NVLink error' },
  79: {
    cause: 'hardware',
    action: 'restart_bm',
    description: 'GPU has fallen off the bus: it cannot be reset in place; drain and reboot the node',
  },
  92: { cause: 'hardware', action: 'ignore', description: 'High single-bit ECC error rate (corrected)' },
  94: {
    cause: 'hardware',
    action: 'restart_app',
    description: 'Contained ECC error: only the affected application must restart',
  },
  95: {
    cause: 'hardware',
    action: 'reset_gpu',
    description: 'Uncontained ECC error: every application on the GPU is affected',
  },
  109: { cause: 'application', action: 'restart_app', description: 'Context switch timeout' },
  119: { cause: 'driver', action: 'reset_gpu', description: 'GSP RPC timeout' },
  120: { cause: 'driver', action: 'reset_gpu', description: 'GSP error' },
  121: { cause: 'hardware', action: 'reset_gpu', description: 'C2C link error' },
  123: { cause: 'driver', action: 'reset_gpu', description: 'SPI PMU RPC write failure' },
  136: { cause: 'hardware', action: 'reset_gpu', description: 'GPU power failure/fault' },
  137: {
    cause: 'application',
    action: 'restart_app',
    description: 'NVLink FLA privilege error: an application used a fabric address it may not',
  },
  140: { cause: 'hardware', action: 'reset_gpu', description: 'Unrecovered ECC error' },
  143: { cause: 'hardware', action: 'reset_gpu', description: 'GPU initialization failure' },
  154: {
    cause: 'driver',
    action: 'xid_154_eval',
    description: "GPU recovery action changed: follow the driver's recommended recovery action",
  },
};

/** NVLink-family Xids on newer GPUs (144-150) are handled like 74. */
for (let x = 144; x <= 150; x++)
  CATALOG[x] = { cause: 'hardware', action: 'workflow_nvlink_err', description: 'NVLink error' };

const APP_LADDER: RecoveryStep[] = ['restart_application'];
const RESET_LADDER: RecoveryStep[] = ['restart_application', 'reset_gpu', 'drain_node'];

/** Severity and ladder follow from NVIDIA's immediate action. */
function derive(e: Entry): Pick<XidClassification, 'severity' | 'ladder' | 'resettable'> {
  switch (e.action) {
    case 'ignore':
      return { severity: e.severity ?? 'info', ladder: ['none'], resettable: true };
    case 'restart_app':
      return { severity: e.severity ?? 'application', ladder: APP_LADDER, resettable: true };
    case 'restart_bm':
      return { severity: e.severity ?? 'fatal', ladder: ['drain_node', 'reboot_node'], resettable: false };
    case 'xid_154_eval':
      return { severity: e.severity ?? 'degraded', ladder: ['reset_gpu', 'reboot_node'], resettable: true };
    case 'contact_support':
      return { severity: e.severity ?? 'degraded', ladder: ['reset_gpu', 'drain_node'], resettable: true };
    default:
      return {
        severity: e.severity ?? 'fatal',
        ladder: e.severity === 'degraded' ? ['restart_application', 'reset_gpu'] : RESET_LADDER,
        resettable: true,
      };
  }
}

/** Classifies one Xid. Unknown Xids are treated as degraded with a reset ladder, never ignored. */
export function classifyXid(xid: number): XidClassification {
  const e = CATALOG[xid];
  if (e) return { xid, cause: e.cause, action: e.action, description: e.description, ...derive(e) };
  return {
    xid,
    cause: 'unknown',
    action: 'contact_support',
    severity: 'degraded',
    ladder: RESET_LADDER,
    resettable: true,
    description: "Xid not in the catalog: see NVIDIA's Xid documentation",
  };
}

/** Whether an Xid says something about the GPU itself (not only about a program on it). */
export function xidAffectsGpu(xid: number): boolean {
  const s = classifyXid(xid).severity;
  return s === 'degraded' || s === 'fatal';
}

/** The fatal Xids that DCGM treats as failing the GPU. */
export const FATAL_XIDS: readonly number[] = Object.keys(CATALOG)
  .map(Number)
  .filter((x) => classifyXid(x).severity === 'fatal');
