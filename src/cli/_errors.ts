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

/** What each Deno permission lets the tool do, for messages. */
const PERMISSION_WORDS: Record<string, string> = {
  read: "read",
  write: "write",
  env: "read the environment variable",
  net: "connect to",
};

/** Deno's wording: `Requires env access to "NAME", run again with the --allow-env flag`. */
const DENO_PERMISSION = /Requires ([a-z]+) access(?: to ("(?:[^"\\]|\\.)*"|[^,]+))?,/;

/**
 * The error a missing Deno permission ends in, naming the permission and the flag that grants
 * it, or `null` when `e` is no such failure. It finds Deno's `NotCapable` error anywhere in
 * `e`'s `cause` chain, and Deno's wording inside another error's message (the fleet's stores and
 * key-encryption key loader put it in theirs).
 *
 * @example
 * ```ts
 * import { permissionError } from "./_errors.ts";
 * const e = new Deno.errors.NotCapable(
 *   'Requires env access to "SESSION_TICKETS_KEK", run again with the --allow-env flag',
 * );
 * console.log(permissionError(e)?.message);
 * // no permission to read the environment variable SESSION_TICKETS_KEK; run with deno run --allow-env (deno task cli does)
 * ```
 *
 * @param e A thrown value.
 * @returns The one-line error, or `null`.
 */
export function permissionError(e: unknown): CliError | null {
  const seen = new Set<unknown>();
  for (let x = e; x instanceof Error && !seen.has(x); x = x.cause) {
    seen.add(x);
    const m = DENO_PERMISSION.exec(x.message);
    if (m !== null) return missingPermission(m[1], m[2]);
    if (x instanceof Deno.errors.NotCapable) {
      return new CliError(
        `no permission: ${x.message.split("\n")[0]}; grant it with the deno run flag it names`,
      );
    }
  }
  return null;
}

function missingPermission(kind: string, quoted: string | undefined): CliError {
  let target = quoted;
  if (target?.startsWith('"')) {
    try {
      target = JSON.parse(target) as string;
    } catch {
      // Keep the quotes.
    }
  }
  const verb = PERMISSION_WORDS[kind] ?? `use ${kind} access to`;
  const what = target !== undefined ? `${verb} ${target}` : `use ${kind} access`;
  const task = Object.hasOwn(PERMISSION_WORDS, kind) ? " (deno task cli does)" : "";
  return new CliError(`no permission to ${what}; run with deno run --allow-${kind}${task}`);
}
