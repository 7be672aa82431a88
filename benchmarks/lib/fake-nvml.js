// The fake libnvidia-ml.so.1, built exactly as the tests build it (one definition:
// test/fixtures/fake-nvml/build.mjs), so a benchmark on a machine without a driver needs no earlier `npm test`.
import { buildFakeNvmlVariants } from '../../test/fixtures/fake-nvml/build.mjs';

/** The full variant's path, compiled when missing or older than its sources. */
export function buildFakeNvml() {
  return buildFakeNvmlVariants().full;
}
