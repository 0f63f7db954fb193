/**
 * Ticket keys: a 16-byte key name plus non-extractable Web Crypto keys, in one of two formats,
 * with import and export in each product's raw key layout.
 *
 * Layouts (`TicketKeyLayout`), all starting with the 16-byte key name:
 *
 * | layout | bytes | fields | format |
 * |---|---|---|---|
 * | `gcm` | 48 | name16, aes32 | `aes-256-gcm` (this module) |
 * | `openssl-80` | 80 | name16, hmac32, aes32 | `openssl`, AES-256-CBC (`SSL_CTX_set_tlsext_ticket_keys`, OpenSSL 1.1.0+) |
 * | `openssl-48` / `node-48` | 48 | name16, hmac16, aes16 | `openssl`, AES-128-CBC (OpenSSL 1.0.x, Node `ticketKeys`, BoringSSL) |
 * | `nginx-48` | 48 | name16, aes16, hmac16 | `openssl`, AES-128-CBC (`ssl_session_ticket_key`) |
 * | `nginx-80` | 80 | name16, hmac32, aes32 | `openssl`, AES-256-CBC |
 * | `haproxy-48` | base64 lines of 48 | name16, aes16, hmac16 | `openssl`, AES-128-CBC (`tls-ticket-keys`) |
 * | `haproxy-80` | base64 lines of 80 | name16, aes32, hmac32 | `openssl`, AES-256-CBC |
 *
 * @module
 */

import { NoSealingKeyError, TicketKeyError } from "./errors.ts";
import type { SslSession } from "../session/ssl_session.ts";
import {
  decodeOpenedTicket,
  type TicketByteSealer,
  type TicketOpenResult,
  type TicketSealer,
} from "./sealer.ts";
import {
  MAX_TICKET_PLAINTEXT_LENGTH,
  noDecryptTicket,
  type OpenedTicketBytes,
  type OpenOptions,
  precheckTicket,
  type SealOptions,
  TICKET_KEY_NAME_LENGTH,
  type TicketFormat,
} from "./ticket_format.ts";
import { toHex } from "./_bytes.ts";
import { asBufferBytes, concatBytes, constantTimeEqual } from "./bytes.ts";
import { LAYOUTS, type LayoutSpec } from "./_key_layout.ts";
import {
  asIs,
  encodeToSeal,
  keyInternals,
  notTicketBytes,
  type OpenFinish,
  typeOf,
} from "./_open.ts";
import { TicketStatus } from "./status.ts";
import { GCM_NONCE_LENGTH, gcmOpen, gcmSeal } from "./_gcm.ts";
import { CBC_IV_LENGTH, cbcOpen, cbcSeal } from "./_openssl_cbc.ts";

/**
 * A named raw key layout (see the module table): `"gcm"`, `"openssl-80"`, `"openssl-48"`,
 * `"node-48"`, `"nginx-48"`, `"nginx-80"`, `"haproxy-48"`, `"haproxy-80"`.
 */
export type TicketKeyLayout =
  | "gcm"
  | "openssl-80"
  | "openssl-48"
  | "node-48"
  | "nginx-48"
  | "nginx-80"
  | "haproxy-48"
  | "haproxy-80";

/**
 * Every layout name with its raw length, field order and key format.
 *
 * @example
 * ```ts
 * import { TICKET_KEY_LAYOUTS } from "@seed/session-tickets";
 * console.log(TICKET_KEY_LAYOUTS["haproxy-80"].fields); // "name16|aes32|hmac32"
 * ```
 */
export const TICKET_KEY_LAYOUTS: Readonly<
  Record<
    TicketKeyLayout,
    {
      bytes: number;
      fields: string;
      format: TicketFormat;
      aesBits: 128 | 256;
      base64Lines: boolean;
    }
  >
> = Object.freeze(
  Object.fromEntries(
    Object.entries(LAYOUTS).map(([k, v]) => [k, {
      bytes: v.length,
      fields: v.order,
      format: v.format,
      aesBits: v.aesLength === 32 ? 256 : 128,
      base64Lines: v.text,
    }]),
  ) as Record<
    TicketKeyLayout,
    {
      bytes: number;
      fields: string;
      format: TicketFormat;
      aesBits: 128 | 256;
      base64Lines: boolean;
    }
  >,
);

/** Default seal budget of an `aes-256-gcm` key: 2^28 tickets (random 96-bit nonces). */
export const DEFAULT_GCM_SEAL_BUDGET = 2 ** 28;
/** Default seal budget of an `openssl` (CBC + HMAC) key: 2^32 tickets. */
export const DEFAULT_CBC_SEAL_BUDGET = 2 ** 32;

