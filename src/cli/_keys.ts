/**
 * Private: ticket key files for the command-line tool: layout names, loading a key file with
 * messages that name the fix, and the `keygen` and `convert` commands.
 *
 * @module
 */

import { TicketKeyError } from "../ticket/errors.ts";
import {
  parseTicketKeyLayout,
  TICKET_KEY_LAYOUTS,
  TicketKey,
  type TicketKeyLayout,
} from "../ticket/ticket_key.ts";
import { parseArgs, type ParsedArgs } from "./_args.ts";
import { CliError, usageError } from "./_errors.ts";
import {
  type CliIo,
  looksLikeHex,
  parseHexBytes,
  readSource,
  refuseInputAsOutput,
  utf8,
  writeSink,
} from "./_io.ts";

/**
 * Every layout name, in the order the help lists them.
 *
 * @example
 * ```ts
 * import { LAYOUT_NAMES } from "./_keys.ts";
 * console.log(LAYOUT_NAMES.includes("nginx-80")); // true
 * ```
 */
export const LAYOUT_NAMES: readonly TicketKeyLayout[] = Object.keys(
  TICKET_KEY_LAYOUTS,
) as TicketKeyLayout[];

/**
 * How many of the last lines of a HAProxy key file HAProxy uses (`TLS_TICKETS_NO`, default 3);
 * the penultimate of them seals.
 *
 * @example
 * ```ts
 * import { HAPROXY_TICKETS_NO } from "./_keys.ts";
 * console.log(HAPROXY_TICKETS_NO); // 3
 * ```
 */
export const HAPROXY_TICKETS_NO = 3;

/**
 * Checks a `--layout`-style option value.
 *
 * @example
 * ```ts
 * import { parseLayout } from "./_keys.ts";
 * console.log(parseLayout("nginx-48", "--layout", "open")); // "nginx-48"
 * ```
 *
 * @param value The option value (undefined when the option is missing).
 * @param option The option name, for messages (`--layout`, `--from`, `--to`).
 * @param command The command, for messages.
 * @returns The layout.
 * @throws {CliError} A usage error for a missing or unknown layout, listing the valid ones.
 */
export function parseLayout(
  value: string | boolean | string[] | undefined,
  option: string,
  command: string,
): TicketKeyLayout {
  if (value === undefined) {
    throw usageError(
      `${command} needs ${option} L (one of ${LAYOUT_NAMES.join(", ")}); see ${command} --help`,
    );
  }
  if (typeof value !== "string") {
    throw usageError(`${option} takes one layout (one of ${LAYOUT_NAMES.join(", ")})`);
  }
  try {
    return parseTicketKeyLayout(value);
  } catch (e) {
    if (e instanceof TicketKeyError) throw usageError(e.message);
    throw e;
  }
}

const product = (layout: string) => layout.split("-")[0];

/**
 * The "did you mean" advice for key material of `got` bytes given as `layout`: the layouts of
 * that size (base64 lines or raw as `text` says), the same product's first.
 *
 * @example
 * ```ts
 * import { suggestLayout } from "./_keys.ts";
 * console.log(suggestLayout("nginx-48", 80, false)); // "did you mean --layout nginx-80?"
 * ```
 *
 * @param layout The layout that was given.
 * @param got The byte length found.
 * @param text Whether the material is base64 lines.
 * @returns One clause of advice.
 */
export function suggestLayout(layout: TicketKeyLayout, got: number, text: boolean): string {
  const candidates = LAYOUT_NAMES.filter((l) =>
    l !== layout && TICKET_KEY_LAYOUTS[l].bytes === got &&
    TICKET_KEY_LAYOUTS[l].base64Lines === text
  );
  const same = candidates.filter((l) => product(l) === product(layout));
  const list = same.length > 0 ? same : candidates;
  if (list.length === 0) {
    return `check the file, or make a ${layout} key with keygen --layout ${layout}`;
  }
  return `did you mean ${list.map((l) => `--layout ${l}`).join(" or ")}?`;
}

/** Decodes the non-blank lines of text as base64; `null` when any line is not base64. */
function base64Lines(text: string): { line: number; raw: Uint8Array | null }[] {
  const out: { line: number; raw: Uint8Array | null }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let raw: Uint8Array | null = null;
    try {
      raw = /^[A-Za-z0-9+/]+={0,2}$/.test(line) ? Uint8Array.fromBase64(line) : null;
    } catch {
      raw = null;
    }
    out.push({ line: i + 1, raw });
  }
  return out;
}

function wipeLines(lines: { raw: Uint8Array | null }[]): void {
  for (const l of lines) l.raw?.fill(0);
}

