/** Errors that end the CLI with a specific exit code and a one-line message (no stack). */

/** sysexits.h EX_CONFIG: a configuration error. systemd units list it in RestartPreventExitStatus=. */
export const EX_CONFIG = 78;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
