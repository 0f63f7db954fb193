/**
 * TLS extension blocks as libssl reads them (`ssl/statem/extensions.c:tls_collect_extensions`),
 * plus the ClientHello `session_ticket` extension (`ssl/t1_lib.c:tls_get_ticket_from_client`).
 *
 * Parsed bodies are fresh copies backed by an `ArrayBuffer`, so they can go straight into
 * `crypto.subtle`.
 *
 * @module
 */

import { readExtensionEntries } from "./_extension_block.ts";
import { Reader } from "./reader.ts";
import { checkBytes, checkUint, Writer } from "./writer.ts";

/**
 * Extension type numbers used by the ticket code (IANA "TLS ExtensionType Values").
 *
 * @example
 * ```ts
 * import { ExtensionType } from "./extensions.ts";
 * console.log(ExtensionType.PRE_SHARED_KEY); // 41
 * ```
 */
export const ExtensionType = {
  /** `session_ticket` (35): TLS ≤1.2 ticket in the ClientHello (RFC 5077). */
  SESSION_TICKET: 35,
  /** `pre_shared_key` (41): TLS 1.3 PSK identities and binders (RFC 8446 §4.2.11). */
  PRE_SHARED_KEY: 41,
  /** `early_data` (42): in a NewSessionTicket it carries `uint32 max_early_data`. */
  EARLY_DATA: 42,
  /** `psk_key_exchange_modes` (45): the PSK modes the client supports. */
  PSK_KEY_EXCHANGE_MODES: 45,
} as const;

/** Options for {@link parseExtensions}. */
export interface ParseExtensionsOptions {
  /**
   * The block comes from a ClientHello (default `true`): `pre_shared_key` must then be the last
   * extension, else illegal_parameter (47), as in `tls_collect_extensions`.
   */
  clientHello?: boolean;
}

/**
 * Parses a whole extensions block, `u16 total_len { u16 type, u16 len, body }*`, into a map from
 * extension type to body, in the order received.
 *
 * Mirrors libssl: a length that overruns, or bytes left after the block, is decode_error (50)
 * (`tls_process_client_hello`, `tls_collect_extensions`); a repeated type is illegal_parameter
 * (47); in a ClientHello, `pre_shared_key` anywhere but last is illegal_parameter (47). libssl
 * only notices repeats of the extension types it implements; this parser rejects every repeat.
 * An empty input (a ClientHello that ends before its extensions) is an empty map, as in libssl.
 *
 * @param block The extensions block including its 2-byte length, and nothing after it.
 * @param options See {@link ParseExtensionsOptions}.
 * @returns Extension type → body (a fresh copy).
 * @throws {TlsAlert} 50 on malformed lengths, 47 on a duplicate or a misplaced pre_shared_key.
 *
 * @example
 * ```ts
 * import { parseExtensions } from "./extensions.ts";
 * const exts = parseExtensions(new Uint8Array([0, 4, 0, 35, 0, 0]));
 * console.log(exts.get(35)?.length); // 0 (an empty session_ticket extension)
 * ```
 */
export function parseExtensions(
  block: Uint8Array,
  options: ParseExtensionsOptions = {},
): Map<number, Uint8Array<ArrayBuffer>> {
  if (block.length === 0) return new Map();
  const r = new Reader(block, "extensions");
  const inner = r.prefixed16("extensions block");
  r.expectEnd("extensions block");
  return readExtensionEntries(inner, options.clientHello ?? true);
}

/**
 * Encodes extensions as `u16 total_len { u16 type, u16 len, body }*`, in iteration order.
 * Repeated types are written as given (useful for testing the duplicate check).
 *
 * @param extensions A `Map` or any iterable of `[type, body]` pairs.
 * @returns The block including its length prefix (`00 00` when empty).
 * @throws {TlsAlert} 80 when a type is not a uint16 or a length does not fit its field.
 *
 * @example
 * ```ts
 * import { encodeExtensions } from "./extensions.ts";
 * const block = encodeExtensions([[35, new Uint8Array(0)]]);
 * console.log(Array.from(block)); // [0, 4, 0, 35, 0, 0]
 * ```
 */
export function encodeExtensions(
  extensions: Iterable<readonly [number, Uint8Array]>,
): Uint8Array<ArrayBuffer> {
  const list = Array.from(extensions);
  let size = 0;
  for (const [type, body] of list) {
    checkUint(type, 0xffff, "extension type");
    checkBytes(body, 0xffff, `extension ${type} body`);
    size += 4 + body.length;
  }
  checkUint(size, 0xffff, "extensions block length");
  const w = new Writer(2 + size);
  w.u16(size);
  for (const [type, body] of list) {
    w.u16(type);
    w.u16(body.length);
    w.bytes(body);
  }
  return w.done();
}

/**
 * The ticket a TLS ≤1.2 ClientHello offers: the whole body of its `session_ticket` (35)
 * extension. `null` when the extension is absent (libssl: status NONE, `dec_cb` not called);
 * a zero-length array when it is present but empty (status EMPTY); otherwise the ticket bytes.
 * (`ssl/t1_lib.c:tls_get_ticket_from_client`; RFC 5077 §3.2.)
 *
 * @param extensions A map from {@link parseExtensions}.
 * @returns The extension body itself (not a copy), or `null`.
 *
 * @example
 * ```ts
 * import { parseExtensions, sessionTicketFromExtensions } from "./extensions.ts";
 * const none = sessionTicketFromExtensions(parseExtensions(new Uint8Array([0, 0])));
 * const empty = sessionTicketFromExtensions(parseExtensions(new Uint8Array([0, 4, 0, 35, 0, 0])));
 * console.log(none, empty?.length); // null 0
 * ```
 */
export function sessionTicketFromExtensions<T extends Uint8Array>(
  extensions: ReadonlyMap<number, T>,
): T | null {
  return extensions.get(ExtensionType.SESSION_TICKET) ?? null;
}
