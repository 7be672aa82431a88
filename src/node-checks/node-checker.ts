/**
 * The node checker: InfiniBand ports, mounts, daemons, unauthorized users, zombies, descriptor
 * exhaustion and the operators' own checks, judged once per full health check. Native reads run on
 * libuv workers (readInfiniband, readMounts, readFileNr, readProcessFds) and the scripts in child
 * processes, so nothing here blocks the event loop. Each part that cannot be read says why.
 */
import { readFile } from 'node:fs/promises';
import type { OvernightConfig } from '../config/schema.js';
import { loadNative, type NativeBinding, type ProcessSample } from '../native.js';
import { systemClock, type Clock } from '../util/clock.js';
import { judgeFds, type FdReport } from './file-descriptors.js';
import { InfinibandVerdicts, type IbPortReport } from './infiniband.js';
import { judgeMounts, type MountReport } from './mounts.js';
import { OperatorChecks, type OperatorCheckResult } from './operator-checks.js';
import {
  judgeServices,
  judgeZombies,
  parsePasswd,
  treeOf,
  unauthorizedUsers,
  type ServiceReport,
  type UnauthorizedUser,
  type ZombieReport,
} from './processes.js';
import type { NodeFinding, Unavailable } from './types.js';
import { GpuInterconnectVerdicts, type InterconnectReport } from '../interconnect/gpu-interconnect.js';
import type { GpuDeviceSample } from '../native-types.js';

export interface NodeChecksReport {
  infiniband:
    | {
        available: true;
        sysfs_root: string;
        devices: { name: string; board_id: string; firmware_version: string; hca_type: string }[];
        ports: IbPortReport[];
      }
    | (Unavailable & { sysfs_root: string });
  mounts: { available: true; checked: MountReport[] } | Unavailable;
  services: ServiceReport[];
  unauthorized_users: { enabled: boolean; users: UnauthorizedUser[] };
  zombies: ZombieReport;
  file_descriptors: FdReport;
  operator_checks: OperatorCheckResult[];
  /**
   * NVLink, NVSwitch fabric and fabric manager, persistence mode, GPU count and models (null: no GPU sample in this
   * check).
   */
  gpu_interconnect: InterconnectReport | null;
  /** Every problem found, critical first. */
  findings: NodeFinding[];
  duration_ms: number;
}

export interface NodeCheckerOptions {
  clock?: Clock;
  native?: Pick<NativeBinding, 'readInfiniband' | 'readMounts' | 'readFileNr' | 'readProcessFds'>;
  mountinfoPath?: string;
  procRoot?: string;
  passwdPath?: string;
  /** Whose tree's descriptors are counted (default: policy.scopeRoot, else this process's parent). */
  treeRoot?: number;
}

/** sysfs root: the config key, else OVERNIGHT_SYSFS_ROOT, else /sys. */
export function sysfsRoot(config: OvernightConfig): string {
  return config.nodeChecks.sysfsRoot ?? process.env.OVERNIGHT_SYSFS_ROOT ?? '/sys';
}

const reasonOf = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  return { reason: e?.message ?? String(err), ...(e?.code ? { code: e.code } : {}) };
};

export class NodeChecker {
  readonly operatorChecks: OperatorChecks;
  private readonly clock: Clock;
  private readonly ib: InfinibandVerdicts;
  private users: Map<number, string> | null = null;
  private readonly interconnect: GpuInterconnectVerdicts;

  constructor(
    private readonly config: OvernightConfig,
    private readonly options: NodeCheckerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.ib = new InfinibandVerdicts(config.nodeChecks.infiniband);
    this.operatorChecks = new OperatorChecks(config.checks, this.clock);
    this.interconnect = new GpuInterconnectVerdicts(config.gpu);
  }

  /** Whether the process scan handed to run() needs command lines (services are matched on argv). */
  get needsCmdline(): boolean {
    return this.config.nodeChecks.services.length > 0;
  }

  private native() {
    return this.options.native ?? loadNative();
  }

