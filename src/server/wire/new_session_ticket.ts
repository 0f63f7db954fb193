/**
 * The NewSessionTicket handshake message (type 4), with its 4-byte handshake header
 * `04 LLLLLL`, as libssl writes it (`ssl/statem/statem_srvr.c:create_ticket_prequel`,
 * `construct_stateless_ticket`, `construct_stateful_ticket`,
 * `ssl/statem/extensions_srvr.c:tls_construct_stoc_early_data`) and reads it
 * (`ssl/statem/statem_clnt.c:tls_process_new_session_ticket`).
 *
 * TLS ≤1.2 body (RFC 5077 §3.3): `u32 lifetime_hint | u16 ticket_len | ticket`.
 *
 * TLS 1.3 body (RFC 8446 §4.6.1): `u32 lifetime | u32 age_add | u8 nonce_len | nonce |
 * u16 ticket_len | ticket | u16 ext_len | extensions`, where libssl's only extension is
 * `early_data` (42) carrying `u32 max_early_data`, sent iff `max_early_data > 0`.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../alert.ts";
import { readExtensionEntries } from "./_extension_block.ts";
import { Reader } from "./reader.ts";
import { checkBytes, checkUint, Writer } from "./writer.ts";

/**
 * The handshake message type of NewSessionTicket (`SSL3_MT_NEWSESSION_TICKET`).
 *
 * @example
 * ```ts
 * import { NEW_SESSION_TICKET_TYPE } from "./new_session_ticket.ts";
 * console.log(NEW_SESSION_TICKET_TYPE); // 4
 * ```
 */
export const NEW_SESSION_TICKET_TYPE = 4;

/**
 * Length of the TLS 1.3 ticket nonce libssl sends (`TICKET_NONCE_SIZE` in `statem_srvr.c`).
 *
 * @example
 * ```ts
 * import { TICKET_NONCE_SIZE } from "./new_session_ticket.ts";
 * console.log(TICKET_NONCE_SIZE); // 8
 * ```
 */
export const TICKET_NONCE_SIZE = 8;

/** unexpected_message (10): what libssl's state machine sends for a wrong handshake type. */
const UNEXPECTED_MESSAGE = 10;

const EARLY_DATA = 42;

/**
 * A TLS ≤1.2 NewSessionTicket.
 *
 * @typeParam B Buffer type of `ticket`; the decoder returns an `ArrayBuffer`-backed copy.
 */
export interface NewSessionTicket12<B extends ArrayBufferLike = ArrayBufferLike> {
  /** Discriminant: `false` for TLS ≤1.2. */
  readonly tls13: false;
  /**
   * `ticket_lifetime_hint` in seconds (uint32). libssl sends the session timeout on a full
   * handshake, 0 on a renewal after resumption, and 0 with an empty ticket when the key callback
   * declines to encrypt.
   */
  lifetime: number;
  /** The ticket (0–65535 bytes; empty means "no ticket"). */
  ticket: Uint8Array<B>;
}

/**
 * A TLS 1.3 NewSessionTicket.
 *
 * @typeParam B Buffer type of the byte fields; the decoder returns `ArrayBuffer`-backed copies.
 */
export interface NewSessionTicket13<B extends ArrayBufferLike = ArrayBufferLike> {
  /** Discriminant: `true` for TLS 1.3. */
  readonly tls13: true;
  /** `ticket_lifetime` in seconds (uint32); libssl sends `min(timeout, 604800)`. */
  lifetime: number;
  /** `ticket_age_add` (uint32), the session's `[14]` age_add. */
  ageAdd: number;
  /** `ticket_nonce` (0–255 bytes; libssl sends 8, see {@link ticketNonce}). */
  nonce: Uint8Array<B>;
  /** The ticket (1–65535 bytes; a 32-byte session id for stateful tickets). */
  ticket: Uint8Array<B>;
  /** `max_early_data` (uint32); 0 means no `early_data` extension. */
  maxEarlyData: number;
}

/** A NewSessionTicket of either protocol family, discriminated by `tls13`. */
export type NewSessionTicket<B extends ArrayBufferLike = ArrayBufferLike> =
  | NewSessionTicket12<B>
  | NewSessionTicket13<B>;

