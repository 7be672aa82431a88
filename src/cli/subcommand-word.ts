/**
 * The subcommand a command line names: the first word that is not an option (the top level has no
 * option that takes a value). Read before anything else loads, by bin/overnight.js (V8 flags must be
 * set before code runs) and by main() (only that subcommand's file is imported).
 */
export function subcommandWord(argv: readonly string[]): string | undefined {
  const at = argv.findIndex((a) => !a.startsWith('-'));
  // `overnight help health` needs health's options, like `overnight health --help`.
  return argv[at] === 'help' ? argv[at + 1] : argv[at];
}
