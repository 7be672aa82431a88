/**
 * The Theil–Sen slope: the median of the pairwise slopes, exactly as quantile(slopes, 0.5) computes
 * it, without sorting them. The leak detector judges up to 120 points per process (7,140 pairs), twice
 * per verdict, for every watched process at each watch interval: sorting a fresh array of boxed
 * numbers each time was most of the detector's cost and garbage. Here the pairs go into one reused
 * Float64Array and the median is found by selection (expected linear time). Main thread only.
 */
let scratch = new Float64Array(0);

/** Rearranges a[0..n) so that a[k] is the k-th smallest, everything before it ≤ and after it ≥ (Hoare). */
function select(a: Float64Array, n: number, k: number): void {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    // Median of three as the pivot: sorted or reversed input (a steady leak) stays linear.
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** The median pairwise slope of (xs, ys) over pairs with distinct x; 0 when there is none. */
export function medianPairwiseSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  // A flat series (an idle process's RSS, most of a node's processes) has every pairwise slope 0.
  let flat = true;
  for (let i = 1; i < n && flat; i++) if (ys[i] !== ys[0]) flat = false;
  if (flat) return 0;
  const pairs = (n * (n - 1)) / 2;
  if (scratch.length < pairs) scratch = new Float64Array(pairs);
  const a = scratch;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const xi = xs[i]!;
    const yi = ys[i]!;
    for (let j = i + 1; j < n; j++) if (xs[j]! !== xi) a[m++] = (ys[j]! - yi) / (xs[j]! - xi);
  }
  if (m === 0) return 0;
  // As quantile(s, 0.5) on the sorted slopes: s[lo] + (s[hi] - s[lo]) * (pos - lo).
  const pos = (m - 1) * 0.5;
  const lo = Math.floor(pos);
  select(a, m, lo);
  const sLo = a[lo]!;
  if (pos === lo) return sLo;
  let sHi = Infinity;
  for (let i = lo + 1; i < m; i++) if (a[i]! < sHi) sHi = a[i]!;
  return sLo + (sHi - sLo) * (pos - lo);
}
