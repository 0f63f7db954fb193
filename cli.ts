/**
 * The session-tickets command-line tool: ticket keys in each product's layout (`keygen`,
 * `convert`), tickets (`open`, `seal`), sessions (`session`, `client-session`) and a `demo`.
 *
 * Run it with `deno task cli <command>` or
 * `deno run --allow-read --allow-write cli.ts <command>` (`fleet` also needs `--allow-env` and
 * `--allow-net`); `--help` lists the commands and `<command> --help` a command's options. Every
 * failure is one `error: ...` line on standard error, naming the problem and the fix (a missing
 * permission with the flag that grants it), with exit status 1 (2 for a usage error). No command
 * replaces an existing file without `--force`, nor ever one of its inputs, and secrets go to a
 * terminal only with `--show-secrets`.
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * // Same as: deno task cli keygen --layout nginx-80 --out <dir>/ticket.key
 * const dir = await Deno.makeTempDir();
 * const code = await main(["keygen", "--layout", "nginx-80", "--out", `${dir}/ticket.key`]);
 * console.log(code); // 0
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { run } from "./src/cli/_main.ts";
import type { CliIo } from "./src/cli/_io.ts";

export type { CliIo } from "./src/cli/_io.ts";

/**
 * Runs the tool on `args` (the words after the program name) and resolves to its exit status:
 * 0 done, 1 failed, 2 usage error. Output goes to `io` (by default the process's standard
 * streams); pass capturing functions to run it in-process, as the tests do. It never throws
 * and never exits the process.
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * const out: Uint8Array[] = [];
 * let err = "";
 * const code = await main(["open", "--key", "k.bin", "--layout", "nginx-49", "t.bin"], {
 *   stdout: (b) => void out.push(b.slice()),
 *   stderr: (t) => void (err += t),
 * });
 * console.log(code); // 2
 * console.log(err); // error: unknown layout "nginx-49"; valid layouts: gcm, openssl-80, ...
 * ```
 *
 * @param args Command-line arguments, e.g. `["open", "--key", "k", "--layout", "nginx-80", "t"]`.
 * @param io Replacements for standard output, standard error and standard input.
 * @returns The exit status.
 */
export function main(args: readonly string[], io?: Partial<CliIo>): Promise<number> {
  return run(args, io);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
