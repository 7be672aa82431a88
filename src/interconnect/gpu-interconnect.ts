/**
 * GPU interconnect and inventory verdicts (GPUd's nvlink, fabric-manager, gpu-counts and
 * persistence components; DCGM's NVLink and NVSwitch health watches):
 * - an NVLink link seen active that is now down is critical; recovery and CRC counters growing
 *   faster than the configured rate are degraded; NOT_SUPPORTED (PCIe-only GPUs) is no finding;
 * - on NVSwitch systems a GPU whose fabric registration failed, or never started, cannot run
 *   multi-GPU jobs: critical, restart the fabric manager; in progress is degraded; and the fabric
 *   manager daemon must run;
 * - persistence mode off where expected is degraded; fewer GPUs than expected critical, another
 *   model degraded.
 * Pure over NVML samples and a process scan: tests feed the fake NVML.
 */
import type { z } from 'zod';
import type { gpuExpectationsSchema } from '../config/schema.js';
import type { GpuDeviceSample, NvLinkSample, ProcessSample } from '../native-types.js';
import type { NodeFinding } from '../node-checks/types.js';

export type GpuExpectations = z.infer<typeof gpuExpectationsSchema>;

const COUNTERS = [
  ['replay', 'replayErrors'],
  ['recovery', 'recoveryErrors'],
  ['crcFlit', 'crcFlitErrors'],
  ['crcData', 'crcDataErrors'],
] as const;

export interface NvLinkReport {
  link: number;
  active: boolean;
  version: number | null;
  remote_bus_id: string | null;
  replay_errors: number | null;
  recovery_errors: number | null;
  crc_flit_errors: number | null;
  crc_data_errors: number | null;
  /** Growth per hour since the previous full check (absent on the first). */
  error_rates_per_hour?: Partial<Record<(typeof COUNTERS)[number][0], number>>;
}

export interface GpuInterconnectReport {
  index: number;
  uuid: string | null;
  name: string | null;
  persistence_mode: boolean | null;
  /** null: the GPU has no NVLink (or the driver cannot say: see nvlink_reason) */
  nvlink: NvLinkReport[] | null;
  nvlink_reason?: string;
  fabric: {
    state: string;
    status: string | null;
    clique_id: number;
    cluster_uuid: string;
    health_mask: number | null;
    degraded_bandwidth: boolean | null;
  } | null;
  fabric_reason?: string;
}

export interface InterconnectReport {
  available: boolean;
  reason?: string;
  gpu_count: number | null;
  expected_count: number | null;
  gpus: GpuInterconnectReport[];
  /** Whether the node needs nvidia-fabricmanager (some GPU takes part in an NVSwitch fabric) and whether it runs. */
  fabric_manager: { needed: boolean; running: boolean; pids: number[] };
}

const FM_NAMES = new Set(['nv-fabricmanager', 'nv-fabricmanage', 'nvidia-fabricmanager', 'nvidia-fabricma']);

export function fabricManagerPids(table: ProcessSample[]): number[] {
  return table
    .filter(
      (p) =>
        !p.kernelThread &&
        p.state !== 'Z' &&
        (FM_NAMES.has(p.comm) || FM_NAMES.has(p.cmdline?.[0]?.split('/').pop() ?? '')),
    )
    .map((p) => p.pid);
}

/** NVML_GPU_FABRIC_HEALTH_MASK_DEGRADED_BW: bits 0-1, 1 = true, 2 = false, 0 = not supported. */
const degradedBandwidth = (mask: number | null) =>
  mask === null ? null : (mask & 3) === 1 ? true : (mask & 3) === 2 ? false : null;

export class GpuInterconnectVerdicts {
  private prev = new Map<
    string,
    { at: number; active: boolean; counters: Record<string, number | null | undefined> }
  >();

  constructor(private readonly expect: GpuExpectations) {}

