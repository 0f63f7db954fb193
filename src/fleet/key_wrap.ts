/**
 * Keys at rest: every record a fleet stores is sealed with AES-256-GCM under a key-encryption
 * key (KEK) that only the fleet's processes hold, with the record's key (its path in the store)
 * and its clear header bound in as additional data. Read access to the store alone reveals no
 * ticket key, and a record copied to another path does not open.
 *
 * Record bytes: UTF-8 JSON `{"v":1,"h":"<header JSON>","iv":"<base64 12>","ct":"<base64>"}`;
 * AAD = `"session-tickets fleet record v1\n" + recordKey + "\n" + h`.
 *
 * @module
 */

import { TicketKeyError } from "../ticket/errors.ts";
import { FleetConfigError } from "./errors.ts";

/** The environment variable a fleet reads its key-encryption key from (base64 of 32 bytes). */
export const KEK_ENV = "SESSION_TICKETS_KEK";

const AAD_HEAD = "session-tickets fleet record v1\n";
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Imports 32 raw bytes as a non-extractable AES-256-GCM key-encryption key.
 *
 * @example
 * ```ts
 * import { importKek } from "@seed/session-tickets/fleet";
 * const kek = await importKek(crypto.getRandomValues(new Uint8Array(32)));
 * console.log(kek.extractable); // false
 * ```
 *
 * @param raw 32 bytes (not modified).
 * @returns The key.
 * @throws {FleetConfigError} When `raw` is not 32 bytes.
 */
export async function importKek(raw: Uint8Array): Promise<CryptoKey> {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    throw new FleetConfigError(
      `a key-encryption key is 32 bytes, got ${
        raw instanceof Uint8Array ? raw.length : typeof raw
      }`,
    );
  }
  const copy = new Uint8Array(raw);
  try {
    return await crypto.subtle.importKey("raw", copy, "AES-GCM", false, ["encrypt", "decrypt"]);
  } finally {
    copy.fill(0);
  }
}

/**
 * Parses base64 text (surrounding white space ignored) holding a 32-byte KEK.
 *
 * @example
 * ```ts
 * import { parseKek } from "@seed/session-tickets/fleet";
 * const kek = await parseKek(new Uint8Array(32).toBase64());
 * console.log(kek.algorithm.name); // "AES-GCM"
 * ```
 *
 * @param text Base64 of 32 bytes.
 * @param source Where the text came from, for the error message.
 * @returns The key.
 * @throws {FleetConfigError} For text that is not base64 of 32 bytes.
 */
export async function parseKek(text: string, source = KEK_ENV): Promise<CryptoKey> {
  let raw: Uint8Array;
  try {
    raw = Uint8Array.fromBase64(text.trim());
  } catch {
    throw new FleetConfigError(`${source} is not valid base64; it must hold base64 of 32 bytes`);
  }
  try {
    if (raw.length !== 32) {
      throw new FleetConfigError(
        `${source} decodes to ${raw.length} bytes; a key-encryption key is base64 of 32 bytes`,
      );
    }
    return await importKek(raw);
  } finally {
    raw.fill(0);
  }
}

/**
 * Loads the KEK from a file (base64 text of 32 bytes, or the 32 raw bytes) when `file` is
 * given, else from the `SESSION_TICKETS_KEK` environment variable.
 *
 * @example
 * ```ts
 * import { loadKek } from "@seed/session-tickets/fleet";
 * Deno.env.set("SESSION_TICKETS_KEK", new Uint8Array(32).fill(7).toBase64());
 * console.log((await loadKek()).type); // "secret"
 * ```
 *
 * @param options `file`: a KEK file path; `env`: another variable name.
 * @returns The key.
 * @throws {FleetConfigError} When neither is set, or the material is not 32 bytes.
 */
export async function loadKek(options: { file?: string; env?: string } = {}): Promise<CryptoKey> {
  if (options.file !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(options.file);
    } catch (e) {
      throw new FleetConfigError(
        `cannot read the key-encryption key file ${options.file}: ${
          e instanceof Error ? e.message.split("\n")[0] : String(e)
        }`,
      );
    }
    try {
      if (bytes.length === 32) return await importKek(bytes);
      return await parseKek(dec.decode(bytes), `key-encryption key file ${options.file}`);
    } finally {
      bytes.fill(0);
    }
  }
  const name = options.env ?? KEK_ENV;
  const text = Deno.env.get(name);
  if (text === undefined || text.trim() === "") {
    throw new FleetConfigError(
      `no key-encryption key: set ${name} to base64 of 32 random bytes (or pass a KEK file)`,
    );
  }
  return await parseKek(text, name);
}

