/** What the node checks report: typed sections and one list of findings that decide the status. */

export type FindingSeverity = 'critical' | 'degraded';

/** One problem a node check found; critical ones fail the node (health --nhc drains it). */
export interface NodeFinding {
  /**
   * Which check: "infiniband", "mount", "service", "unauthorized_user", "zombies", "file_descriptors", "check:<name>"
   */
  check: string;
  severity: FindingSeverity;
  /** What it is about: "mlx5_0/1", "/scratch", "nvidia-persistenced", ... */
  subject: string;
  message: string;
  /** What an operator should do about it. */
  action?: string;
}

/** A part that could not be looked at says why, as the GPU layer does. */
export interface Unavailable {
  available: false;
  reason: string;
  code?: string;
}
