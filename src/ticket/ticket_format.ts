/**
 * Ticket wire formats, size limits and the result of opening a ticket at the byte level.
 *
 * Two formats exist. The format is a property of the {@link TicketKey} that seals a ticket, and the
 * first 16 bytes of every ticket are that key's name, so a reader finds the key (and with it the
 * format) from the name alone.
 *
 * `"aes-256-gcm"` (the default, this module's own format):
 *
 * ```text
 * key_name[16] | nonce[12] | ciphertext[L] | tag[16]        (length L + 44)
 *   AES-256-GCM, key = the key's 32-byte AES key, iv = nonce (12 random bytes per ticket),
 *   additional data = key_name, tag = 16 bytes; the plaintext is the session DER
 * ```
 *
 * `"openssl"` (RFC 5077 section 4 / OpenSSL `construct_stateless_ticket`, byte for byte):
 *
 * ```text
 * key_name[16] | iv[16] | ciphertext[16*ceil((L+1)/16)] | mac[32]
 *   ciphertext = AES-CBC with PKCS#7 padding (AES-256 with 80-byte keys, AES-128 with 48-byte keys)
 *   mac = HMAC-SHA256(hmac key (32 or 16 bytes), key_name | iv | ciphertext)
 * ```
 *
 * Versioning: tickets carry no version byte, because OpenSSL's `dec_cb` and every peer reads the
 * key name at offset 0. A ticket's version is its key's format: a future layout gets a new format
 * name (for example `"aes-256-gcm-v2"`) that only newly generated keys use, and a
 * {@link TicketKeyRing} opens each ticket with the format of the key its name selects, so old and
 * new tickets coexist during a rotation. The session plaintext has its own version (the
 * `SSL_SESSION` DER starts with `version 1`, `SSL_SESSION_ASN1_VERSION`).
 *
 * @module
 */

import { TicketStatus } from "./status.ts";

/**
 * The sealing format of a ticket key: `"aes-256-gcm"` (default) or `"openssl"` (AES-CBC +
 * HMAC-SHA256, the RFC 5077 layout OpenSSL, nginx, HAProxy and Node use).
 */
export type TicketFormat = "aes-256-gcm" | "openssl";

/** Length of the key name that starts every ticket (`TLSEXT_KEYNAME_LENGTH`). */
export const TICKET_KEY_NAME_LENGTH = 16;

/**
 * Largest ticket this module opens: a ticket travels in a 16-bit length field, so anything longer
 * is refused as `NO_DECRYPT` before any cryptography runs.
 */
export const MAX_TICKET_LENGTH = 65535;

/**
 * Largest plaintext this module seals: OpenSSL's `construct_stateless_ticket` refuses a session
 * DER of 0 bytes or more than `0xFF00` bytes.
 */
export const MAX_TICKET_PLAINTEXT_LENGTH = 0xff00;

/**
 * Shortest ticket any key is looked up for: `16 + EVP_MAX_IV_LENGTH` (check 3 of
 * `ssl/t1_lib.c:tls_decrypt_ticket`).
 */
export const MIN_TICKET_LENGTH = 32;

/**
 * Why a ticket did not open (`null` when it opened or was empty).
 *
 * - `tooShort`: shorter than the format's minimum (OpenSSL checks 3 and 8).
 * - `tooLong`: longer than {@link MAX_TICKET_LENGTH}; refused before any cryptography.
 * - `unknownKey`: no key has this key name (check 5b).
 * - `badMac`: the HMAC (openssl) or GCM tag (aes-256-gcm) does not verify (check 10).
 * - `badPadding`: the CBC ciphertext is not whole blocks or its padding is wrong (check 12).
 * - `badSession`: the plaintext is not an `SSL_SESSION` libssl would accept (checks 13, 14).
 */
export type TicketFailureReason =
  | "tooShort"
  | "tooLong"
  | "unknownKey"
  | "badMac"
  | "badPadding"
  | "badSession";

/** The result of opening a ticket to its plaintext bytes. */
export interface OpenedTicketBytes {
  /** `EMPTY`, `NO_DECRYPT`, `SUCCESS` or `SUCCESS_RENEW` (`TicketStatus`). */
  status: TicketStatus;
  /** The plaintext; non-null exactly when `status` is `SUCCESS` or `SUCCESS_RENEW`. */
  plaintext: Uint8Array | null;
  /**
   * OpenSSL's `keyname`/`keyname_length` for `dec_cb`: a view of the ticket's first
   * `min(16, eticklen)` bytes, with `eticklen` as `tls_decrypt_ticket` leaves it at exit
   * (0 for an empty ticket; fewer than 16 only for a ticket shorter than 16 bytes or a
   * MAC-valid openssl ticket whose ciphertext is shorter than 16 bytes).
   */
  keyName: Uint8Array;
  /** Why the ticket did not open, or `null`. */
  failure: TicketFailureReason | null;
}