function aad(recordKey: string, header: string): Uint8Array<ArrayBuffer> {
  return enc.encode(AAD_HEAD + recordKey + "\n" + header) as Uint8Array<ArrayBuffer>;
}

/**
 * Seals `payload` for storage at `recordKey`, with a clear header (any JSON object) that is
 * authenticated but not encrypted.
 *
 * @example
 * ```ts
 * import { importKek, unwrapRecord, wrapRecord } from "@seed/session-tickets/fleet";
 * const kek = await importKek(new Uint8Array(32));
 * const v = await wrapRecord(kek, "st/keys/1", new Uint8Array([1, 2]), { n: 1 });
 * console.log((await unwrapRecord(kek, "st/keys/1", v)).payload); // Uint8Array(2) [ 1, 2 ]
 * ```
 *
 * @param kek The key-encryption key.
 * @param recordKey The store key the value will live at (bound in the AAD).
 * @param payload The secret bytes.
 * @param header Clear, authenticated metadata.
 * @returns The record value.
 */
export async function wrapRecord(
  kek: CryptoKey,
  recordKey: string,
  payload: Uint8Array,
  header: Record<string, unknown> = {},
): Promise<Uint8Array> {
  const h = JSON.stringify(header);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: aad(recordKey, h) },
      kek,
      new Uint8Array(payload),
    ),
  );
  return enc.encode(JSON.stringify({ v: 1, h, iv: iv.toBase64(), ct: ct.toBase64() }));
}

/**
 * Opens a record made by {@link wrapRecord}.
 *
 * @example
 * ```ts
 * import { importKek, unwrapRecord, wrapRecord } from "@seed/session-tickets/fleet";
 * const kek = await importKek(new Uint8Array(32));
 * const v = await wrapRecord(kek, "st/keys/1", new Uint8Array([1]), { n: 1 });
 * await unwrapRecord(kek, "st/keys/2", v).catch((e) => console.log(e.message)); // moved record: refused
 * ```
 *
 * @param kek The key-encryption key.
 * @param recordKey The store key the value was read from.
 * @param value The record value.
 * @returns The header and the payload (the caller should wipe it after use).
 * @throws {TicketKeyError} For a malformed record, or one that does not open under this KEK at
 * this path.
 */
export async function unwrapRecord(
  kek: CryptoKey,
  recordKey: string,
  value: Uint8Array,
): Promise<{ header: Record<string, unknown>; payload: Uint8Array }> {
  let parsed: { v?: unknown; h?: unknown; iv?: unknown; ct?: unknown };
  let header: Record<string, unknown>;
  let iv: Uint8Array<ArrayBuffer>;
  let ct: Uint8Array<ArrayBuffer>;
  try {
    parsed = JSON.parse(dec.decode(value));
    if (
      parsed === null || typeof parsed !== "object" || parsed.v !== 1 ||
      typeof parsed.h !== "string" || typeof parsed.iv !== "string" ||
      typeof parsed.ct !== "string"
    ) throw new Error("shape");
    header = JSON.parse(parsed.h);
    if (header === null || typeof header !== "object" || Array.isArray(header)) {
      throw new Error("header");
    }
    iv = Uint8Array.fromBase64(parsed.iv) as Uint8Array<ArrayBuffer>;
    ct = Uint8Array.fromBase64(parsed.ct) as Uint8Array<ArrayBuffer>;
    if (iv.length !== 12 || ct.length < 16) throw new Error("sizes");
  } catch {
    throw new TicketKeyError(`store record ${recordKey} is not a wrapped fleet record`);
  }
  try {
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv, additionalData: aad(recordKey, parsed.h as string) },
      kek,
      ct,
    );
    return { header, payload: new Uint8Array(pt) };
  } catch {
    throw new TicketKeyError(
      `store record ${recordKey} does not open under this key-encryption key`,
    );
  }
}
