/** The CLI's machine-readable output; the human formatters live in util/format.ts. */

/** Writes JSON to stdout (the CLI's machine-readable output). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