/** Options for creating or importing a key. */
export interface TicketKeyOptions {
  /** Allow `export()` (the Web Crypto keys are created extractable). Default false. */
  extractable?: boolean;
  /**
   * Most tickets this key may seal; after that `sealBytes`/`seal` reject with
   * `NoSealingKeyError` (reason `"budget-spent"`, a `TicketKeyError`).
   * Default {@link DEFAULT_GCM_SEAL_BUDGET} (GCM) or {@link DEFAULT_CBC_SEAL_BUDGET} (openssl).
   */
  sealBudget?: number;
}

/** Options for {@link TicketKey.generate}. */
export interface GenerateTicketKeyOptions extends TicketKeyOptions {
  /** Ticket format. Default `"aes-256-gcm"`. */
  format?: TicketFormat;
  /** AES key size for the `"openssl"` format: 256 (80-byte layouts, default) or 128 (48-byte). */
  aesBits?: 128 | 256;
  /** A chosen 16-byte key name. Default: 16 random bytes. */
  name?: Uint8Array;
}

/** Web Crypto keys to wrap as a {@link TicketKey} (see {@link TicketKey.fromCryptoKeys}). */
export interface TicketKeyCryptoKeys {
  /** The 16-byte key name (copied). */
  name: Uint8Array;
  /** Ticket format. */
  format: TicketFormat;
  /** `AES-GCM` 256-bit key (`aes-256-gcm`) or `AES-CBC` 128/256-bit key (`openssl`), usages encrypt+decrypt. */
  aesKey: CryptoKey;
  /** `openssl` only: HMAC SHA-256 key, as many bits as the AES key, usage sign. */
  hmacKey?: CryptoKey | null;
  /** Seal budget (see {@link TicketKeyOptions.sealBudget}). */
  sealBudget?: number;
}

const INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");
const LAYOUT_LIST = Object.entries(LAYOUTS).map(([k, v]) =>
  `${k} (${v.text ? "base64 lines of " : ""}${v.length} bytes: ${v.order})`
).join(", ");

/**
 * Checks a layout name (from a command line, a configuration file, an API argument): the one
 * place that decides which names are layouts.
 *
 * @example
 * ```ts
 * import { parseTicketKeyLayout } from "./ticket_key.ts";
 * console.log(parseTicketKeyLayout("nginx-80")); // "nginx-80"
 * try {
 *   parseTicketKeyLayout("nginx-96");
 * } catch (e) {
 *   console.log((e as Error).message.startsWith('unknown ticket key layout "nginx-96"; layouts: gcm (48 bytes')); // true
 * }
 * ```
 *
 * @param name The name to check.
 * @returns The name, typed as a layout.
 * @throws {TicketKeyError} For anything else, listing every layout with its size and fields.
 */
export function parseTicketKeyLayout(name: unknown): TicketKeyLayout {
  if (typeof name !== "string" || !Object.hasOwn(LAYOUTS, name)) {
    throw new TicketKeyError(
      `unknown ticket key layout ${
        typeof name === "string" ? `"${name}"` : typeOf(name)
      }; layouts: ${LAYOUT_LIST}`,
    );
  }
  return name as TicketKeyLayout;
}

/**
 * Checks a ticket format and the AES key size asked of it, the one rule every key maker follows
 * (`TicketKey.generate`, `TicketKey.fromCryptoKeys`, `FleetRing.start`): `"aes-256-gcm"` keys
 * are AES-256; `"openssl"` keys AES-256 (the 80-byte layouts) or AES-128 (the 48-byte ones).
 * An omitted size is 256.
 *
 * @example
 * ```ts
 * import { checkFormatAesBits } from "./ticket_key.ts";
 * console.log(checkFormatAesBits("openssl", 128), checkFormatAesBits("aes-256-gcm")); // 128 256
 * try {
 *   checkFormatAesBits("aes-256-gcm", 128);
 * } catch (e) {
 *   console.log((e as Error).message); // "aes-256-gcm keys take aesBits 256, got 128"
 * }
 * ```
 *
 * @param format The ticket format.
 * @param aesBits The AES key size in bits (default 256).
 * @returns The AES key size.
 * @throws {TicketKeyError} For an unknown format (listing the formats) or a size the format
 * does not take (listing the sizes it takes).
 */
export function checkFormatAesBits(format: TicketFormat, aesBits?: number): 128 | 256 {
  if (format !== "aes-256-gcm" && format !== "openssl") {
    throw new TicketKeyError(
      `unknown ticket format ${
        typeof format === "string" ? `"${format}"` : typeOf(format)
      }; formats: aes-256-gcm, openssl`,
    );
  }
  const bits = aesBits ?? 256;
  if (bits !== 256 && (bits !== 128 || format !== "openssl")) {
    throw new TicketKeyError(
      `${format} keys take aesBits ${format === "openssl" ? "128 or 256" : "256"}, got ${
        typeof bits === "number" ? bits : typeOf(bits)
      }`,
    );
  }
  return bits;
}