  judge(
    sample: { available: true; deviceCount: number; devices: GpuDeviceSample[] } | { available: false; reason: string },
    processes: ProcessSample[],
    now: number,
  ): { report: InterconnectReport; findings: NodeFinding[] } {
    const findings: NodeFinding[] = [];
    const e = this.expect;
    const add = (check: string, severity: 'critical' | 'degraded', subject: string, message: string, action: string) =>
      findings.push({ check, severity, subject, message, action });
    const fmPids = fabricManagerPids(processes);
    if (!sample.available) {
      if (e.expectedCount)
        add(
          'gpu_count',
          'critical',
          'gpus',
          `expected ${e.expectedCount} GPUs, NVML unavailable: ${sample.reason}`,
          'check the NVIDIA driver (nvidia-smi, dmesg); reboot or drain the node',
        );
      return {
        report: {
          available: false,
          reason: sample.reason,
          gpu_count: null,
          expected_count: e.expectedCount ?? null,
          gpus: [],
          fabric_manager: { needed: false, running: fmPids.length > 0, pids: fmPids },
        },
        findings,
      };
    }
    if (e.expectedCount !== undefined && sample.deviceCount < e.expectedCount) {
      add(
        'gpu_count',
        'critical',
        'gpus',
        `${sample.deviceCount} GPUs visible, ${e.expectedCount} expected`,
        'a GPU fell off the bus or was not initialised: check dmesg for Xid 79 and lspci; drain and reboot the node',
      );
    }
    const gpus: GpuInterconnectReport[] = [];
    let fabricNeeded = false;
    for (const d of sample.devices) {
      const subject = `GPU ${d.index}`;
      if (e.expectedModels.length && d.name && !e.expectedModels.some((m) => d.name!.includes(m))) {
        add(
          'gpu_model',
          'degraded',
          subject,
          `${subject} is a ${d.name}, not one of ${e.expectedModels.join(', ')}`,
          'the node does not have the GPUs the scheduler thinks it has: fix the node inventory',
        );
      }
      if (e.persistenceMode && d.persistenceMode === false) {
        add(
          'persistence_mode',
          'degraded',
          subject,
          `${subject}: persistence mode is off`,
          'start nvidia-persistenced (or nvidia-smi -pm 1) so the driver keeps GPU state between jobs',
        );
      }
      let nvlink: NvLinkReport[] | null = null;
      let nvlinkReason: string | undefined;
      if (d.nvlinks) nvlink = d.nvlinks.map((l) => this.link(d, l, now, add));
      else if (d.errors.nvlinks)
        nvlinkReason =
          d.errors.nvlinks.code === 'NVML_ERROR_NOT_SUPPORTED'
            ? 'no NVLink on this GPU'
            : `${d.errors.nvlinks.code}: ${d.errors.nvlinks.message}`;
      let fabric: GpuInterconnectReport['fabric'] = null;
      let fabricReason: string | undefined;
      if (d.fabric) {
        fabricNeeded = true;
        const f = d.fabric;
        fabric = {
          state: f.state,
          status: f.status?.code ?? null,
          clique_id: f.cliqueId,
          cluster_uuid: f.clusterUuid,
          health_mask: f.healthMask,
          degraded_bandwidth: degradedBandwidth(f.healthMask),
        };
        const restart =
          'restart the fabric manager (systemctl restart nvidia-fabricmanager) and check its log ' +
          '(/var/log/fabricmanager.log); multi-GPU jobs cannot run until it completes';
        if (f.state === 'completed' && f.status && f.status.code !== 'NVML_SUCCESS')
          add(
            'fabric',
            'critical',
            subject,
            `${subject}: NVSwitch fabric registration failed (${f.status.code}: ${f.status.message})`,
            restart,
          );
        else if (f.state === 'not_started')
          add('fabric', 'critical', subject, `${subject}: NVSwitch fabric registration has not started`, restart);
        else if (f.state === 'in_progress')
          add(
            'fabric',
            'degraded',
            subject,
            `${subject}: NVSwitch fabric registration in progress`,
            'wait for the fabric manager to finish; if it persists, restart nvidia-fabricmanager',
          );
        if (fabric.degraded_bandwidth)
          add(
            'fabric',
            'degraded',
            subject,
            `${subject}: NVSwitch fabric reports degraded bandwidth`,
            'a trunk or access link is down: check the NVSwitch trays (nvidia-smi nvlink -s, nvswitch-audit)',
          );
      } else if (d.errors.fabric) {
        fabricReason =
          d.errors.fabric.code === 'NVML_ERROR_NOT_SUPPORTED'
            ? 'not part of an NVSwitch fabric'
            : `${d.errors.fabric.code}: ${d.errors.fabric.message}`;
      }
      gpus.push({
        index: d.index,
        uuid: d.uuid ?? null,
        name: d.name ?? null,
        persistence_mode: d.persistenceMode ?? null,
        nvlink,
        ...(nvlinkReason ? { nvlink_reason: nvlinkReason } : {}),
        fabric,
        ...(fabricReason ? { fabric_reason: fabricReason } : {}),
      });
    }
    if (fabricNeeded && !fmPids.length) {
      add(
        'fabric_manager',
        'critical',
        'nvidia-fabricmanager',
        'nvidia-fabricmanager is not running on an NVSwitch system',
        'systemctl start nvidia-fabricmanager (its version must match the driver); multi-GPU jobs fail without it',
      );
    }
    return {
      report: {
        available: true,
        gpu_count: sample.deviceCount,
        expected_count: e.expectedCount ?? null,
        gpus,
        fabric_manager: { needed: fabricNeeded, running: fmPids.length > 0, pids: fmPids },
      },
      findings,
    };
  }

