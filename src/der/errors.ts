/**
 * The DER layer's error: a structure that cannot be read, or that breaks OpenSSL's
 * `d2i_SSL_SESSION` rules.
 *
 * @module
 */

/**
 * A DER structure could not be read or does not satisfy OpenSSL's `d2i_SSL_SESSION` rules.
 *
 * @example
 * ```ts
 * import { DerError, decodeSession } from "@seed/session-tickets";
 * try {
 *   decodeSession(new Uint8Array([0x30, 0x05]));
 * } catch (e) {
 *   console.log(e instanceof DerError); // true
 * }
 * ```
 */
export class DerError extends Error {
  /** Byte offset in the input where the problem was found (or -1 when not positional). */
  readonly offset: number;
  /**
   * Creates a DER error.
   *
   * @param message What is wrong, naming the field when there is one.
   * @param offset Byte offset of the problem in the input, -1 when unknown.
   */
  constructor(message: string, offset = -1) {
    super(offset >= 0 ? `${message} (at byte ${offset})` : message);
    this.name = "DerError";
    this.offset = offset;
  }
}