function layoutSpec(layout: string): LayoutSpec {
  return LAYOUTS[parseTicketKeyLayout(layout)];
}

function checkBudget(budget: number | undefined, format: TicketFormat): number {
  if (budget === undefined) {
    return format === "aes-256-gcm" ? DEFAULT_GCM_SEAL_BUDGET : DEFAULT_CBC_SEAL_BUDGET;
  }
  if (typeof budget !== "number" || !(budget >= 0) || !Number.isSafeInteger(budget)) {
    throw new TicketKeyError(
      `sealBudget must be an integer from 0 to 2^53-1, got ${String(budget)}`,
    );
  }
  return budget;
}

function checkName(name: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!(name instanceof Uint8Array) || name.length !== TICKET_KEY_NAME_LENGTH) {
    throw new TicketKeyError(
      `a ticket key name is ${TICKET_KEY_NAME_LENGTH} bytes, got ${
        name instanceof Uint8Array ? name.length : typeof name
      }`,
    );
  }
  return new Uint8Array(name);
}

/** Imports the AES (and HMAC) parts of one raw key; the caller wipes any copy it made. */
async function importParts(
  raw: Uint8Array<ArrayBuffer>,
  spec: LayoutSpec,
  options: TicketKeyOptions,
): Promise<TicketKey> {
  const extractable = options.extractable === true;
  const budget = checkBudget(options.sealBudget, spec.format);
  const aesAlg = spec.format === "aes-256-gcm" ? "AES-GCM" : "AES-CBC";
  const aesKey = await crypto.subtle.importKey(
    "raw",
    raw.subarray(spec.aesOffset, spec.aesOffset + spec.aesLength),
    aesAlg,
    extractable,
    ["encrypt", "decrypt"],
  );
  const hmacKey = spec.hmacLength === 0 ? null : await crypto.subtle.importKey(
    "raw",
    raw.subarray(spec.hmacOffset, spec.hmacOffset + spec.hmacLength),
    { name: "HMAC", hash: "SHA-256", length: spec.hmacLength * 8 },
    extractable,
    ["sign", "verify"],
  );
  return TicketKey.fromCryptoKeys({
    name: raw.subarray(0, 16),
    format: spec.format,
    aesKey,
    hmacKey,
    sealBudget: budget,
  });
}

function lengthError(layout: string, spec: LayoutSpec, got: number, line?: number): TicketKeyError {
  const what = spec.text
    ? `${layout} lines are base64 of ${spec.length} bytes (${spec.order}); line ${line} decodes to ${got}`
    : `${layout} keys are ${spec.length} bytes (${spec.order}), got ${got}`;
  return new TicketKeyError(what);
}

/** Decodes the non-blank lines of a base64 key file; each decoded buffer is the caller's to wipe. */
function decodeLines(
  material: Uint8Array | string,
  layout: string,
  spec: LayoutSpec,
): Uint8Array<ArrayBuffer>[] {
  let text: string;
  if (typeof material === "string") text = material;
  else if (material instanceof Uint8Array) {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(material);
    } catch {
      throw new TicketKeyError(
        `${layout} key material is base64 text, and these bytes are not UTF-8`,
      );
    }
  } else throw new TicketKeyError(`${layout} key material must be a string or Uint8Array`);
  const out: Uint8Array<ArrayBuffer>[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = Uint8Array.fromBase64(line) as Uint8Array<ArrayBuffer>;
    } catch {
      for (const b of out) b.fill(0);
      throw new TicketKeyError(`${layout} line ${i + 1} is not valid base64`);
    }
    if (raw.length !== spec.length) {
      raw.fill(0);
      for (const b of out) b.fill(0);
      throw lengthError(layout, spec, raw.length, i + 1);
    }
    out.push(raw);
  }
  return out;
}

/**
 * One ticket key: a 16-byte name sent in clear at the start of each ticket, and Web Crypto keys
 * (imported once, non-extractable unless asked) in the `"aes-256-gcm"` or `"openssl"` format.
 * It seals and opens tickets on its own (always `SUCCESS`, like OpenSSL's single default key);
 * a {@link TicketKeyRing} holds several with rotation.
 *
 * A key counts the tickets it seals and refuses to seal past its `sealBudget` (a
 * `NoSealingKeyError`: a server on this key then sends no ticket). Raw key bytes are not kept:
 * `export()` reads them back from extractable `CryptoKey`s. `toString`, `toJSON` and
 * `Deno.inspect` show the name and format only.
 *
 * @example
 * ```ts
 * import { TicketKey, TicketStatus } from "@seed/session-tickets";
 * const key = await TicketKey.generate({ format: "openssl" });
 * const ticket = await key.sealBytes(new TextEncoder().encode("session DER"));
 * const opened = await key.openBytes(ticket);
 * console.log(opened.status === TicketStatus.SUCCESS); // true
 * ```
 */