  private link(
    d: GpuDeviceSample,
    l: NvLinkSample,
    now: number,
    add: (check: string, severity: 'critical' | 'degraded', subject: string, message: string, action: string) => void,
  ): NvLinkReport {
    const key = `${d.uuid ?? d.index}/${l.link}`;
    const subject = `GPU ${d.index} NVLink ${l.link}`;
    const before = this.prev.get(key);
    const counters = Object.fromEntries(COUNTERS.map(([k, f]) => [k, l[f]]));
    if (before?.active && !l.active)
      add(
        'nvlink',
        'critical',
        subject,
        `${subject} was up and went down`,
        'reset the GPU when idle (recoverOperation gpu_error) or drain the node; check the NVSwitch/bridge ' +
          '(nvidia-smi nvlink -s)',
      );
    let rates: NvLinkReport['error_rates_per_hour'];
    if (before && now - before.at >= 1000) {
      rates = {};
      const hours = (now - before.at) / 3600_000;
      for (const [k] of COUNTERS) {
        const cur = counters[k];
        const old = before.counters[k];
        if (cur == null || old == null || cur < old) continue;
        const rate = (cur - old) / hours;
        rates[k] = Math.round(rate * 1000) / 1000;
        const limit = this.expect.nvlinkMaxErrorsPerHour[k];
        if (limit !== undefined && cur > old && rate > limit)
          add(
            'nvlink',
            'degraded',
            subject,
            `${subject}: ${k} errors grew by ${cur - old} in ${Math.round((now - before.at) / 1000)} s ` +
              `(${rates[k]}/h > ${limit}/h)`,
            'a marginal link: watch it (dcgmi diag -r 2), plan a GPU/baseboard replacement if it keeps growing',
          );
      }
    }
    if (!before || now - before.at >= 1000) this.prev.set(key, { at: now, active: l.active, counters });
    return {
      link: l.link,
      active: l.active,
      version: l.version ?? null,
      remote_bus_id: l.remoteBusId ?? null,
      replay_errors: l.replayErrors ?? null,
      recovery_errors: l.recoveryErrors ?? null,
      crc_flit_errors: l.crcFlitErrors ?? null,
      crc_data_errors: l.crcDataErrors ?? null,
      ...(rates ? { error_rates_per_hour: rates } : {}),
    };
  }
}