/** Options for sealing one ticket. */
export interface SealOptions {
  /**
   * A fixed IV/nonce instead of a random one: 16 bytes for `"openssl"`, 12 for `"aes-256-gcm"`.
   * For reproducing test vectors only: reusing a GCM nonce under one key destroys its security.
   */
  iv?: Uint8Array;
}

/** Options for opening one ticket with one key. */
export interface OpenOptions {
  /**
   * Skip the key-name check (check 5b): for OpenSSL's key-callback path, where the callback
   * picked this key from the ticket's name itself. Default false.
   */
  anyName?: boolean;
}

/**
 * The ticket length a format gives a plaintext of `plaintextLength` bytes.
 *
 * @example
 * ```ts
 * import { sealedTicketLength } from "@seed/session-tickets";
 * console.log(sealedTicketLength("openssl", 107)); // 176
 * console.log(sealedTicketLength("aes-256-gcm", 107)); // 151
 * ```
 *
 * @param format The ticket format.
 * @param plaintextLength The plaintext (session DER) length in bytes.
 * @returns The sealed ticket length in bytes.
 */
export function sealedTicketLength(format: TicketFormat, plaintextLength: number): number {
  if (format === "openssl") return 32 + (plaintextLength - (plaintextLength % 16) + 16) + 32;
  return 28 + plaintextLength + 16;
}

/**
 * OpenSSL's `keyname` / `keyname_length` for `dec_cb`: a view of the ticket's first
 * `min(16, eticklen)` bytes, where `eticklen` is the ticket length as `tls_decrypt_ticket` leaves
 * it at exit (the whole ticket unless the format shortened it). No copy.
 *
 * @example
 * ```ts
 * import { ticketKeyName } from "./ticket_format.ts";
 * console.log(ticketKeyName(new Uint8Array(10)).length, ticketKeyName(new Uint8Array(64)).length); // 10 16
 * ```
 *
 * @param ticket The ticket bytes.
 * @param eticklen The length `tls_decrypt_ticket` reached (default: the ticket's length).
 * @returns A view of the key name bytes.
 */
export function ticketKeyName(ticket: Uint8Array, eticklen: number = ticket.length): Uint8Array {
  return ticket.subarray(0, eticklen < TICKET_KEY_NAME_LENGTH ? eticklen : TICKET_KEY_NAME_LENGTH);
}

/**
 * The checks of `ssl/t1_lib.c:tls_decrypt_ticket` that come before any key is looked up, the
 * same for every key, ring and key callback: an empty ticket is `EMPTY` (check 1); a ticket over
 * {@link MAX_TICKET_LENGTH} bytes is `NO_DECRYPT` (`tooLong`, this module's cap) and one under
 * {@link MIN_TICKET_LENGTH} bytes `NO_DECRYPT` (`tooShort`, check 3). Returns `null` when the
 * ticket goes on to a key.
 *
 * @example
 * ```ts
 * import { precheckTicket } from "./ticket_format.ts";
 * console.log(precheckTicket(new Uint8Array(0))?.status); // 3 (EMPTY)
 * console.log(precheckTicket(new Uint8Array(20))?.failure); // "tooShort"
 * console.log(precheckTicket(new Uint8Array(32))); // null
 * ```
 *
 * @param ticket The ticket bytes (a `Uint8Array`; the callers check).
 * @returns The early result, or `null`.
 */
export function precheckTicket(ticket: Uint8Array): OpenedTicketBytes | null {
  const n = ticket.length;
  if (n === 0) {
    return {
      status: TicketStatus.EMPTY,
      plaintext: null,
      keyName: ticket.subarray(0, 0),
      failure: null,
    };
  }
  if (n > MAX_TICKET_LENGTH) return noDecryptTicket(ticket, TICKET_KEY_NAME_LENGTH, "tooLong");
  if (n < MIN_TICKET_LENGTH) return noDecryptTicket(ticket, n, "tooShort");
  return null;
}

/**
 * A `NO_DECRYPT` result for a ticket that did not open, with OpenSSL's `keyName`
 * ({@link ticketKeyName} of `eticklen`) and the reason.
 *
 * @example
 * ```ts
 * import { noDecryptTicket } from "./ticket_format.ts";
 * const r = noDecryptTicket(new Uint8Array(64), 16, "unknownKey");
 * console.log(r.status, r.keyName.length, r.failure); // 4 16 "unknownKey"
 * ```
 *
 * @param ticket The ticket bytes.
 * @param eticklen The length `tls_decrypt_ticket` reached.
 * @param failure Why the ticket did not open.
 * @returns The result.
 */
export function noDecryptTicket(
  ticket: Uint8Array,
  eticklen: number,
  failure: TicketFailureReason,
): OpenedTicketBytes {
  return {
    status: TicketStatus.NO_DECRYPT,
    plaintext: null,
    keyName: ticketKeyName(ticket, eticklen),
    failure,
  };
}
