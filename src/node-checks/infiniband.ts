/**
 * InfiniBand port verdicts (NHC check_hw_ib, GPUd's infiniband component): an expected port that
 * is missing or not ACTIVE is critical, as is a port seen ACTIVE that went down; a rate below the
 * expected one and counters growing faster than the configured rate are degraded. Keeps the
 * previous counters to turn totals into rates. Pure over native samples: tests feed a fake tree.
 */
import type { IbDeviceSample } from '../native-types.js';
import type { NodeFinding } from './types.js';

export interface InfinibandExpectation {
  device: string;
  port: number;
  rateGbps?: number;
}

export interface InfinibandLimits {
  expected: InfinibandExpectation[];
  /** Counter file name -> most growth per hour that is still healthy. */
  maxErrorsPerHour: Record<string, number>;
}

export interface IbPortReport {
  device: string;
  port: number;
  state: number | null;
  state_name: string | null;
  phys_state: number | null;
  phys_state_name: string | null;
  rate_gbps: number | null;
  link_layer: string;
  counters: Record<string, number>;
  /** Growth per hour of the counters that have a limit, since the previous check (absent on the first). */
  error_rates_per_hour?: Record<string, number>;
  expected: boolean;
  status: 'healthy' | 'degraded' | 'critical';
  reasons: string[];
}

export const IB_STATE_ACTIVE = 4;
export const IB_PHYS_LINK_UP = 5;
/** Counter resets (driver reload, `perfquery -R`) and clock steps make no rate. */
const MIN_INTERVAL_MS = 1000;

export class InfinibandVerdicts {
  private prev = new Map<string, { at: number; counters: Record<string, number>; active: boolean }>();

  constructor(private readonly limits: InfinibandLimits) {}

  /** Judges every port in `devices` at time `now` (ms); returns the per-port reports and findings. */
  judge(devices: IbDeviceSample[], now: number): { ports: IbPortReport[]; findings: NodeFinding[] } {
    const findings: NodeFinding[] = [];
    const ports: IbPortReport[] = [];
    const seen = new Set<string>();
    const expected = new Map(this.limits.expected.map((e) => [`${e.device}/${e.port}`, e]));
    for (const d of devices) {
      for (const p of d.ports) {
        const key = `${d.name}/${p.port}`;
        seen.add(key);
        const exp = expected.get(key);
        const reasons: string[] = [];
        let status: IbPortReport['status'] = 'healthy';
        const flag = (severity: 'critical' | 'degraded', message: string, action: string) => {
          reasons.push(message);
          if (severity === 'critical' || status === 'healthy') status = severity;
          findings.push({
            check: 'infiniband',
            severity,
            subject: key,
            message: `InfiniBand ${key}: ${message}`,
            action,
          });
        };
        const active = p.state === IB_STATE_ACTIVE;
        const before = this.prev.get(key);
        const stateText = `${p.stateName ?? 'unreadable'}${p.physStateName ? `, physical ${p.physStateName}` : ''}`;
        if (exp && !active) {
          flag(
            'critical',
            `expected ACTIVE, is ${stateText}`,
            'check the cable, the switch port and the subnet manager (ibstat, ibportstate); drain the node until ' +
              'the link is back',
          );
        } else if (!exp && before?.active && !active) {
          flag(
            'critical',
            `was ACTIVE, went ${stateText}`,
            'check the cable and the switch port (ibstat); jobs using this port will fail',
          );
        }
        if (exp?.rateGbps !== undefined && active && p.rateGbps !== null && p.rateGbps < exp.rateGbps) {
          flag(
            'degraded',
            `rate ${p.rateGbps} Gb/s below the expected ${exp.rateGbps} Gb/s (${p.rateText})`,
            'a link trained at a lower speed or width: reseat or replace the cable',
          );
        }
        let rates: Record<string, number> | undefined;
        if (before && now - before.at >= MIN_INTERVAL_MS) {
          rates = {};
          const hours = (now - before.at) / 3600_000;
          for (const [name, limit] of Object.entries(this.limits.maxErrorsPerHour)) {
            const cur = p.counters[name];
            const old = before.counters[name];
            if (cur === undefined || old === undefined || cur < old) continue;
            const rate = (cur - old) / hours;
            rates[name] = Math.round(rate * 1000) / 1000;
            if (cur > old && rate > limit) {
              flag(
                'degraded',
                `${name} grew by ${cur - old} in ${Math.round((now - before.at) / 1000)} s (${rates[name]}/h > ` +
                  `${limit}/h)`,
                'a marginal link: check the cable and the switch port counters (perfquery); schedule a replacement',
              );
            }
          }
        }
        if (!before || now - before.at >= MIN_INTERVAL_MS)
          this.prev.set(key, { at: now, counters: p.counters, active });
        ports.push({
          device: d.name,
          port: p.port,
          state: p.state,
          state_name: p.stateName,
          phys_state: p.physState,
          phys_state_name: p.physStateName,
          rate_gbps: p.rateGbps,
          link_layer: p.linkLayer,
          counters: p.counters,
          ...(rates ? { error_rates_per_hour: rates } : {}),
          expected: Boolean(exp),
          status,
          reasons,
        });
      }
    }
    for (const [key, e] of expected) {
      if (seen.has(key)) continue;
      findings.push({
        check: 'infiniband',
        severity: 'critical',
        subject: key,
        message:
          `InfiniBand ${key}: expected port not found` +
          (devices.length ? ` (present: ${[...seen].join(', ').slice(0, 200)})` : ' (no InfiniBand device)'),
        action: `check that the HCA ${e.device} is seated and its driver (mlx5_ib) is loaded`,
      });
    }
    return { ports, findings };
  }
}