/** `bytes` as text, or `null` when they are not UTF-8 or hold control characters. */
function asText(bytes: Uint8Array): string | null {
  for (const b of bytes) {
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return null;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** If `bytes` is base64 text whose lines all decode to one length, that length. */
function base64KeyLength(bytes: Uint8Array): number | null {
  const text = asText(bytes);
  if (text === null) return null;
  const lines = base64Lines(text);
  try {
    if (lines.length === 0 || lines.some((l) => l.raw === null)) return null;
    const n = lines[0].raw!.length;
    return lines.every((l) => l.raw!.length === n) ? n : null;
  } finally {
    wipeLines(lines);
  }
}

/**
 * Loads every key in a key file of `layout`: raw bytes (or hex text of them) for the raw layouts,
 * base64 lines for `haproxy-*`. Wrong sizes and formats end in a message naming the layouts the
 * material would fit.
 *
 * @example
 * ```ts
 * import { loadKeys } from "./_keys.ts";
 * const keys = await loadKeys(new Uint8Array(80).map((_, i) => i), "openssl-80", "k.bin");
 * console.log(keys[0].nameHex); // "000102030405060708090a0b0c0d0e0f"
 * ```
 *
 * @param material The file contents.
 * @param layout The layout the file is in.
 * @param source The file name, for messages.
 * @param extractable Whether the keys must be exportable (for `convert`).
 * @returns The keys in file order.
 * @throws {CliError} For material that does not fit the layout.
 */
export async function loadKeys(
  material: Uint8Array,
  layout: TicketKeyLayout,
  source: string,
  extractable = false,
): Promise<TicketKey[]> {
  const spec = TICKET_KEY_LAYOUTS[layout];
  let input: Uint8Array | string = material;
  let decoded: Uint8Array | null = null;
  if (spec.base64Lines) {
    const text = asText(material);
    if (text === null) {
      throw new CliError(
        `${source} is binary (${material.length} bytes), but ${layout} key files are base64 text, one key per line; ${
          suggestLayout(layout, material.length, false)
        }`,
      );
    }
    const lines = base64Lines(text);
    try {
      if (lines.length === 0) {
        throw new CliError(
          `${source} holds no keys; ${layout} files hold one base64 key per line (make one with keygen --layout ${layout})`,
        );
      }
      for (const { line, raw } of lines) {
        if (raw === null) {
          throw new CliError(
            `line ${line} of ${source} is not base64; ${layout} files hold one base64 key of ${spec.bytes} bytes per line`,
          );
        }
        if (raw.length !== spec.bytes) {
          throw new CliError(
            `${layout} lines are base64 of ${spec.bytes} bytes, line ${line} of ${source} decodes to ${raw.length}; ${
              suggestLayout(layout, raw.length, true)
            }`,
          );
        }
      }
    } finally {
      wipeLines(lines);
    }
    input = text;
  } else if (material.length !== spec.bytes) {
    let got = material.length;
    let how = "";
    if (looksLikeHex(material)) {
      decoded = parseHexBytes(material, `key file ${source}`);
      got = decoded.length;
      how = " (hex-decoded)";
      input = decoded;
    }
    if (got !== spec.bytes) {
      decoded?.fill(0);
      const b64 = how === "" ? base64KeyLength(material) : null;
      const advice = b64 !== null
        ? `it is base64 text of ${b64}-byte keys; ${suggestLayout(layout, b64, true)}`
        : suggestLayout(layout, got, false);
      throw new CliError(
        `${layout} keys are ${spec.bytes} bytes, got ${got}${how} from ${source}; ${advice}`,
      );
    }
  }
  try {
    return await TicketKey.importAll(input, layout, { extractable });
  } catch (e) {
    if (e instanceof TicketKeyError) throw new CliError(`${source}: ${e.message}`);
    throw e;
  } finally {
    decoded?.fill(0);
  }
}

/**
 * The keys a product uses from a key file, and the one it seals with: for `haproxy-*`, the last
 * {@link HAPROXY_TICKETS_NO} lines, sealing with the penultimate (HAProxy's
 * `tls-ticket-keys`); for raw layouts, the one key.
 *
 * @example
 * ```ts
 * import { activeKeys } from "./_keys.ts";
 * console.log(activeKeys(["a", "b", "c", "d"]).sealer); // "c"
 * ```
 *
 * @param keys The keys in file order.
 * @returns The usable keys and the sealing key.
 */
export function activeKeys<T>(keys: readonly T[]): { usable: T[]; sealer: T } {
  const usable = keys.slice(-HAPROXY_TICKETS_NO);
  return { usable, sealer: usable[Math.max(0, usable.length - 2)] };
}

/**
 * Reads `--key FILE` in `--layout L` (both required).
 *
 * @example
 * ```ts
 * import { readKeyFile } from "./_keys.ts";
 * import { resolveIo } from "./_io.ts";
 * const io = resolveIo({ stdin: () => Promise.resolve(new Uint8Array(48)) });
 * const { keys } = await readKeyFile("-", "nginx-48", "open", io);
 * console.log(keys.length); // 1
 * ```
 *
 * @param path The `--key` value.
 * @param layout The layout.
 * @param command The command, for messages.
 * @param io Standard streams.
 * @returns The keys and the file name.
 */
export async function readKeyFile(
  path: string | boolean | string[] | undefined,
  layout: TicketKeyLayout,
  command: string,
  io: CliIo,
): Promise<{ keys: TicketKey[]; source: string }> {
  if (typeof path !== "string") {
    throw usageError(`${command} needs --key FILE (a ${layout} key file); see ${command} --help`);
  }
  const source = path === "-" ? "standard input" : path;
  const material = await readSource(path, "key file", io);
  try {
    return { keys: await loadKeys(material, layout, source), source };
  } finally {
    material.fill(0);
  }
}

function parseCount(value: string | undefined, layout: TicketKeyLayout): number {
  const text = TICKET_KEY_LAYOUTS[layout].base64Lines;
  if (value === undefined) return text ? HAPROXY_TICKETS_NO : 1;
  if (!/^[1-9][0-9]{0,2}$/.test(value)) {
    throw usageError(`--count must be a whole number from 1 to 999, got "${value}"`);
  }
  const n = Number(value);
  if (!text && n !== 1) {
    throw usageError(
      `${layout} files hold one key; --count is for the haproxy layouts (run keygen once per key file)`,
    );
  }
  return n;
}

function hexLine(bytes: Uint8Array): Uint8Array {
  return utf8(bytes.toHex() + "\n");
}

async function emitKeys(
  material: Uint8Array,
  layout: TicketKeyLayout,
  hex: boolean,
  options: ParsedArgs["options"],
  io: CliIo,
): Promise<void> {
  const bytes = hex ? hexLine(material) : material;
  try {
    await writeSink(options.out as string | undefined, bytes, `${layout} key`, io, {
      secret: true,
      key: true,
      force: options.force === true,
      showSecrets: options["show-secrets"] === true,
      binary: !hex && !TICKET_KEY_LAYOUTS[layout].base64Lines,
    });
  } finally {
    material.fill(0);
    bytes.fill(0);
  }
}

function rejectHexForText(layout: TicketKeyLayout, hex: boolean): void {
  if (hex && TICKET_KEY_LAYOUTS[layout].base64Lines) {
    throw usageError(`${layout} key files are already text (base64 lines); drop --hex`);
  }
}

/**
 * `keygen --layout L [--out FILE] [--hex] [--count N] [--force] [--show-secrets]`.
 *
 * @example
 * ```ts
 * import { keygen } from "./_keys.ts";
 * import { resolveIo } from "./_io.ts";
 * let n = 0;
 * await keygen(["--layout", "nginx-80"], resolveIo({ stdout: (b) => void (n = b.length) }));
 * console.log(n); // 80
 * ```
 *
 * @param args Arguments after `keygen`.
 * @param io Standard streams.
 */
export async function keygen(args: readonly string[], io: CliIo): Promise<void> {
  const { options, positionals } = parseArgs("keygen", args, {
    layout: "string",
    out: "string",
    hex: "boolean",
    count: "string",
    force: "boolean",
    "show-secrets": "boolean",
  });
  if (positionals.length > 0) {
    throw usageError(`keygen takes no arguments, got "${positionals[0]}"; see keygen --help`);
  }
  const layout = parseLayout(options.layout, "--layout", "keygen");
  const spec = TICKET_KEY_LAYOUTS[layout];
  const hex = options.hex === true;
  rejectHexForText(layout, hex);
  const count = parseCount(options.count as string | undefined, layout);
  const keys: TicketKey[] = [];
  for (let i = 0; i < count; i++) {
    keys.push(
      await TicketKey.generate({ format: spec.format, aesBits: spec.aesBits, extractable: true }),
    );
  }
  const material = await TicketKey.exportAll(keys, layout);
  await emitKeys(material, layout, hex, options, io);
}

/**
 * Why a key in layout `from` cannot be written in layout `to`, or `null` when it can.
 *
 * @example
 * ```ts
 * import { conversionProblem } from "./_keys.ts";
 * console.log(conversionProblem("nginx-48", "node-48")); // null
 * console.log(conversionProblem("nginx-48", "nginx-80")?.startsWith("a 48-byte")); // true
 * ```
 *
 * @param from The source layout.
 * @param to The target layout.
 * @returns The reason, or `null`.
 */
export function conversionProblem(from: TicketKeyLayout, to: TicketKeyLayout): string | null {
  const f = TICKET_KEY_LAYOUTS[from];
  const t = TICKET_KEY_LAYOUTS[to];
  const cipher = (l: typeof f) =>
    l.format === "aes-256-gcm"
      ? "AES-256-GCM with no HMAC key"
      : `AES-${l.aesBits}-CBC with an HMAC-SHA256 key`;
  if (f.format !== t.format) {
    return `${from} keys are ${cipher(f)}, ${to} keys are ${cipher(t)}, and no key is both`;
  }
  if (f.aesBits !== t.aesBits) {
    const a = (n: number) => (String(n).startsWith("8") ? `an ${n}` : `a ${n}`);
    return `${a(f.bytes)}-byte key (${cipher(f)}) cannot become ${a(t.bytes)}-byte key (${
      cipher(t)
    }); key material cannot change size`;
  }
  return null;
}

/**
 * `convert --from L1 --to L2 [--in FILE|-]... [--out FILE|-] [--line N] [--hex] [--force]
 * [--show-secrets]`.
 *
 * @example
 * ```ts
 * import { convert } from "./_keys.ts";
 * import { resolveIo } from "./_io.ts";
 * let out = new Uint8Array();
 * const io = resolveIo({
 *   stdin: () => Promise.resolve(new Uint8Array(48).map((_, i) => i)),
 *   stdout: (b) => void (out = b.slice()),
 * });
 * await convert(["--from", "nginx-48", "--to", "node-48"], io);
 * console.log(out[16], out[32]); // 32 16
 * ```
 *
 * @param args Arguments after `convert`.
 * @param io Standard streams.
 */
export async function convert(args: readonly string[], io: CliIo): Promise<void> {
  const { options, positionals } = parseArgs("convert", args, {
    from: "string",
    to: "string",
    in: "strings",
    out: "string",
    line: "string",
    hex: "boolean",
    force: "boolean",
    "show-secrets": "boolean",
  });
  if (positionals.length > 0) {
    throw usageError(
      `convert reads its input with --in FILE, got "${positionals[0]}"; see convert --help`,
    );
  }
  const from = parseLayout(options.from, "--from", "convert");
  const to = parseLayout(options.to, "--to", "convert");
  const problem = conversionProblem(from, to);
  if (problem !== null) {
    throw usageError(
      `cannot convert ${from} to ${to}: ${problem}; make a new key with keygen --layout ${to}`,
    );
  }
  const hex = options.hex === true;
  rejectHexForText(to, hex);
  const inputs = (options.in as string[] | undefined) ?? ["-"];
  const toText = TICKET_KEY_LAYOUTS[to].base64Lines;
  if (inputs.length > 1 && !toText) {
    throw usageError(
      `--in is given ${inputs.length} times, but ${to} files hold one key; convert one file at a time, or to a haproxy layout`,
    );
  }
  if (inputs.filter((p) => p === "-").length > 1) {
    throw usageError("standard input (-) can be read only once; give the other inputs as files");
  }
  await refuseInputAsOutput(
    options.out as string | undefined,
    inputs.map((path) => ({ path, role: "--in key file" })),
  );
  const keys: TicketKey[] = [];
  let lastSource = "";
  for (const path of inputs) {
    const source = path === "-" ? "standard input" : path;
    const material = await readSource(path, "key file", io);
    try {
      keys.push(...await loadKeys(material, from, source, true));
    } finally {
      material.fill(0);
    }
    lastSource = source;
  }
  let chosen = keys;
  const lineOpt = options.line as string | undefined;
  if (lineOpt !== undefined) {
    const n = /^[1-9][0-9]*$/.test(lineOpt) ? Number(lineOpt) : NaN;
    if (!(n >= 1 && n <= keys.length)) {
      throw new CliError(
        `--line ${lineOpt} is out of range: the input holds ${keys.length} key${
          keys.length === 1 ? "" : "s"
        }; pick 1 to ${keys.length}`,
      );
    }
    chosen = [keys[n - 1]];
  } else if (keys.length > 1 && !toText) {
    const sealer = keys.indexOf(activeKeys(keys).sealer) + 1;
    throw new CliError(
      `${lastSource} holds ${keys.length} ${from} keys, but ${to} files hold one; pick one with --line N (1 to ${keys.length}; HAProxy seals with line ${sealer})`,
    );
  }
  const material = await TicketKey.exportAll(chosen, to);
  await emitKeys(material, to, hex, options, io);
}
