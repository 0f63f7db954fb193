/**
 * Ticket statuses, with OpenSSL's numeric values (`SSL_TICKET_*` in `include/openssl/ssl.h.in`).
 *
 * @module
 */

/**
 * The outcome of opening a ticket, with OpenSSL's `SSL_TICKET_STATUS` values.
 *
 * @example
 * ```ts
 * import { TicketStatus } from "@seed/session-tickets";
 * console.log(TicketStatus.SUCCESS_RENEW); // 6
 * ```
 */
export const TicketStatus = {
  /** Internal: allocation failure (never passed to `dec_cb`). */
  FATAL_ERR_MALLOC: 0,
  /** Internal: fatal error (never passed to `dec_cb`). */
  FATAL_ERR_OTHER: 1,
  /** Internal: no ticket, tickets disabled, or `dec_cb` returned IGNORE. */
  NONE: 2,
  /** A zero-length ticket (TLS 1.2 empty `session_ticket` extension). */
  EMPTY: 3,
  /** A ticket was present but could not be used. */
  NO_DECRYPT: 4,
  /** Decrypted; no renewal needed. */
  SUCCESS: 5,
  /** Decrypted; the server should issue a fresh ticket. */
  SUCCESS_RENEW: 6,
} as const;

/** One of the {@link TicketStatus} values. */
export type TicketStatus = typeof TicketStatus[keyof typeof TicketStatus];
