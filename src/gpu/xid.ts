/**
 * Xid classification after NVIDIA's published Xid catalog and DCGM's health rules: each Xid maps
 * to a severity and a recommended action ladder, from the least disruptive step up.
 */

export type XidSeverity = 'info' | 'application' | 'degraded' | 'fatal';
export type RecoveryStep = 'none' | 'restart_application' | 'reset_gpu' | 'drain_node' | 'reboot_node';

export interface XidClassification {
  xid: number;
  severity: XidSeverity;
  /** What to do, in order; stop at the first step that clears the condition. */
  ladder: RecoveryStep[];
  /** false where a GPU reset cannot help (79: the GPU has fallen off the bus) */
  resettable: boolean;
  description: string;
}

type Rule = Omit<XidClassification, 'xid'>;

const app = (description: string): Rule => ({ severity: 'application', ladder: ['restart_application'], resettable: true, description });
const resetFirst = (description: string): Rule => ({ severity: 'fatal', ladder: ['restart_application', 'reset_gpu', 'drain_node'], resettable: true, description });

const CATALOG: Record<number, Rule> = {
  8: app('GPU stopped processing: the application or driver timed out'),
  13: app('Graphics engine exception: usually an application bug (out-of-range access, illegal instruction)'),
  31: app('GPU memory page fault: an application accessed an invalid address'),
  32: app('Invalid or corrupted push buffer stream'),
  38: resetFirst('Driver firmware error'),
  43: app('GPU stopped processing: a channel was reset after an application fault'),
  45: app('Preemptive cleanup: the driver ended the context after an earlier error'),
  48: resetFirst('Double-bit ECC error: uncorrectable memory error'),
  61: resetFirst('Internal micro-controller breakpoint/warning'),
  62: resetFirst('Internal micro-controller halt'),
  63: { severity: 'degraded', ladder: ['restart_application', 'reset_gpu'], resettable: true, description: 'ECC page retirement or row remapping recorded: a GPU reset applies it' },
  64: resetFirst('ECC page retirement or row remapping failure'),
  68: app('Video processor exception'),
  69: app('Graphics engine class error'),
  74: resetFirst('NVLink error'),
  79: { severity: 'fatal', ladder: ['drain_node', 'reboot_node'], resettable: false, description: 'GPU has fallen off the bus: it cannot be reset in place; drain and reboot the node' },
  92: { severity: 'info', ladder: ['none'], resettable: true, description: 'High single-bit ECC error rate' },
  94: app('Contained ECC error: the affected application must restart'),
  95: resetFirst('Uncontained ECC error: every application on the GPU is affected'),
  109: app('Context switch timeout'),
  119: resetFirst('GSP RPC timeout'),
  120: resetFirst('GSP error'),
  121: resetFirst('C2C link error'),
  123: resetFirst('SPI PMU RPC write failure'),
  136: resetFirst('GPU power failure/fault'),
  140: resetFirst('Unrecovered ECC error'),
  143: { severity: 'fatal', ladder: ['reset_gpu', 'reboot_node'], resettable: true, description: 'GPU initialization failure' },
  154: { severity: 'degraded', ladder: ['reset_gpu', 'reboot_node'], resettable: true, description: 'GPU recovery action changed: follow the driver\'s recommended recovery action' },
};

/** NVLink-family Xids on newer GPUs (144-150) are handled like 74. */
for (let x = 144; x <= 150; x++) CATALOG[x] = resetFirst('NVLink error');

/** Classifies one Xid. Unknown Xids are treated as degraded with a reset ladder, never ignored. */
export function classifyXid(xid: number): XidClassification {
  const rule = CATALOG[xid];
  if (rule) return { xid, ...rule };
  return {
    xid,
    severity: 'degraded',
    ladder: ['restart_application', 'reset_gpu', 'drain_node'],
    resettable: true,
    description: 'Xid not in the catalog: see NVIDIA\'s Xid documentation',
  };
}

/** The fatal Xids that DCGM treats as failing the GPU. */
export const FATAL_XIDS: readonly number[] = Object.entries(CATALOG)
  .filter(([, r]) => r.severity === 'fatal')
  .map(([x]) => Number(x));