export class TicketKey implements TicketSealer, TicketByteSealer {
  readonly #name: Uint8Array<ArrayBuffer>;
  readonly #format: TicketFormat;
  readonly #aesBits: 128 | 256;
  readonly #aes: CryptoKey;
  readonly #hmac: CryptoKey | null;
  readonly #budget: number;
  #sealed = 0;

  private constructor(
    name: Uint8Array<ArrayBuffer>,
    format: TicketFormat,
    aesBits: 128 | 256,
    aes: CryptoKey,
    hmac: CryptoKey | null,
    budget: number,
  ) {
    this.#name = name;
    this.#format = format;
    this.#aesBits = aesBits;
    this.#aes = aes;
    this.#hmac = hmac;
    this.#budget = budget;
    keyInternals.set(this, {
      open: hmac === null
        ? (t, success, counters, finish) => gcmOpen(aes, t, success, counters, finish)
        : (t, success, counters, finish) => cbcOpen(aes, hmac, t, success, counters, finish),
      seal: (plaintext, iv) => this.#seal(plaintext, iv),
    });
  }

  /**
   * Generates a fresh key with `crypto.subtle.generateKey` (no raw key bytes ever reach
   * JavaScript) and a random name.
   *
   * @example
   * ```ts
   * import { TicketKey } from "@seed/session-tickets";
   * const gcm = await TicketKey.generate();
   * const cbc = await TicketKey.generate({ format: "openssl", aesBits: 128, extractable: true });
   * console.log(gcm.format, cbc.cipher); // "aes-256-gcm" "AES-128-CBC-HMAC-SHA256"
   * ```
   *
   * @param options Format, AES size, name, extractability and seal budget.
   * @returns The new key.
   * @throws {TicketKeyError} For an unknown format, an AES size the format lacks, or a bad name.
   */
  static async generate(options: GenerateTicketKeyOptions = {}): Promise<TicketKey> {
    const format = options.format ?? "aes-256-gcm";
    const aesBits = checkFormatAesBits(format, options.aesBits);
    const budget = checkBudget(options.sealBudget, format);
    const name = options.name === undefined
      ? crypto.getRandomValues(new Uint8Array(TICKET_KEY_NAME_LENGTH))
      : checkName(options.name);
    const extractable = options.extractable === true;
    const aes = await crypto.subtle.generateKey(
      { name: format === "openssl" ? "AES-CBC" : "AES-GCM", length: aesBits },
      extractable,
      ["encrypt", "decrypt"],
    );
    const hmac = format === "openssl"
      ? await crypto.subtle.generateKey(
        { name: "HMAC", hash: "SHA-256", length: aesBits },
        extractable,
        ["sign", "verify"],
      )
      : null;
    return new TicketKey(name, format, aesBits, aes, hmac, budget);
  }

  /**
   * Imports one key from raw key material in a named layout. Raw layouts take a `Uint8Array`
   * of exactly the layout's length; the `haproxy-*` layouts take base64 text (a string, or its
   * bytes) holding exactly one key line (use {@link TicketKey.importAll} for a file of several).
   * The caller's bytes are not modified or retained; decoded copies are zeroed.
   *
   * @example
   * ```ts
   * import { TicketKey } from "@seed/session-tickets";
   * const raw = new Uint8Array(80).map((_, i) => i); // name 00..0f, hmac 10..2f, aes 30..4f
   * const key = await TicketKey.import(raw, "openssl-80");
   * console.log(key.nameHex, key.cipher); // "000102030405060708090a0b0c0d0e0f" "AES-256-CBC-HMAC-SHA256"
   * ```
   *
   * @param material The raw key bytes, or base64 text for `haproxy-*`.
   * @param layout The layout the bytes are in.
   * @param options Extractability and seal budget.
   * @returns The key.
   * @throws {TicketKeyError} For an unknown layout, a wrong length (naming the lengths the
   * layout takes), bad base64, or more than one key line.
   */
  static async import(
    material: Uint8Array | string,
    layout: TicketKeyLayout,
    options: TicketKeyOptions = {},
  ): Promise<TicketKey> {
    const keys = await TicketKey.importAll(material, layout, options);
    if (keys.length !== 1) {
      throw new TicketKeyError(
        `${layout} material holds ${keys.length} keys; TicketKey.import takes exactly one (use importAll)`,
      );
    }
    return keys[0];
  }