/**
 * The 8-byte big-endian TLS 1.3 ticket nonce libssl derives from the connection's ticket counter
 * (`next_ticket_nonce`: 0 for the first ticket, 1 for the second, …).
 *
 * @param counter The counter, 0 ≤ counter < 2^64.
 * @returns 8 bytes.
 * @throws {TlsAlert} internal_error (80) if `counter` is negative, fractional or ≥ 2^64.
 *
 * @example
 * ```ts
 * import { ticketNonce } from "./new_session_ticket.ts";
 * console.log(Array.from(ticketNonce(1))); // [0, 0, 0, 0, 0, 0, 0, 1]
 * ```
 */
export function ticketNonce(counter: number | bigint): Uint8Array<ArrayBuffer> {
  let n: bigint;
  if (typeof counter === "bigint") {
    n = counter;
  } else if (Number.isSafeInteger(counter)) {
    n = BigInt(counter);
  } else {
    n = -1n;
  }
  if (n < 0n || n > 0xffffffffffffffffn) {
    throw new TlsAlert(AlertDescription.INTERNAL_ERROR, "ticket nonce counter out of range");
  }
  const out = new Uint8Array(TICKET_NONCE_SIZE);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

/**
 * Encodes a NewSessionTicket handshake message, header included.
 *
 * TLS 1.3 tickets must be non-empty: libssl (3.0.7+) sends no message instead of an empty one.
 *
 * @param nst The message fields; `tls13` selects the layout.
 * @returns `04 | u24 length | body`.
 * @throws {TlsAlert} internal_error (80) when a field is out of range for its wire type (as
 * libssl's `WPACKET` failures end in internal_error).
 *
 * @example
 * ```ts
 * import { encodeNewSessionTicket } from "./new_session_ticket.ts";
 * const msg = encodeNewSessionTicket({ tls13: false, lifetime: 7200, ticket: new Uint8Array(0) });
 * console.log(Array.from(msg)); // [4, 0, 0, 6, 0, 0, 28, 32, 0, 0]
 * ```
 */
export function encodeNewSessionTicket(nst: NewSessionTicket): Uint8Array<ArrayBuffer> {
  checkUint(nst.lifetime, 0xffffffff, "ticket lifetime");
  checkBytes(nst.ticket, 0xffff, "ticket");
  if (!nst.tls13) {
    const w = new Writer(4 + 6 + nst.ticket.length);
    w.u8(NEW_SESSION_TICKET_TYPE);
    w.u24(6 + nst.ticket.length);
    w.u32(nst.lifetime);
    w.u16(nst.ticket.length);
    w.bytes(nst.ticket);
    return w.done();
  }
  checkUint(nst.ageAdd, 0xffffffff, "ticket_age_add");
  checkBytes(nst.nonce, 0xff, "ticket nonce");
  checkUint(nst.maxEarlyData, 0xffffffff, "max_early_data");
  if (nst.ticket.length === 0) {
    throw new TlsAlert(AlertDescription.INTERNAL_ERROR, "a TLS 1.3 ticket cannot be empty");
  }
  const extLen = nst.maxEarlyData > 0 ? 8 : 0;
  const bodyLen = 4 + 4 + 1 + nst.nonce.length + 2 + nst.ticket.length + 2 + extLen;
  const w = new Writer(4 + bodyLen);
  w.u8(NEW_SESSION_TICKET_TYPE);
  w.u24(bodyLen);
  w.u32(nst.lifetime);
  w.u32(nst.ageAdd);
  w.u8(nst.nonce.length);
  w.bytes(nst.nonce);
  w.u16(nst.ticket.length);
  w.bytes(nst.ticket);
  w.u16(extLen);
  if (extLen > 0) {
    w.u16(EARLY_DATA);
    w.u16(4);
    w.u32(nst.maxEarlyData);
  }
  return w.done();
}

/**
 * Decodes a NewSessionTicket handshake message (header included) the way an OpenSSL client does
 * (`tls_process_new_session_ticket`):
 *
 * - the type byte must be 4 (otherwise unexpected_message, 10) and the 24-bit length must match
 *   the bytes given (decode_error, 50);
 * - TLS ≤1.2: the ticket must fill the rest of the body exactly; an empty ticket is allowed;
 * - TLS 1.3: the ticket must be non-empty; the `u16` extensions block must end the message; a
 *   repeated extension is illegal_parameter (47); `early_data` must be exactly 4 bytes; other
 *   extensions are skipped.
 *
 * Byte fields are fresh copies.
 *
 * @param message The whole handshake message.
 * @param tls13 Which layout to expect.
 * @returns The fields; `maxEarlyData` is 0 when `early_data` is absent.
 * @throws {TlsAlert} 50 on any length problem, 47 on a duplicate extension, 10 on a wrong type.
 *
 * @example
 * ```ts
 * import { decodeNewSessionTicket } from "./new_session_ticket.ts";
 * const nst = decodeNewSessionTicket(new Uint8Array([4, 0, 0, 6, 0, 0, 28, 32, 0, 0]), false);
 * console.log(nst.lifetime, nst.ticket.length); // 7200 0
 * ```
 */
export function decodeNewSessionTicket(
  message: Uint8Array,
  tls13: false,
): NewSessionTicket12<ArrayBuffer>;
/**
 * Decodes a TLS 1.3 NewSessionTicket message; see the TLS ≤1.2 overload for the rules.
 *
 * @param message The whole handshake message.
 * @param tls13 `true`.
 * @returns The TLS 1.3 fields.
 * @throws {TlsAlert} 50 on any length problem, 47 on a duplicate extension, 10 on a wrong type.
 *
 * @example
 * ```ts
 * import { decodeNewSessionTicket } from "./new_session_ticket.ts";
 * const msg = new Uint8Array([4, 0, 0, 14, 0, 0, 0, 60, 0, 0, 0, 9, 0, 0, 1, 0xaa, 0, 0]);
 * console.log(decodeNewSessionTicket(msg, true).ageAdd); // 9
 * ```
 */
export function decodeNewSessionTicket(
  message: Uint8Array,
  tls13: true,
): NewSessionTicket13<ArrayBuffer>;
/**
 * Decodes a NewSessionTicket message of either layout; see the TLS ≤1.2 overload for the rules.
 *
 * @param message The whole handshake message.
 * @param tls13 Which layout to expect.
 * @returns The fields, discriminated by `tls13`.
 * @throws {TlsAlert} 50 on any length problem, 47 on a duplicate extension, 10 on a wrong type.
 *
 * @example
 * ```ts
 * import { decodeNewSessionTicket } from "./new_session_ticket.ts";
 * const nst = decodeNewSessionTicket(new Uint8Array([4, 0, 0, 6, 0, 0, 0, 0, 0, 0]), false);
 * console.log(nst.tls13); // false
 * ```
 */
export function decodeNewSessionTicket(
  message: Uint8Array,
  tls13: boolean,
): NewSessionTicket<ArrayBuffer>;
export function decodeNewSessionTicket(
  message: Uint8Array,
  tls13: boolean,
): NewSessionTicket<ArrayBuffer> {
  const m = new Reader(message, "NewSessionTicket");
  const type = m.u8("handshake type");
  if (type !== NEW_SESSION_TICKET_TYPE) {
    throw new TlsAlert(
      UNEXPECTED_MESSAGE,
      `NewSessionTicket: handshake type ${type}, expected ${NEW_SESSION_TICKET_TYPE}`,
    );
  }
  const r = m.sub(m.u24("handshake length"), "body");
  m.expectEnd("handshake body");

  const lifetime = r.u32("ticket lifetime");
  if (!tls13) {
    const ticketLen = r.u16("ticket length");
    if (r.remaining !== ticketLen) {
      r.fail(`ticket length ${ticketLen} but ${r.remaining} bytes follow`);
    }
    return { tls13: false, lifetime, ticket: r.bytes(ticketLen, "ticket") };
  }
  const ageAdd = r.u32("ticket_age_add");
  const nonce = r.bytes(r.u8("nonce length"), "nonce");
  const ticketLen = r.u16("ticket length");
  if (ticketLen === 0) r.fail("empty TLS 1.3 ticket");
  const ticket = r.bytes(ticketLen, "ticket");
  const exts = readExtensionEntries(r.prefixed16("extensions"), false);
  r.expectEnd("extensions");
  let maxEarlyData = 0;
  const ed = exts.get(EARLY_DATA);
  if (ed !== undefined) {
    const e = new Reader(ed, "NewSessionTicket early_data");
    maxEarlyData = e.u32("max_early_data");
    e.expectEnd("max_early_data");
  }
  return { tls13: true, lifetime, ageAdd, nonce, ticket, maxEarlyData };
}
