/** Builds a fake sysfs InfiniBand tree in a temp dir (as node_exporter's fixtures do). */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface FakeIbPort {
  state?: string;
  physState?: string;
  rate?: string;
  linkLayer?: string;
  counters?: Record<string, number | string>;
}

export const ACTIVE: FakeIbPort = {
  state: '4: ACTIVE',
  physState: '5: LinkUp',
  rate: '200 Gb/sec (4X HDR)',
  linkLayer: 'InfiniBand',
};

export function makeSysfsRoot(): string {
  return mkdtempSync(path.join(tmpdir(), 'overnight-sysfs-'));
}

/** Writes (or rewrites) <root>/class/infiniband/<device>/ports/<port>/... */
export function writeIbPort(root: string, device: string, port: number, p: FakeIbPort): void {
  const dev = path.join(root, 'class/infiniband', device);
  const dir = path.join(dev, 'ports', String(port));
  mkdirSync(path.join(dir, 'counters'), { recursive: true });
  writeFileSync(path.join(dev, 'board_id'), `MT_0000000223\n`);
  writeFileSync(path.join(dev, 'fw_ver'), `28.39.1002\n`);
  writeFileSync(path.join(dev, 'hca_type'), `MT4123\n`);
  if (p.state !== undefined) writeFileSync(path.join(dir, 'state'), `${p.state}\n`);
  if (p.physState !== undefined) writeFileSync(path.join(dir, 'phys_state'), `${p.physState}\n`);
  if (p.rate !== undefined) writeFileSync(path.join(dir, 'rate'), `${p.rate}\n`);
  if (p.linkLayer !== undefined) writeFileSync(path.join(dir, 'link_layer'), `${p.linkLayer}\n`);
  const counters = {
    symbol_error: 0,
    link_downed: 0,
    link_error_recovery: 0,
    port_rcv_errors: 0,
    excessive_buffer_overrun_errors: 0,
    port_rcv_data: 1000,
    port_xmit_data: 2000,
    ...p.counters,
  };
  for (const [k, v] of Object.entries(counters)) writeFileSync(path.join(dir, 'counters', k), `${v}\n`);
}
