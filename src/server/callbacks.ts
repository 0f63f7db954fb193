/**
 * The callback types of `SSL_CTX_set_session_ticket_cb` and the ticket key callback, with
 * OpenSSL's return values (`include/openssl/ssl.h.in`).
 *
 * @module
 */

import type { SslSession } from "../session/ssl_session.ts";
import type { TicketKey } from "../ticket/ticket_key.ts";
import type { TicketStatus } from "../ticket/status.ts";
import type { ServerConnection } from "./server_connection.ts";

/**
 * What `dec_cb` returns (`SSL_TICKET_RETURN_*`).
 *
 * @example
 * ```ts
 * import { DecryptTicketReturn } from "@seed/session-tickets";
 * console.log(DecryptTicketReturn.USE_RENEW); // 4
 * ```
 */
export const DecryptTicketReturn = {
  /** Fatal: the handshake ends with internal_error (80). */
  ABORT: 0,
  /** Do not use the ticket; do not send a new one. */
  IGNORE: 1,
  /** Do not use the ticket; send a new one. */
  IGNORE_RENEW: 2,
  /** Use the ticket; do not send a new one. */
  USE: 3,
  /** Use the ticket and send a new one. */
  USE_RENEW: 4,
} as const;

/** One of the {@link DecryptTicketReturn} values. */
export type DecryptTicketReturn = typeof DecryptTicketReturn[keyof typeof DecryptTicketReturn];

/**
 * `gen_cb` (`SSL_CTX_generate_session_ticket_fn`): called once per NewSessionTicket, before the
 * ticket is sealed, with `conn.session` the session that goes into it. Returning 0 ends the
 * handshake with internal_error (80); any other number continues. May return a Promise.
 */
export type GenerateTicketCallback = (
  conn: ServerConnection,
  arg: unknown,
) => number | Promise<number>;

/**
 * `dec_cb` (`SSL_CTX_decrypt_session_ticket_fn`): called after a ticket was opened (or found
 * empty), with the session (non-null only for SUCCESS and SUCCESS_RENEW), OpenSSL's `keyname`
 * (its length is `keyname_length`) and the status. Returns a {@link DecryptTicketReturn}.
 */
export type DecryptTicketCallback = (
  conn: ServerConnection,
  session: SslSession | null,
  keyName: Uint8Array,
  status: TicketStatus,
  arg: unknown,
) => number | Promise<number>;

/**
 * What a {@link TicketKeyCallback} returns: OpenSSL's return value, and for a positive one the
 * key to seal or open with (an `"openssl"`-format {@link TicketKey}) and, when sealing, the IV
 * (random when omitted).
 */
export interface TicketKeyCallbackResult {
  /** issue: <0 fatal, 0 no ticket, >0 go on. accept: <0 fatal, 0 not found, 1 ok, 2 ok and renew. */
  ret: number;
  /** The key to use when `ret > 0`. */
  key?: TicketKey;
  /** A fixed 16-byte IV when sealing (random when omitted). */
  iv?: Uint8Array;
}

/**
 * The ticket key callback (`SSL_CTX_set_tlsext_ticket_key_evp_cb`). When sealing (`enc` true)
 * `keyName` and `iv` are empty and the callback chooses the key; when opening they are the
 * ticket's first 16 bytes and the next 16, and the callback finds the key by name. A throw, a
 * rejected promise, a negative `ret`, or a result that is not `{ ret, key: TicketKey }` ends the
 * handshake with internal_error (80), the message naming `ticketKeyCb` and the type of what it
 * returned.
 */
export type TicketKeyCallback = (
  conn: ServerConnection,
  keyName: Uint8Array,
  iv: Uint8Array,
  enc: boolean,
) => TicketKeyCallbackResult | Promise<TicketKeyCallbackResult>;

/**
 * An external PSK lookup (`SSL_CTX_set_psk_find_session_callback`): the session for a TLS 1.3
 * PSK identity, or `null` when the identity is not an external PSK. A throw, a rejected promise
 * or anything else returned (`{}`, a string, a number) ends the handshake with internal_error
 * (80), the message naming `pskFindSession` and the type of what it returned.
 */
export type PskFindSessionCallback = (
  conn: ServerConnection,
  identity: Uint8Array,
) => SslSession | null | Promise<SslSession | null>;
