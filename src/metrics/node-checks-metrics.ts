/**
 * The node checks in Prometheus form: InfiniBand with node_exporter's infiniband collector names
 * and labels (node_infiniband_*{device,port}), the file table as node_exporter's filefd collector
 * (node_filefd_*), NVLink error totals as dcgm-exporter (DCGM_FI_DEV_NVLINK_*_TOTAL{gpu,UUID,modelName}),
 * and overnight_* for links, fabric, mounts, daemons, zombies and the operators' checks.
 * Registered on OvernightMetrics' registry; values are mirrored from the last full check.
 */
import client from 'prom-client';
import type { NodeChecksReport } from '../node-checks/node-checker.js';

/** sysfs counter file -> node_exporter metric (without the node_infiniband_ prefix) and scale. */
export const IB_COUNTERS: Record<string, { name: string; help: string; scale?: number }> = {
  symbol_error: {
    name: 'symbol_error_total',
    help: 'Number of minor link errors detected on one or more physical lanes.',
  },
  link_downed: {
    name: 'link_downed_total',
    help: 'Number of times the link failed to recover from an error state and went down',
  },
  link_error_recovery: {
    name: 'link_error_recovery_total',
    help: 'Number of times the link successfully recovered from an error state',
  },
  local_link_integrity_errors: {
    name: 'local_link_integrity_errors_total',
    help: 'Number of times that the count of local physical errors exceeded the threshold specified by LocalPhyErrors.',
  },
  excessive_buffer_overrun_errors: {
    name: 'excessive_buffer_overrun_errors_total',
    help:
      'Number of times that OverrunErrors consecutive flow control update periods occurred, each having at ' +
      'least one overrun error.',
  },
  port_rcv_errors: {
    name: 'port_errors_received_total',
    help: 'Number of packets containing an error that were received on this port',
  },
  port_rcv_remote_physical_errors: {
    name: 'port_receive_remote_physical_errors_total',
    help: 'Number of packets marked with the EBP (End of Bad Packet) delimiter received on the port.',
  },
  port_rcv_switch_relay_errors: {
    name: 'port_receive_switch_relay_errors_total',
    help: 'Number of packets that could not be forwarded by the switch.',
  },
  port_rcv_constraint_errors: {
    name: 'port_constraint_errors_received_total',
    help: 'Number of packets received on the switch physical port that are discarded',
  },
  port_xmit_constraint_errors: {
    name: 'port_constraint_errors_transmitted_total',
    help: 'Number of packets not transmitted from the switch physical port',
  },
  port_rcv_discards: {
    name: 'port_discards_received_total',
    help: 'Number of inbound packets discarded by the port because the port is down or congested',
  },
  port_xmit_discards: {
    name: 'port_discards_transmitted_total',
    help: 'Number of outbound packets discarded by the port because the port is down or congested',
  },
  port_rcv_data: {
    name: 'port_data_received_bytes_total',
    help: 'Number of data octets received on all links',
    scale: 4,
  },
  port_xmit_data: {
    name: 'port_data_transmitted_bytes_total',
    help: 'Number of data octets transmitted on all links',
    scale: 4,
  },
  port_rcv_packets: {
    name: 'port_packets_received_total',
    help: 'Number of packets received on all VLs by this port (including errors)',
  },
  port_xmit_packets: {
    name: 'port_packets_transmitted_total',
    help: 'Number of packets transmitted on all VLs from this port (including errors)',
  },
  port_xmit_wait: {
    name: 'port_transmit_wait_total',
    help: 'Number of ticks during which the port had data to transmit but no data was sent during the entire tick',
  },
  VL15_dropped: { name: 'vl15_dropped_total', help: 'Number of incoming VL15 packets dropped' },
};

type Values = Map<string, { labels: Record<string, string>; value: number }>;

/** A metric whose series are replaced wholesale at each update (ports and checks come and go). */
function series(
  registry: client.Registry,
  kind: 'gauge' | 'counter',
  name: string,
  help: string,
  labelNames: string[],
): Values {
  const values: Values = new Map();
  const collect = function (this: client.Gauge | client.Counter) {
    this.reset();
    for (const { labels, value } of values.values()) (this as client.Gauge).inc(labels, value);
  };
  if (kind === 'gauge') new client.Gauge({ name, help, labelNames, registers: [registry], collect });
  else new client.Counter({ name, help, labelNames, registers: [registry], collect });
  return values;
}