  /**
   * Imports every key in raw key material: one key for the raw layouts, one key per non-blank
   * line, in file order, for `haproxy-*` (HAProxy seals with the penultimate of its last three
   * lines; place the keys in a {@link TicketKeyRing} accordingly).
   *
   * @example
   * ```ts
   * import { TicketKey } from "@seed/session-tickets";
   * const a = await TicketKey.generate({ format: "openssl", extractable: true });
   * const b = await TicketKey.generate({ format: "openssl", extractable: true });
   * const file = await TicketKey.exportAll([a, b], "haproxy-80");
   * const keys = await TicketKey.importAll(file, "haproxy-80");
   * console.log(keys.map((k) => k.nameHex).join() === [a.nameHex, b.nameHex].join()); // true
   * ```
   *
   * @param material The raw key bytes, or base64 text for `haproxy-*`.
   * @param layout The layout the material is in.
   * @param options Extractability and seal budget, applied to every key.
   * @returns The keys, in order.
   * @throws {TicketKeyError} For an unknown layout, a wrong length, or bad base64.
   */
  static async importAll(
    material: Uint8Array | string,
    layout: TicketKeyLayout,
    options: TicketKeyOptions = {},
  ): Promise<TicketKey[]> {
    const spec = layoutSpec(layout);
    checkBudget(options.sealBudget, spec.format);
    if (spec.text) {
      const raws = decodeLines(material, layout, spec);
      try {
        const keys: TicketKey[] = [];
        for (const raw of raws) keys.push(await importParts(raw, spec, options));
        return keys;
      } finally {
        for (const raw of raws) raw.fill(0);
      }
    }
    if (!(material instanceof Uint8Array)) {
      throw new TicketKeyError(
        `${layout} keys are raw bytes: pass a Uint8Array of ${spec.length} bytes`,
      );
    }
    if (material.length !== spec.length) throw lengthError(layout, spec, material.length);
    const raw = asBufferBytes(material);
    try {
      return [await importParts(raw, spec, options)];
    } finally {
      if (raw !== material) raw.fill(0);
    }
  }

  /**
   * Exports several keys into one file: base64 lines (one per key, each ending in `\n`) for the
   * `haproxy-*` layouts. Raw layouts hold one key per file, so they take exactly one key.
   *
   * @example
   * ```ts
   * import { TicketKey } from "@seed/session-tickets";
   * const keys = [
   *   await TicketKey.generate({ format: "openssl", aesBits: 128, extractable: true }),
   *   await TicketKey.generate({ format: "openssl", aesBits: 128, extractable: true }),
   * ];
   * const text = new TextDecoder().decode(await TicketKey.exportAll(keys, "haproxy-48"));
   * console.log(text.split("\n").length); // 3 (two lines and the final newline)
   * ```
   *
   * @param keys The keys, in file order.
   * @param layout The target layout.
   * @returns The file contents.
   * @throws {TicketKeyError} As {@link TicketKey.export}, or for several keys in a raw layout.
   */
  static async exportAll(keys: readonly TicketKey[], layout: TicketKeyLayout): Promise<Uint8Array> {
    const spec = layoutSpec(layout);
    if (!spec.text && keys.length !== 1) {
      throw new TicketKeyError(`${layout} holds one key per file; got ${keys.length} keys`);
    }
    const parts: Uint8Array[] = [];
    for (const k of keys) parts.push(await k.export(layout));
    const out = concatBytes(parts);
    for (const p of parts) p.fill(0);
    return out;
  }

  /**
   * Wraps existing Web Crypto keys (for example keys unwrapped from a key service). The keys'
   * algorithms, sizes and usages are checked against the format.
   *
   * @example
   * ```ts
   * import { TicketKey } from "@seed/session-tickets";
   * const aesKey = await crypto.subtle.generateKey({ name: "AES-CBC", length: 256 }, false, ["encrypt", "decrypt"]);
   * const hmacKey = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);
   * const key = TicketKey.fromCryptoKeys({ name: new Uint8Array(16), format: "openssl", aesKey, hmacKey });
   * console.log(key.cipher); // "AES-256-CBC-HMAC-SHA256"
   * ```
   *
   * @param init Name, format, keys and seal budget.
   * @returns The key.
   * @throws {TicketKeyError} When a key does not fit the format.
   */
  static fromCryptoKeys(init: TicketKeyCryptoKeys): TicketKey {
    const format = init.format;
    checkFormatAesBits(format);
    const name = checkName(init.name);
    const budget = checkBudget(init.sealBudget, format);
    const aes = init.aesKey;
    const wantAes = format === "openssl" ? "AES-CBC" : "AES-GCM";
    const aesAlg = aes instanceof CryptoKey ? (aes.algorithm as AesKeyAlgorithm) : null;
    if (
      aesAlg === null || aesAlg.name !== wantAes ||
      !aes.usages.includes("encrypt") || !aes.usages.includes("decrypt")
    ) {
      throw new TicketKeyError(
        `${format} keys need an ${wantAes} CryptoKey with usages encrypt and decrypt`,
      );
    }
    const aesBits = checkFormatAesBits(format, aesAlg.length);
    let hmac: CryptoKey | null = null;
    if (format === "openssl") {
      const h = init.hmacKey;
      const hAlg = h instanceof CryptoKey ? (h.algorithm as HmacKeyAlgorithm) : null;
      if (
        hAlg === null || hAlg.name !== "HMAC" || hAlg.hash.name !== "SHA-256" ||
        hAlg.length !== aesBits || !h!.usages.includes("sign")
      ) {
        throw new TicketKeyError(
          `openssl keys with AES-${aesBits} need an HMAC SHA-256 CryptoKey of ${aesBits} bits with usage sign`,
        );
      }
      hmac = h!;
    }
    return new TicketKey(name, format, aesBits, aes, hmac, budget);
  }

