/**
 * Private: a small command-line parser (`--name value`, `--name=value`, boolean switches,
 * `-` for standard input/output, `--` to end options).
 *
 * @module
 */

import { usageError } from "./_errors.ts";

/**
 * The options one command accepts: each name maps to `"string"`, `"strings"` (repeatable) or
 * `"boolean"`.
 */
export type OptionSpec = Record<string, "string" | "strings" | "boolean">;

/** Parsed arguments: option values by name and the positional arguments in order. */
export interface ParsedArgs {
  /** `string` for "string" options, `string[]` for "strings", `true` for switches given. */
  options: Record<string, string | string[] | boolean | undefined>;
  /** Arguments that are not options (a lone `-` is positional). */
  positionals: string[];
}

/**
 * Parses `args` against `spec`. `-h` is `--help`. Throws a usage error (exit 2) for an unknown
 * option, a missing value, a value given to a switch, or a single-valued option given twice.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./_args.ts";
 * const p = parseArgs("open", ["--layout=nginx-80", "--hex", "t.hex"], { layout: "string", hex: "boolean" });
 * console.log(p.options.layout, p.options.hex, p.positionals); // "nginx-80" true ["t.hex"]
 * ```
 *
 * @param command The command name, for messages.
 * @param args The arguments after the command name.
 * @param spec The options the command accepts (`help` is always accepted).
 * @returns Options and positionals.
 */
export function parseArgs(command: string, args: readonly string[], spec: OptionSpec): ParsedArgs {
  const all: OptionSpec = { help: "boolean", ...spec };
  const options: ParsedArgs["options"] = {};
  const positionals: string[] = [];
  const where = command === "" ? "" : ` for ${command}`;
  const helpRef = command === "" ? "--help" : `${command} --help`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      options.help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-") {
        throw usageError(`unknown option ${arg}${where}; see ${helpRef}`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = Object.hasOwn(all, name) ? all[name] : undefined;
    if (kind === undefined) throw usageError(`unknown option --${name}${where}; see ${helpRef}`);
    if (kind === "boolean") {
      if (eq >= 0) {
        throw usageError(`option --${name} takes no value; drop "=${arg.slice(eq + 1)}"`);
      }
      options[name] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw usageError(`option --${name} needs a value; see ${helpRef}`);
      value = args[++i];
    }
    if (kind === "strings") {
      const list = (options[name] as string[] | undefined) ?? [];
      list.push(value);
      options[name] = list;
    } else {
      if (options[name] !== undefined) {
        throw usageError(`option --${name} is given twice; give it once`);
      }
      options[name] = value;
    }
  }
  return { options, positionals };
}
