/**
 * Filesystems that must be mounted and writable (NHC's check_fs_mount_rw) from the mount table:
 * absent, the wrong type, or read-only (a filesystem the kernel remounted read-only after an I/O
 * error) is critical. The last mount on a path is the one in effect (over-mounts stack).
 */
import type { MountSample } from '../native-types.js';
import type { NodeFinding } from './types.js';

export interface MountExpectation {
  path: string;
  fsType?: string;
  writable: boolean;
}

export interface MountReport {
  path: string;
  mounted: boolean;
  fs_type: string | null;
  source: string | null;
  read_only: boolean | null;
  status: 'healthy' | 'critical';
  reason?: string;
}

const normalize = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

export function judgeMounts(
  table: MountSample[],
  expected: MountExpectation[],
): { mounts: MountReport[]; findings: NodeFinding[] } {
  const byPoint = new Map<string, MountSample>();
  for (const m of table) byPoint.set(m.mountPoint, m); // later lines over-mount earlier ones
  const mounts: MountReport[] = [];
  const findings: NodeFinding[] = [];
  for (const e of expected) {
    const path = normalize(e.path);
    const m = byPoint.get(path);
    let reason: string | undefined;
    let action = '';
    if (!m) {
      reason = 'not mounted';
      action = `mount ${path} (mount -a; check the fstab/automount entry and the file server)`;
    } else if (e.fsType && m.fsType !== e.fsType) {
      reason = `mounted as ${m.fsType}, expected ${e.fsType} (source ${m.source})`;
      action = `remount ${path} from the right source`;
    } else if (e.writable && m.readOnly) {
      reason = `mounted read-only (${m.mountOptions}; ${m.superOptions})`;
      action =
        `the kernel remounts a filesystem read-only after I/O errors: check dmesg and the device, then ` +
        `remount ${path} rw`;
    }
    mounts.push({
      path,
      mounted: Boolean(m),
      fs_type: m?.fsType ?? null,
      source: m?.source ?? null,
      read_only: m ? m.readOnly : null,
      status: reason ? 'critical' : 'healthy',
      ...(reason ? { reason } : {}),
    });
    if (reason)
      findings.push({
        check: 'mount',
        severity: 'critical',
        subject: path,
        message: `filesystem ${path}: ${reason}`,
        action,
      });
  }
  return { mounts, findings };
}