  /** The 16-byte key name (a copy). */
  get name(): Uint8Array {
    return this.#name.slice();
  }

  /** The key name in lower-case hex. */
  get nameHex(): string {
    return toHex(this.#name);
  }

  /** The ticket format this key seals and opens. */
  get format(): TicketFormat {
    return this.#format;
  }

  /** AES key size in bits (256, or 128 for 48-byte `openssl` keys). */
  get aesBits(): 128 | 256 {
    return this.#aesBits;
  }

  /** `"AES-256-GCM"`, `"AES-256-CBC-HMAC-SHA256"` or `"AES-128-CBC-HMAC-SHA256"`. */
  get cipher(): string {
    return this.#format === "aes-256-gcm" ? "AES-256-GCM" : `AES-${this.#aesBits}-CBC-HMAC-SHA256`;
  }

  /** Whether {@link TicketKey.export} works. */
  get extractable(): boolean {
    return this.#aes.extractable && (this.#hmac === null || this.#hmac.extractable);
  }

  /** Most tickets this key seals. */
  get sealBudget(): number {
    return this.#budget;
  }

  /** Tickets sealed so far (counted when sealing starts). */
  get sealCount(): number {
    return this.#sealed;
  }

  /** True when the budget is spent and {@link TicketKey.sealBytes} would refuse. */
  get exhausted(): boolean {
    return this.#sealed >= this.#budget;
  }

  /** The layouts this key can be exported to (its format and AES size decide). */
  get layouts(): TicketKeyLayout[] {
    return (Object.keys(LAYOUTS) as TicketKeyLayout[]).filter((l) =>
      LAYOUTS[l].format === this.#format && LAYOUTS[l].aesLength * 8 === this.#aesBits
    );
  }

  /**
   * Whether `ticket` starts with this key's name (a constant-time compare of 16 bytes).
   *
   * @example
   * ```ts
   * import { TicketKey } from "@seed/session-tickets";
   * const key = await TicketKey.generate();
   * console.log(key.matches(await key.sealBytes(new Uint8Array([1])))); // true
   * ```
   *
   * @param ticket A ticket.
   * @returns True when the first 16 bytes equal the key name.
   */
  matches(ticket: Uint8Array): boolean {
    return ticket.length >= TICKET_KEY_NAME_LENGTH &&
      constantTimeEqual(ticket.subarray(0, TICKET_KEY_NAME_LENGTH), this.#name);
  }

  /**
   * Seals plaintext bytes (normally an `SSL_SESSION` DER) into a ticket of this key's format.
   * The IV/nonce is random unless `options.iv` fixes it (tests only).
   *
   * @example
   * ```ts
   * import { TicketKey } from "@seed/session-tickets";
   * const key = await TicketKey.import(new Uint8Array(80).map((_, i) => i), "openssl-80");
   * const iv = Uint8Array.fromHex("a7a3281f357aa2089a694076f1ef43da");
   * const ticket = await key.sealBytes(new Uint8Array(107), { iv });
   * console.log(ticket.length); // 176
   * ```
   *
   * @param plaintext 1 to 65280 bytes.
   * @param options A fixed IV (16 bytes openssl, 12 bytes GCM), for tests.
   * @returns The ticket.
   * @throws {NoSealingKeyError} When the budget is spent (reason `"budget-spent"`; a server
   * then sends no ticket).
   * @throws {TicketKeyError} When the plaintext is not a `Uint8Array`, is empty or longer than
   * 65280 bytes (`construct_stateless_ticket`), or the IV has the wrong length (as a rejected
   * promise).
   */
  sealBytes(plaintext: Uint8Array, options?: SealOptions): Promise<Uint8Array> {
    try {
      return this.#seal(plaintext, options?.iv);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Checks and counts synchronously (throwing `TicketKeyError`), then seals. */
  #seal(plaintext: Uint8Array, iv: Uint8Array | undefined): Promise<Uint8Array> {
    if (!(plaintext instanceof Uint8Array)) {
      throw new TicketKeyError(`a ticket plaintext is a Uint8Array, got ${typeOf(plaintext)}`);
    }
    const n = plaintext.length;
    if (n === 0 || n > MAX_TICKET_PLAINTEXT_LENGTH) {
      throw new TicketKeyError(
        `cannot seal ${n} bytes: a ticket plaintext is 1 to ${MAX_TICKET_PLAINTEXT_LENGTH} bytes`,
      );
    }
    if (iv !== undefined) {
      const want = this.#format === "openssl" ? CBC_IV_LENGTH : GCM_NONCE_LENGTH;
      if (!(iv instanceof Uint8Array) || iv.length !== want) {
        throw new TicketKeyError(`a ${this.#format} ticket IV is ${want} bytes`);
      }
    }
    if (this.#sealed >= this.#budget) {
      throw new NoSealingKeyError(
        "budget-spent",
        `ticket key ${this.nameHex} has sealed its budget of ${this.#budget} tickets; rotate to a new key`,
      );
    }
    this.#sealed++;
    const pt = asBufferBytes(plaintext);
    return this.#hmac === null
      ? gcmSeal(this.#aes, this.#name, pt, iv)
      : cbcSeal(this.#aes, this.#hmac, this.#name, pt, iv);
  }

  /**
   * Opens a ticket to its plaintext, with the checks of `ssl/t1_lib.c:tls_decrypt_ticket` in
   * order: empty → `EMPTY`; longer than 65535 → `NO_DECRYPT` before any cryptography; shorter
   * than 32 → `NO_DECRYPT`; another key's name → `NO_DECRYPT`; then the format's own checks
   * (openssl: length ≤ 64, MAC, padding; GCM: length ≤ 44, tag).
   *
   * Never throws: any bytes resolve to a status; an argument that is not a `Uint8Array` (`null`,
   * a string) gives a rejected promise with a `TicketKeyError`.
   *
   * @example
   * ```ts
   * import { TicketKey, TicketStatus } from "@seed/session-tickets";
   * const key = await TicketKey.generate();
   * const r = await key.openBytes(new Uint8Array(10));
   * console.log(r.status === TicketStatus.NO_DECRYPT, r.keyName.length); // true 10
   * ```
   *
   * @param ticket The ticket bytes.
   * @param options `anyName` skips the key-name check (key-callback path).
   * @returns Status, plaintext (on success), OpenSSL's keyName view and the failure reason;
   * rejects with `TicketKeyError` when `ticket` is not a `Uint8Array`.
   */
  openBytes(ticket: Uint8Array, options?: OpenOptions): Promise<OpenedTicketBytes> {
    return this.#open(ticket, options, asIs);
  }

  /** {@link TicketKey.openBytes}, resolving to `finish(result)`. */
  #open<R>(
    ticket: Uint8Array,
    options: OpenOptions | undefined,
    finish: OpenFinish<R>,
  ): Promise<R> {
    if (!(ticket instanceof Uint8Array)) return notTicketBytes(ticket);
    const early = precheckTicket(ticket);
    if (early !== null) return Promise.resolve(finish(early));
    if (options?.anyName !== true && !this.matches(ticket)) {
      return Promise.resolve(finish(noDecryptTicket(ticket, TICKET_KEY_NAME_LENGTH, "unknownKey")));
    }
    return this.#hmac === null
      ? gcmOpen(this.#aes, ticket, TicketStatus.SUCCESS, null, finish)
      : cbcOpen(this.#aes, this.#hmac, ticket, TicketStatus.SUCCESS, null, finish);
  }

  /**
   * Seals a session: `encodeSession(session)` (OpenSSL's `i2d_SSL_SESSION`) then
   * {@link TicketKey.sealBytes}. The encoding (with the master key) is wiped as soon as Web
   * Crypto has taken its copy.
   *
   * @example
   * ```ts
   * import { SslSession, TicketKey } from "@seed/session-tickets";
   * const key = await TicketKey.generate();
   * const ticket = await key.seal(new SslSession({ cipherId: 0xc030, time: 1, timeout: 7200 }));
   * console.log(ticket.length > 44); // true
   * ```
   *
   * @param session The session to put in the ticket.
   * @param options A fixed IV, for tests.
   * @returns The ticket.
   * @throws {TicketKeyError} As {@link TicketKey.sealBytes}, or when `session` is not an
   * `SslSession`; `DerError` for a session OpenSSL could not encode.
   */
  seal(session: SslSession, options?: SealOptions): Promise<Uint8Array> {
    let der: Uint8Array;
    try {
      // A shared buffer: sealBytes hands it to Web Crypto (which copies it) before any await.
      der = encodeToSeal(session);
    } catch (e) {
      return Promise.reject(e);
    }
    const ticket = this.sealBytes(der, options); // never throws: it rejects
    der.fill(0); // the master key leaves the shared buffer once Web Crypto has its copy
    return ticket;
  }

  /**
   * Opens a ticket to a session: {@link TicketKey.openBytes}, then `decodeSession` with
   * `d2i_SSL_SESSION`'s rules; a plaintext it rejects (or trailing bytes) is `NO_DECRYPT`.
   *
   * Never throws: any bytes resolve to a status; an argument that is not a `Uint8Array` (`null`,
   * a string) gives a rejected promise with a `TicketKeyError`.
   *
   * @example
   * ```ts
   * import { SslSession, TicketKey, TicketKeyError } from "@seed/session-tickets";
   * const key = await TicketKey.generate();
   * const r = await key.open(await key.seal(new SslSession({ cipherId: 0xc030, time: 1, timeout: 7200 })));
   * console.log(r.status, r.session?.cipherId); // 5 49200
   * const refused = await key.open(null as unknown as Uint8Array).catch((e) => e);
   * console.log(refused instanceof TicketKeyError); // true
   * ```
   *
   * @param ticket The ticket bytes.
   * @param options `anyName` skips the key-name check (key-callback path).
   * @returns Status, session (on success) and OpenSSL's keyName view; rejects with
   * `TicketKeyError` when `ticket` is not a `Uint8Array`.
   */
  open(ticket: Uint8Array, options?: OpenOptions): Promise<TicketOpenResult> {
    return this.#open(ticket, options, decodeOpenedTicket);
  }

  /**
   * Exports the key in a named layout. Raw layouts give the raw bytes; `haproxy-*` gives one
   * base64 line ending in `\n` (as bytes). The key must be extractable and of the layout's
   * format and AES size.
   *
   * @example
   * ```ts
   * import { TicketKey } from "@seed/session-tickets";
   * const raw = new Uint8Array(48).map((_, i) => i);
   * const key = await TicketKey.import(raw, "nginx-48", { extractable: true });
   * const node = await key.export("node-48"); // name|hmac|aes: the halves swap
   * console.log(node[16], node[32]); // 32 16
   * ```
   *
   * @param layout The target layout.
   * @returns The key material, which the caller should wipe after use.
   * @throws {TicketKeyError} For a non-extractable key, an unknown layout, or a layout of
   * another format or size.
   */
  async export(layout: TicketKeyLayout): Promise<Uint8Array> {
    const spec = layoutSpec(layout);
    if (spec.format !== this.#format || spec.aesLength * 8 !== this.#aesBits) {
      throw new TicketKeyError(
        `ticket key ${this.nameHex} (${this.cipher}) cannot be written as ${layout} (${spec.order}); ` +
          `its layouts are ${this.layouts.join(", ")}`,
      );
    }
    if (!this.extractable) {
      throw new TicketKeyError(
        `ticket key ${this.nameHex} is not extractable; create it with { extractable: true } ` +
          `(TicketKey.generate or TicketKey.import) to export it`,
      );
    }
    const raw = new Uint8Array(spec.length);
    raw.set(this.#name, 0);
    const aes = new Uint8Array(await crypto.subtle.exportKey("raw", this.#aes));
    raw.set(aes, spec.aesOffset);
    aes.fill(0);
    if (this.#hmac !== null) {
      const hmac = new Uint8Array(await crypto.subtle.exportKey("raw", this.#hmac));
      raw.set(hmac, spec.hmacOffset);
      hmac.fill(0);
    }
    if (!spec.text) return raw;
    const line = raw.toBase64() + "\n";
    raw.fill(0);
    const out = new Uint8Array(line.length);
    for (let i = 0; i < line.length; i++) out[i] = line.charCodeAt(i);
    return out;
  }

  /** Name and format only; never key material. */
  toJSON(): {
    name: string;
    format: TicketFormat;
    cipher: string;
    sealCount: number;
    sealBudget: number;
  } {
    return {
      name: this.nameHex,
      format: this.#format,
      cipher: this.cipher,
      sealCount: this.#sealed,
      sealBudget: this.#budget,
    };
  }

  /** `TicketKey(<name hex>, <cipher>)`. */
  toString(): string {
    return `TicketKey(${this.nameHex}, ${this.cipher})`;
  }

  /** `Deno.inspect` shows {@link TicketKey.toJSON}. */
  [INSPECT](): string {
    return `TicketKey ${JSON.stringify(this.toJSON())}`;
  }

  /** Node's `util.inspect` shows {@link TicketKey.toJSON}. */
  [NODE_INSPECT](): string {
    return this[INSPECT]();
  }
}