  /**
   * Runs every node check; `processes` is the full check's process scan (with uid, state, cmdline),
   * `gpus` the full check's GPU sample (undefined: not judged; unavailable: NVML could not be used).
   */
  async run(
    processes: ProcessSample[],
    gpus?: { available: true; deviceCount: number; devices: GpuDeviceSample[] } | { available: false; reason: string },
  ): Promise<NodeChecksReport> {
    const t0 = performance.now();
    const nc = this.config.nodeChecks;
    const native = this.native();
    const root = sysfsRoot(this.config);
    // The policy's scope: the agent runner's tree (policy.scopeRoot, else this process's parent).
    const tree = treeOf(
      processes,
      this.options.treeRoot ?? this.config.policy.scopeRoot ?? (process.ppid > 1 ? process.ppid : process.pid),
    );
    const [ibDevs, mounts, fileNr, fds, passwd] = await Promise.all([
      native.readInfiniband(root).then(
        (d) => ({ ok: true as const, d }),
        (e: unknown) => ({ ok: false as const, e }),
      ),
      nc.mounts.length
        ? native.readMounts(this.options.mountinfoPath ?? '/proc/self/mountinfo').then(
            (d) => ({ ok: true as const, d }),
            (e: unknown) => ({ ok: false as const, e }),
          )
        : null,
      native.readFileNr(this.options.procRoot ?? '/proc').catch(() => null),
      native.readProcessFds(tree.slice(0, 256)),
      nc.unauthorizedUsers.enabled && !this.users
        ? readFile(this.options.passwdPath ?? '/etc/passwd', 'utf8').catch(() => '')
        : null,
      this.operatorChecks.runDue(),
    ]);
    if (passwd !== null) this.users = parsePasswd(passwd);
    const findings: NodeFinding[] = [];

    let infiniband: NodeChecksReport['infiniband'];
    if (ibDevs.ok) {
      const j = this.ib.judge(ibDevs.d, this.clock.now());
      infiniband = {
        available: true,
        sysfs_root: root,
        devices: ibDevs.d.map((d) => ({
          name: d.name,
          board_id: d.boardId,
          firmware_version: d.firmwareVersion,
          hca_type: d.hcaType,
        })),
        ports: j.ports,
      };
      findings.push(...j.findings);
    } else {
      const r = reasonOf(ibDevs.e);
      infiniband = {
        available: false,
        sysfs_root: root,
        ...r,
        reason: r.code === 'ENOENT' ? `no InfiniBand devices (${root}/class/infiniband does not exist)` : r.reason,
      };
      // Ports the operator expects and the node does not have are still a finding.
      findings.push(...this.ib.judge([], this.clock.now()).findings);
    }

    let mountReport: NodeChecksReport['mounts'] = { available: true, checked: [] };
    if (mounts && mounts.ok) {
      const j = judgeMounts(mounts.d, nc.mounts);
      mountReport = { available: true, checked: j.mounts };
      findings.push(...j.findings);
    } else if (mounts) {
      mountReport = { available: false, ...reasonOf(mounts.e) };
    }

    const services = judgeServices(
      processes,
      nc.services.map((s) => (typeof s === 'string' ? { name: s } : s)),
    );
    findings.push(...services.findings);
    const users = nc.unauthorizedUsers.enabled
      ? unauthorizedUsers(processes, nc.unauthorizedUsers, this.users ?? new Map<number, string>())
      : { users: [], findings: [] };
    findings.push(...users.findings);
    const zombies = judgeZombies(processes, nc.maxZombies);
    findings.push(...zombies.findings);
    const fdJ = judgeFds(fileNr, fds, new Map(processes.map((p) => [p.pid, p.comm])), nc.maxFdFraction);
    findings.push(...fdJ.findings);

    let gpuInterconnect: InterconnectReport | null = null;
    if (gpus) {
      const j = this.interconnect.judge(gpus, processes, this.clock.now());
      gpuInterconnect = j.report;
      findings.push(...j.findings);
    }

    const checks = this.operatorChecks.latest();
    for (const r of checks) {
      if (r.outcome !== 'problem') continue;
      findings.push({
        check: `check:${r.name}`,
        severity: r.severity,
        subject: r.name,
        message: `check ${r.name}: ${r.message}`,
        action: `see the check's own documentation; rerun it by hand to confirm`,
      });
    }
    findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
    return {
      infiniband,
      mounts: mountReport,
      services: services.services,
      unauthorized_users: { enabled: nc.unauthorizedUsers.enabled, users: users.users },
      zombies: zombies.zombies,
      file_descriptors: fdJ.fds,
      operator_checks: checks,
      gpu_interconnect: gpuInterconnect,
      findings,
      duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
    };
  }
}