export class NodeCheckMetrics {
  private readonly m: Record<string, Values> = {};

  constructor(registry: client.Registry) {
    const port = ['device', 'port'];
    const add = (kind: 'gauge' | 'counter', name: string, help: string, labels: string[]) =>
      (this.m[name] = series(registry, kind, name, help, labels));
    add('gauge', 'node_infiniband_info', 'Non-numeric data from /sys/class/infiniband/<device>, value is always 1.', [
      'device',
      'board_id',
      'firmware_version',
      'hca_type',
    ]);
    add(
      'gauge',
      'node_infiniband_state_id',
      'State of the InfiniBand port (0: no change, 1: down, 2: init, 3: armed, 4: active, 5: act defer)',
      port,
    );
    add(
      'gauge',
      'node_infiniband_physical_state_id',
      'Physical state of the InfiniBand port (0: no change, 1: sleep, 2: polling, 3: disable, 4: shift, 5: link ' +
        'up, 6: link error recover, 7: phytest)',
      port,
    );
    add('gauge', 'node_infiniband_rate_bytes_per_second', 'Maximum signal transfer rate', port);
    for (const c of Object.values(IB_COUNTERS)) add('counter', `node_infiniband_${c.name}`, c.help, port);
    const gpu = ['gpu', 'UUID', 'modelName'];
    add(
      'counter',
      'DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL',
      'Total number of NVLink flow-control CRC errors.',
      gpu,
    );
    add('counter', 'DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL', 'Total number of NVLink data CRC errors.', gpu);
    add('counter', 'DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL', 'Total number of NVLink retries.', gpu);
    add('counter', 'DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL', 'Total number of NVLink recovery errors.', gpu);
    add('gauge', 'overnight_nvlink_up', '1 when the NVLink link is active.', [...gpu, 'link']);
    add(
      'gauge',
      'overnight_gpu_fabric_state',
      'NVSwitch fabric registration: 1 not started, 2 in progress, 3 completed (NVML nvmlGpuFabricState_t).',
      gpu,
    );
    add('gauge', 'overnight_gpu_fabric_ok', '1 when fabric registration completed successfully.', gpu);
    add(
      'gauge',
      'overnight_fabric_manager_running',
      '1 when nvidia-fabricmanager runs (exported on NVSwitch systems).',
      [],
    );
    add(
      'gauge',
      'overnight_gpus',
      'GPUs NVML sees (not overnight_gpu_count: promtool reserves _count for histograms and summaries).',
      [],
    );
    add('gauge', 'node_filefd_allocated', 'File descriptor statistics: allocated.', []);
    add('gauge', 'node_filefd_maximum', 'File descriptor statistics: maximum.', []);
    add('gauge', 'overnight_mount_ok', '1 when a filesystem that must be mounted (and writable) is.', ['mountpoint']);
    add('gauge', 'overnight_service_running', '1 when a daemon that must run does.', ['service']);
    add('gauge', 'overnight_zombie_processes', 'Zombie processes on the node.', []);
    add('gauge', 'overnight_unauthorized_user_processes', 'Processes of users not allowed on the node (report only).', [
      'user',
    ]);
    add('gauge', 'overnight_node_findings', 'Problems the node checks found, by check and severity.', [
      'check',
      'severity',
    ]);
    add('gauge', 'overnight_check_status', "An operator check's last outcome: 0 ok, 1 problem, 2 unknown.", ['check']);
    add('gauge', 'overnight_check_duration_seconds', "How long an operator check's last run took.", ['check']);
    add('gauge', 'overnight_check_last_run_timestamp_seconds', 'When an operator check last finished.', ['check']);
  }

  private put(name: string, labels: Record<string, string>, value: number | null | undefined): void {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    this.m[name]!.set(JSON.stringify(labels), { labels, value });
  }

