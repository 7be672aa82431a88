/**
 * What only a full check does: scan the process table (off the JS thread; CPU shares since the
 * previous scan), run the due probes, and run the node checks (InfiniBand, mounts, daemons,
 * zombies, descriptors, the operators' own checks) over that scan and the check's GPU sample.
 */
import type { NodeChecker, NodeChecksReport } from '../node-checks/node-checker.js';
import { createProcessTable, type ProcessTable } from '../readers/processes.js';
import type { ProcessScanOptions } from '../native.js';
import type { Clock } from '../util/clock.js';
import { CpuShares } from './cpu-shares.js';
import { topProcesses } from './metrics.js';
import type { ProbeRunner } from './probes.js';

export interface NodeSurveyReport {
  processes: ReturnType<typeof topProcesses>;
  nodeChecks: NodeChecksReport;
}

export class NodeSurvey {
  private readonly cpuShares = new CpuShares();

  constructor(
    private readonly nodeChecks: NodeChecker,
    private readonly probes: ProbeRunner,
    private readonly clock: Clock,
    /** The process table; when absent one is made on first use, so that constructing never loads the addon. */
    private processTable: Pick<ProcessTable, 'scanAsync'> | undefined,
  ) {}

  /**
   * `gpus`: the check's GPU sample as the node checks take it (asked when they run, after the
   * probes); `progress` is told after each stage.
   */
  async run(gpus: () => Parameters<NodeChecker['run']>[1], progress: (msg: string) => void): Promise<NodeSurveyReport> {
    this.processTable ??= createProcessTable();
    const opts: ProcessScanOptions = { status: true, ...(this.nodeChecks.needsCmdline ? { cmdline: true } : {}) };
    const table = await this.processTable.scanAsync(opts);
    const processes = topProcesses(table, this.cpuShares.update(table, this.clock.now()));
    progress('processes scanned');
    await this.probes.runDue();
    progress('probes run');
    const nodeChecks = await this.nodeChecks.run(table, gpus());
    progress('node checked');
    return { processes, nodeChecks };
  }
}
