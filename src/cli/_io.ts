/**
 * Private: the tool's input and output: standard streams (replaceable for tests), files, and hex.
 *
 * @module
 */

import { CliError, EXIT_USAGE } from "./_errors.ts";

/**
 * Where the tool reads and writes. `main` takes a partial one; the missing parts are the
 * process's own standard streams.
 */
export interface CliIo {
  /** Writes bytes to standard output. The tool may zero them (key material) once it returns. */
  stdout(bytes: Uint8Array): void | Promise<void>;
  /** Writes text (already ending in a newline) to standard error. */
  stderr(text: string): void | Promise<void>;
  /** Reads all of standard input. The tool may zero the bytes (key material) after use. */
  stdin(): Promise<Uint8Array>;
  /**
   * Whether standard output is a terminal, where binary output (keys, tickets) is refused and
   * secrets (keys, master keys) are printed only with `--show-secrets`. Default:
   * `Deno.stdout.isTerminal()` for the process's stream, `false` when `stdout` is given.
   */
  stdoutIsTerminal: boolean;
}

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.length) off += await w.write(bytes.subarray(off));
}

/**
 * The process's own standard streams, with any parts of `io` put in their place.
 *
 * @example
 * ```ts
 * import { resolveIo } from "./_io.ts";
 * const io = resolveIo({ stdout: () => {} });
 * console.log(io.stdoutIsTerminal); // false
 * ```
 *
 * @param io Replacements (tests pass capturing functions).
 * @returns A complete `CliIo`.
 */
export function resolveIo(io: Partial<CliIo> = {}): CliIo {
  const enc = new TextEncoder();
  return {
    stdout: io.stdout ?? ((b) => writeAll(Deno.stdout, b)),
    stderr: io.stderr ?? ((t) => writeAll(Deno.stderr, enc.encode(t))),
    stdin: io.stdin ??
      (async () => new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer())),
    stdoutIsTerminal: io.stdoutIsTerminal ??
      (io.stdout === undefined ? safeIsTerminal() : false),
  };
}