  /** Replaces every series with the values of `r` (series of ports or checks that are gone vanish). */
  update(r: NodeChecksReport): void {
    for (const v of Object.values(this.m)) v.clear();
    if (r.infiniband.available) {
      for (const d of r.infiniband.devices)
        this.put(
          'node_infiniband_info',
          { device: d.name, board_id: d.board_id, firmware_version: d.firmware_version, hca_type: d.hca_type },
          1,
        );
      for (const p of r.infiniband.ports) {
        const l = { device: p.device, port: String(p.port) };
        this.put('node_infiniband_state_id', l, p.state);
        this.put('node_infiniband_physical_state_id', l, p.phys_state);
        // node_exporter: Gb/s (signalling) * 125000000 bytes/s.
        this.put('node_infiniband_rate_bytes_per_second', l, p.rate_gbps === null ? null : p.rate_gbps * 125_000_000);
        for (const [file, value] of Object.entries(p.counters)) {
          const c = IB_COUNTERS[file];
          if (c) this.put(`node_infiniband_${c.name}`, l, value * (c.scale ?? 1));
        }
      }
    }
    const ic = r.gpu_interconnect;
    if (ic?.available) {
      this.put('overnight_gpus', {}, ic.gpu_count);
      if (ic.fabric_manager.needed) this.put('overnight_fabric_manager_running', {}, ic.fabric_manager.running ? 1 : 0);
      const states: Record<string, number> = { not_started: 1, in_progress: 2, completed: 3 };
      for (const g of ic.gpus) {
        const l = { gpu: String(g.index), UUID: g.uuid ?? '', modelName: g.name ?? '' };
        if (g.nvlink) {
          const sum = (f: 'crc_flit_errors' | 'crc_data_errors' | 'replay_errors' | 'recovery_errors') =>
            g.nvlink!.some((k) => k[f] !== null) ? g.nvlink!.reduce((a, k) => a + (k[f] ?? 0), 0) : null;
          this.put('DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL', l, sum('crc_flit_errors'));
          this.put('DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL', l, sum('crc_data_errors'));
          this.put('DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL', l, sum('replay_errors'));
          this.put('DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL', l, sum('recovery_errors'));
          for (const k of g.nvlink) this.put('overnight_nvlink_up', { ...l, link: String(k.link) }, k.active ? 1 : 0);
        }
        if (g.fabric) {
          this.put('overnight_gpu_fabric_state', l, states[g.fabric.state] ?? null);
          this.put(
            'overnight_gpu_fabric_ok',
            l,
            g.fabric.state === 'completed' && g.fabric.status === 'NVML_SUCCESS' ? 1 : 0,
          );
        }
      }
    }
    const sys = r.file_descriptors.system;
    this.put('node_filefd_allocated', {}, sys?.allocated);
    this.put('node_filefd_maximum', {}, sys?.max);
    if (r.mounts.available)
      for (const m of r.mounts.checked)
        this.put('overnight_mount_ok', { mountpoint: m.path }, m.status === 'healthy' ? 1 : 0);
    for (const s of r.services) this.put('overnight_service_running', { service: s.name }, s.running ? 1 : 0);
    this.put('overnight_zombie_processes', {}, r.zombies.count);
    for (const u of r.unauthorized_users.users)
      this.put('overnight_unauthorized_user_processes', { user: u.user }, u.processes);
    const counts = new Map<string, number>();
    for (const f of r.findings) {
      const check = f.check.startsWith('check:') ? 'check' : f.check;
      const k = `${check}\u0000${f.severity}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const [k, n] of counts) {
      const [check, severity] = k.split('\u0000') as [string, string];
      this.put('overnight_node_findings', { check, severity }, n);
    }
    for (const c of r.operator_checks) {
      const l = { check: c.name };
      this.put('overnight_check_status', l, c.outcome === 'ok' ? 0 : c.outcome === 'problem' ? 1 : 2);
      this.put('overnight_check_duration_seconds', l, c.duration_ms / 1000);
      this.put('overnight_check_last_run_timestamp_seconds', l, c.finished_at / 1000);
    }
  }
}
