/** GPU series collected from the monitor's last GPU sample, which is a quick one most cycles. */
import { describe, expect, it } from 'vitest';
import { OvernightMetrics } from '../../src/metrics/prometheus.js';
import type { GpuDeviceSample } from '../../src/native.js';

const full = {
  index: 0,
  uuid: 'GPU-0',
  name: 'Fake H100',
  temperatureC: 50,
  utilization: { gpu: 0.5, memory: 0.1 },
  memory: { used: 2 ** 30, free: 2 ** 30, total: 2 ** 31 },
  pcieReplayCounter: 7,
  eccUncorrectedVolatile: 0,
  eccCorrectedVolatile: 3,
  remappedRows: { correctable: 0, uncorrectable: 0, pending: false, failure: false },
  lost: false,
  errors: {},
} as unknown as GpuDeviceSample;
/** A quick sample reads memory, utilization and temperature only: the other fields are absent. */
const quick = {
  index: 0,
  uuid: 'GPU-0',
  name: 'Fake H100',
  temperatureC: 51,
  utilization: { gpu: 0.6, memory: 0.1 },
  memory: full.memory,
  lost: false,
  errors: {},
} as unknown as GpuDeviceSample;

const series = (text: string, name: string) => new RegExp(`^${name}\\{gpu="0",[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1];

describe('GPU metrics', () => {
  it('a quick sample does not make the counters it did not read vanish; the last Xid reads 0 without one', async () => {
    let xids = new Map([[0, 48]]);
    const m = new OvernightMetrics({ lastXids: () => xids });
    m.updateGpus([full]);
    expect(series(await m.text(), 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER')).toBe('7');
    expect(series(await m.text(), 'DCGM_FI_DEV_XID_ERRORS')).toBe('48');
    xids = new Map();
    m.updateGpus([quick]);
    const text = await m.text();
    expect(series(text, 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER')).toBe('7');
    expect(series(text, 'DCGM_FI_DEV_ECC_SBE_VOL_TOTAL')).toBe('3');
    expect(series(text, 'DCGM_FI_DEV_ROW_REMAP_FAILURE')).toBe('0');
    expect(series(text, 'DCGM_FI_DEV_GPU_TEMP')).toBe('51');
    expect(series(text, 'DCGM_FI_DEV_XID_ERRORS')).toBe('0');
  });
});
