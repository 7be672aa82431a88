/**
 * Whose cgroup the memory threshold judges. Under a systemd unit the monitor's own cgroup is the
 * monitor's (with its own MemoryMax), not the agent's; the agent dies at the agent's cgroup limit.
 * So: watch.cgroup when given, else the scope root's cgroup, else policy.scopeUnit, else our own
 * (the implicit case: the agent runner is our parent, normally in the same cgroup).
 */
import type { OvernightConfig } from '../config/schema.js';
import { memberOf, parseCgroupSelector, type CgroupSelector } from '../readers/cgroup-membership.js';
import { existsSync } from 'node:fs';

/** pid: read the cgroup through this member process; error: the named cgroup cannot be read now. */
export type WatchedCgroup = { pid: number; from: string } | { error: string; from: string } | null;

export class WatchedCgroupResolver {
  private readonly sel: { sel: CgroupSelector; from: string; text: string } | null;
  private readonly root: number | undefined;
  private cached: number | null = null;

  constructor(config: Pick<OvernightConfig, 'watch' | 'policy'>) {
    const { cgroup } = config.watch;
    const { scopeRoot, scopeUnit } = config.policy;
    this.root = cgroup === undefined ? scopeRoot : undefined;
    if (cgroup !== undefined)
      this.sel = { sel: parseCgroupSelector(cgroup, 'watch.cgroup'), from: 'watch.cgroup', text: cgroup };
    else if (scopeRoot === undefined && scopeUnit !== undefined)
      this.sel = { sel: parseCgroupSelector(scopeUnit, 'policy.scopeUnit'), from: 'policy.scopeUnit', text: scopeUnit };
    else this.sel = null;
  }

  /** Whether a cgroup other than this process's own is judged. */
  get configured(): boolean {
    return this.sel !== null || this.root !== undefined;
  }

  /** Called before each sample: the member pid is kept while it lives, looked up again when it exits. */
  resolve(): WatchedCgroup {
    if (this.root !== undefined) {
      return existsSync(`/proc/${this.root}`)
        ? { pid: this.root, from: 'policy.scopeRoot' }
        : { error: `policy.scopeRoot pid ${this.root} is not running`, from: 'policy.scopeRoot' };
    }
    if (!this.sel) return null;
    if (this.cached === null || !existsSync(`/proc/${this.cached}`)) this.cached = memberOf(this.sel.sel);
    if (this.cached === null)
      return {
        error: `${this.sel.from} ${this.sel.text}: no process in that cgroup (is the agent running?)`,
        from: this.sel.from,
      };
    return { pid: this.cached, from: this.sel.from };
  }
}
