/**
 * Private: the command-line tool's error type. Every expected failure ends in a `CliError`,
 * printed as one `error: ...` line (the problem, then the fix) with its exit status.
 *
 * @module
 */

/**
 * Exit status for a failed command (bad input file, wrong key, ticket that does not open).
 *
 * @example
 * ```ts
 * import { EXIT_FAILURE } from "./_errors.ts";
 * console.log(EXIT_FAILURE); // 1
 * ```
 */
export const EXIT_FAILURE = 1;
/**
 * Exit status for a malformed command line (unknown option or layout, missing argument).
 *
 * @example
 * ```ts
 * import { EXIT_USAGE } from "./_errors.ts";
 * console.log(EXIT_USAGE); // 2
 * ```
 */
export const EXIT_USAGE = 2;

/**
 * An expected command-line failure: a one-line message (problem; fix) and an exit status.
 *
 * @example
 * ```ts
 * import { CliError, EXIT_USAGE } from "./_errors.ts";
 * const e = new CliError("unknown command \"x\"; run with --help", EXIT_USAGE);
 * console.log(e.exitCode); // 2
 * ```
 */
export class CliError extends Error {
  /** The process exit status: {@link EXIT_FAILURE} or {@link EXIT_USAGE}. */
  readonly exitCode: number;
  /**
   * Creates a command-line error.
   *
   * @param message One line: the problem, then how to fix it.
   * @param exitCode 1 (default) or 2 for usage errors.
   */
  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/**
 * A usage error (exit status 2).
 *
 * @example
 * ```ts
 * import { usageError } from "./_errors.ts";
 * console.log(usageError("open needs --key FILE; see open --help").exitCode); // 2
 * ```
 *
 * @param message One line: the problem, then how to fix it.
 * @returns The error, to throw.
 */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}
