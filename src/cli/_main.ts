/**
 * Private: the command dispatcher behind `cli.ts`'s `main`.
 *
 * @module
 */

import { DerError } from "../der/errors.ts";
import { FleetConfigError } from "../fleet/errors.ts";
import { TicketKeyError } from "../ticket/errors.ts";
import { CliError, EXIT_FAILURE, EXIT_USAGE, permissionError } from "./_errors.ts";
import { type CliIo, resolveIo, utf8 } from "./_io.ts";
import { helpText } from "./_help.ts";
import { convert, keygen } from "./_keys.ts";
import { clientSessionCommand, openCommand, sealCommand, sessionCommand } from "./_commands.ts";
import { demo } from "./_demo.ts";
import { fleetCommand } from "./_fleet.ts";
import { serveCommand } from "./_serve.ts";

type Command = (args: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  keygen: async (a, io) => (await keygen(a, io), 0),
  convert: async (a, io) => (await convert(a, io), 0),
  open: openCommand,
  seal: sealCommand,
  session: sessionCommand,
  "client-session": clientSessionCommand,
  demo,
  fleet: fleetCommand,
  serve: serveCommand,
};

const COMMAND_LIST = Object.keys(COMMANDS).join(", ");

function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

/**
 * Runs one command line: dispatches to the command, prints help, and turns every expected
 * failure into one `error: ...` line on standard error with exit status 1 (2 for usage errors);
 * a missing Deno permission is named with the flag that grants it.
 *
 * @example
 * ```ts
 * import { run } from "./_main.ts";
 * let err = "";
 * const code = await run(["frobnicate"], { stdout: () => {}, stderr: (t) => void (err += t) });
 * console.log(code, err.startsWith("error: unknown command")); // 2 true
 * ```
 *
 * @param args The arguments after the program name.
 * @param ioParts Replacements for the standard streams.
 * @returns The exit status.
 */
export async function run(args: readonly string[], ioParts: Partial<CliIo> = {}): Promise<number> {
  const io = resolveIo(ioParts);
  try {
    const [command, ...rest] = args;
    if (command === undefined) {
      throw new CliError(
        `no command given; commands: ${COMMAND_LIST}; run with --help`,
        EXIT_USAGE,
      );
    }
    if (command === "--help" || command === "-h" || command === "help") {
      const topic = command === "help" ? rest[0] ?? "" : "";
      if (topic !== "" && !Object.hasOwn(COMMANDS, topic)) {
        throw new CliError(
          `unknown command "${topic}"; commands: ${COMMAND_LIST}`,
          EXIT_USAGE,
        );
      }
      await io.stdout(utf8(helpText(topic)));
      return 0;
    }
    if (!Object.hasOwn(COMMANDS, command)) {
      throw new CliError(
        `unknown command "${command}"; commands: ${COMMAND_LIST}; run with --help`,
        EXIT_USAGE,
      );
    }
    if (wantsHelp(rest)) {
      await io.stdout(utf8(helpText(command)));
      return 0;
    }
    return await COMMANDS[command](rest, io);
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) return EXIT_FAILURE;
    let line: string;
    let code = EXIT_FAILURE;
    const denied = permissionError(e);
    if (denied !== null) {
      // A permission Deno did not grant, however deep a lower layer wrapped it.
      line = denied.message;
    } else if (e instanceof CliError) {
      line = e.message;
      code = e.exitCode;
    } else if (
      e instanceof TicketKeyError || e instanceof DerError || e instanceof FleetConfigError
    ) {
      line = e.message;
    } else {
      const what = e instanceof Error ? `${e.name}: ${e.message.split("\n")[0]}` : String(e);
      line = `unexpected ${what}; this is a bug: please report it with the command line`;
    }
    try {
      await io.stderr(`error: ${line}\n`);
    } catch {
      // Standard error is gone too; the exit status still tells.
    }
    return code;
  }
}