function safeIsTerminal(): boolean {
  try {
    return Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}

function describeFsError(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (e instanceof Deno.errors.AlreadyExists) return "it already exists";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

function notCapable(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable;
}

/**
 * Reads a file, or standard input for `-`.
 *
 * @example
 * ```ts
 * import { readSource, resolveIo } from "./_io.ts";
 * const io = resolveIo({ stdin: () => Promise.resolve(new Uint8Array([1])) });
 * console.log(await readSource("-", "ticket", io)); // Uint8Array [ 1 ]
 * ```
 *
 * @param path A file name or `-`.
 * @param role What the file is ("key file", "ticket", ...), for messages.
 * @param io Standard streams.
 * @returns The bytes.
 * @throws {CliError} When the file cannot be read, naming it and why.
 */
export async function readSource(path: string, role: string, io: CliIo): Promise<Uint8Array> {
  if (path === "-") return await io.stdin();
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (notCapable(e)) {
      throw new CliError(
        `no permission to read ${role} ${path}; run with deno run --allow-read (deno task cli does)`,
      );
    }
    const why = describeFsError(e);
    throw new CliError(
      `cannot read ${role} ${path}: ${why}; ${
        why === "no such file" ? "check the path" : "check the path and its permissions"
      }`,
    );
  }
}

/** Options for {@link writeSink}. */
export interface WriteOptions {
  /**
   * The output holds secrets (a key, a master key): files get mode 0600, and a terminal gets
   * it only with `showSecrets`.
   */
  secret?: boolean;
  /** `--show-secrets` was given: secret output may go to a terminal. */
  showSecrets?: boolean;
  /** `--force` was given: an existing file is replaced (without it, the command refuses). */
  force?: boolean;
  /** The output is binary (refused on a terminal). */
  binary?: boolean;
  /** The output is a ticket key: replacing a file says its tickets stop opening. */
  key?: boolean;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Writes output to a file, or to standard output when `path` is `undefined` or `-`. An existing
 * file is never replaced without `force`; binary output never goes to a terminal, and secret
 * output only with `showSecrets`.
 *
 * @example
 * ```ts
 * import { resolveIo, writeSink } from "./_io.ts";
 * let n = 0;
 * await writeSink(undefined, new Uint8Array(3), "ticket", resolveIo({ stdout: (b) => void (n = b.length) }));
 * console.log(n); // 3
 * ```
 *
 * @param path A file name, `-` or `undefined`.
 * @param bytes The output.
 * @param role What the output is, for messages.
 * @param io Standard streams.
 * @param options Secrecy, overwrite and binary handling.
 * @throws {CliError} When the file exists (without `force`) or cannot be written, or the output
 * would go to a terminal that must not get it.
 */
export async function writeSink(
  path: string | undefined,
  bytes: Uint8Array,
  role: string,
  io: CliIo,
  options: WriteOptions = {},
): Promise<void> {
  if (path === undefined || path === "-") {
    if (options.binary && io.stdoutIsTerminal) {
      throw new CliError(
        `refusing to write a binary ${role} to the terminal; pass --out FILE, redirect with > FILE, or use --hex`,
      );
    }
    if (options.secret && !options.showSecrets && io.stdoutIsTerminal) {
      throw new CliError(
        `refusing to print the ${role} to the terminal: it holds secret key material; pass --out FILE, redirect with > FILE, or pass --show-secrets to print it`,
      );
    }
    await io.stdout(bytes);
    return;
  }
  try {
    await Deno.writeFile(path, bytes, {
      mode: options.secret ? 0o600 : 0o644,
      createNew: options.force !== true,
    });
  } catch (e) {
    if (notCapable(e)) {
      throw new CliError(
        `no permission to write ${role} ${path}; run with deno run --allow-write (deno task cli does)`,
      );
    }
    if (await isDirectory(path)) {
      throw new CliError(`${path} is a directory; give --out a file name`);
    }
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new CliError(
        `${path} already exists; pass --force to overwrite it${
          options.key ? " (tickets sealed under the key it holds will stop opening)" : ""
        }`,
      );
    }
    throw new CliError(`cannot write ${role} ${path}: ${describeFsError(e)}; check the path`);
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
    return sa.ino !== null && sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * Refuses an `--out` file that is one of the command's inputs (the same name, or the same file
 * by another name or link), even with `--force`: a command never replaces what it reads.
 *
 * @example
 * ```ts
 * import { refuseInputAsOutput } from "./_io.ts";
 * await refuseInputAsOutput("s.json", [{ path: "s.json", role: "session" }])
 *   .catch((e) => console.log(e.message));
 * // --out s.json is the session s.json: an input is never its own output; write to another file
 * ```
 *
 * @param out The `--out` value (`undefined` or `-` for standard output).
 * @param inputs The command's input files and what each is (`-` and `undefined` are skipped).
 * @throws {CliError} A usage error naming the output and the input.
 */
export async function refuseInputAsOutput(
  out: string | undefined,
  inputs: readonly { path: string | undefined; role: string }[],
): Promise<void> {
  if (out === undefined || out === "-") return;
  for (const { path, role } of inputs) {
    if (path === undefined || path === "-") continue;
    if (path === out || await sameFile(path, out)) {
      throw new CliError(
        `--out ${out} is the ${role} ${path}: an input is never its own output; write to another file`,
        EXIT_USAGE,
      );
    }
  }
}

const HEX_DIGIT = /^[0-9a-fA-F]$/;

/**
 * Decodes hex text (any case; whitespace, including line breaks, ignored).
 *
 * @example
 * ```ts
 * import { parseHex } from "./_io.ts";
 * console.log(parseHex("c0 30\n", "cipher")); // Uint8Array [ 192, 48 ]
 * ```
 *
 * @param text The hex text.
 * @param what What it is, for messages (e.g. "ticket t.hex").
 * @returns The bytes.
 * @throws {CliError} Naming the first bad character's offset, or an odd digit count.
 */
export function parseHex(text: string, what: string): Uint8Array {
  let digits = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === " " || c === "\n" || c === "\r" || c === "\t") continue;
    if (!HEX_DIGIT.test(c)) {
      throw new CliError(
        `${what} is not valid hex (character ${i + 1} is not a hex digit); give hex digits only`,
      );
    }
    digits += c;
  }
  if (digits.length % 2 !== 0) {
    throw new CliError(
      `${what} is not valid hex (odd number of digits: ${digits.length}); check for a missing digit`,
    );
  }
  return Uint8Array.fromHex(digits);
}

/**
 * Decodes bytes that should be hex text (see {@link parseHex}).
 *
 * @example
 * ```ts
 * import { parseHexBytes } from "./_io.ts";
 * console.log(parseHexBytes(new TextEncoder().encode("ff\n"), "ticket")); // Uint8Array [ 255 ]
 * ```
 *
 * @param bytes The file contents.
 * @param what What it is, for messages.
 * @returns The decoded bytes.
 * @throws {CliError} For non-UTF-8 input or bad hex.
 */
export function parseHexBytes(bytes: Uint8Array, what: string): Uint8Array {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CliError(`${what} is not valid hex (it is binary); drop --hex for a binary file`);
  }
  return parseHex(text, what);
}

/**
 * Whether `bytes` look like hex text (only hex digits and whitespace, an even digit count, at
 * least two digits).
 *
 * @example
 * ```ts
 * import { looksLikeHex } from "./_io.ts";
 * console.log(looksLikeHex(new TextEncoder().encode("00ff\n"))); // true
 * ```
 *
 * @param bytes Candidate text.
 * @returns True when it parses as hex.
 */
export function looksLikeHex(bytes: Uint8Array): boolean {
  let digits = 0;
  for (const b of bytes) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    const isHex = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
    if (!isHex) return false;
    digits++;
  }
  return digits >= 2 && digits % 2 === 0;
}

/**
 * UTF-8 bytes of `text`.
 *
 * @example
 * ```ts
 * import { utf8 } from "./_io.ts";
 * console.log(utf8("hi").length); // 2
 * ```
 *
 * @param text Text.
 * @returns Its UTF-8 encoding.
 */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
