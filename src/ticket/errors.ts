/**
 * The ticket layer's error: key material of the wrong length or layout, or a key that cannot be
 * used.
 *
 * @module
 */

/**
 * Ticket key material has the wrong length, an unknown layout, or a key cannot be used.
 *
 * @example
 * ```ts
 * import { TicketKeyError } from "@seed/session-tickets";
 * const e = new TicketKeyError("openssl-80 keys are 80 bytes, got 48");
 * console.log(e.name); // "TicketKeyError"
 * ```
 */
export class TicketKeyError extends Error {
  /**
   * Creates a ticket key error.
   *
   * @param message What is wrong and, for lengths, which lengths are accepted.
   */
  constructor(message: string) {
    super(message);
    this.name = "TicketKeyError";
  }
}
