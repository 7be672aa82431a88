import { describe, expect, it } from 'vitest';
import { decideSlurm, parseShowNode, slurmNodeName, type SlurmNodeState } from '../../src/health/slurm.js';

// One line of `scontrol show node -o` from slurm-wlm 22.05 (trimmed in the middle).
const LINE =
  'NodeName=ovn-node-1 Arch=x86_64 CoresPerSocket=1  CPUAlloc=0 CPUEfctv=1 NodeAddr=127.0.0.1 NodeHostName=vm ' +
  'Version=22.05.8 RealMemory=1000 State=IDLE+DRAIN ThreadsPerCore=1 ExtSensorsTemp=n/s Reason=admin: bad ' +
  'fan [root@2026-11-27T10:02:31]';

describe('Slurm node state (NHC conventions)', () => {
  it('parses scontrol show node -o: state flags, and the reason without [user@time]', () => {
    expect(parseShowNode(LINE)).toEqual({ name: 'ovn-node-1', state: ['IDLE', 'DRAIN'], reason: 'admin: bad fan' });
    expect(parseShowNode('NodeName=n1 State=IDLE ThreadsPerCore=1')).toEqual({
      name: 'n1',
      state: ['IDLE'],
      reason: null,
    });
    expect(() => parseShowNode('Node n1 not found')).toThrow(/no NodeName\/State in "Node n1 not found"/);
  });

  it('names the node by $SLURMD_NODENAME first, the short host name otherwise', () => {
    expect(slurmNodeName({ SLURMD_NODENAME: 'gpu-017' })).toBe('gpu-017');
    expect(slurmNodeName({})).not.toContain('.');
  });

  const node = (state: string, reason: string | null): SlurmNodeState => ({
    name: 'n',
    state: state.split('+'),
    reason,
  });
  const R = 'overnight: GPU 0: lost';
  it('drains a node in service that fails, with our reason', () => {
    expect(decideSlurm(node('IDLE', null), true, R, true)).toEqual({ act: 'drain', reason: R });
    expect(decideSlurm(node('ALLOCATED', null), true, R, true)).toEqual({ act: 'drain', reason: R });
  });
  it('leaves a drain (or down) with another reason alone, failing or passing', () => {
    expect(decideSlurm(node('IDLE+DRAIN', 'admin: bad fan'), true, R, true).act).toBe('none');
    expect(decideSlurm(node('IDLE+DRAIN', 'admin: bad fan'), false, R, true).act).toBe('none');
    expect(decideSlurm(node('DOWN', 'Not responding'), false, R, true).act).toBe('none');
  });
  it('updates our own reason when it changes, and does nothing when it is the same', () => {
    expect(decideSlurm(node('IDLE+DRAIN', 'overnight: memory'), true, R, true)).toEqual({ act: 'drain', reason: R });
    expect(decideSlurm(node('IDLE+DRAIN', R), true, R, true).act).toBe('none');
  });
  it('resumes a node we drained once the check passes, unless resume is off', () => {
    expect(decideSlurm(node('IDLE+DRAIN', R), false, R, true).act).toBe('resume');
    expect(decideSlurm(node('MIXED+DRAIN', R), false, R, true).act).toBe('resume');
    expect(decideSlurm(node('IDLE+DRAIN', R), false, R, false).act).toBe('none');
    expect(decideSlurm(node('IDLE', null), false, R, true).act).toBe('none');
  });
});
