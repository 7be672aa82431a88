/** Sizes in parameters: a byte count, or "512M", "8G", "1.5T" (binary units). */
export function parseSize(v: number | string): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.floor(v) : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$/i.exec(v);
  if (!m) return null;
  const unit = (m[2] ?? 'b')[0]!.toLowerCase();
  const mult = { b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[unit as 'b' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * mult);
}

/**
 * The bytes a reservation asks for: `size` (bytes or "8G"), else `threshold` as a fraction of the
 * capacity in (0, 1]; null when neither is given, the size cannot be read, or the threshold is no
 * fraction (the design's threshold is a fraction: a threshold of 5e9 was once taken as bytes,
 * silently; now it is refused and the caller told to use size).
 */
export function reservationBytes(
  p: { size?: number | string | undefined; threshold?: number | undefined },
  capacity: number,
): number | null {
  if (p.size !== undefined) return parseSize(p.size);
  if (p.threshold === undefined || !(p.threshold > 0 && p.threshold <= 1)) return null;
  return Math.floor(p.threshold * capacity);
}

/** How a reservation's amount was asked for, said in its result ("0.1 of 16384 MB capacity"). */
export function reservationBasis(
  p: { size?: number | string | undefined; threshold?: number | undefined },
  capacity: number,
): string {
  if (p.size !== undefined) return `parameters.size ${JSON.stringify(p.size)}`;
  return `parameters.threshold ${p.threshold} of ${Math.round(capacity / 2 ** 20)} MB capacity`;
}

export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** What priority changes, in one place (documented in the README's table). */
export const PRIORITY_EFFECTS: Record<
  Priority,
  { headroomFraction: number; minFileAgeMs: number; applySettings: boolean; victims: ('leak' | 'hang' | 'largest')[] }
> = {
  low: { headroomFraction: 0.2, minFileAgeMs: 7 * 86_400_000, applySettings: false, victims: ['leak'] },
  normal: { headroomFraction: 0.1, minFileAgeMs: 86_400_000, applySettings: true, victims: ['leak', 'hang'] },
  high: { headroomFraction: 0.05, minFileAgeMs: 3600_000, applySettings: true, victims: ['leak', 'hang', 'largest'] },
  critical: { headroomFraction: 0, minFileAgeMs: 0, applySettings: true, victims: ['leak', 'hang', 'largest'] },
};
