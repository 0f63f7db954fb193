/**
 * Errors of the TLS server layer that are not alerts this server sends: the peer went away, the
 * peer sent a fatal alert, or the handshake took too long. (A fatal condition this server
 * detects is a `TlsAlert` from `src/errors.ts`, which it sends before closing.)
 *
 * @module
 */

/** Why a TLS connection ended without an alert of ours. */
export type TlsConnectionErrorKind = "closed" | "peer-alert" | "timeout";

/**
 * The connection ended: the peer closed the transport in the middle of a handshake or record
 * (`closed`), sent a fatal alert (`peer-alert`, with its number), or did not finish the
 * handshake in time (`timeout`).
 *
 * @example
 * ```ts
 * import { TlsConnectionError } from "./errors.ts";
 * const e = new TlsConnectionError("peer-alert", "the client sent alert 48", 48);
 * console.log(e.kind, e.alert); // peer-alert 48
 * ```
 */
export class TlsConnectionError extends Error {
  /** What happened. */
  readonly kind: TlsConnectionErrorKind;
  /** The alert the peer sent (`peer-alert` only), else -1. */
  readonly alert: number;
  /**
   * Creates a connection error.
   *
   * @param kind What happened.
   * @param message A one-line description.
   * @param alert The peer's alert number for `peer-alert`.
   */
  constructor(kind: TlsConnectionErrorKind, message: string, alert = -1) {
    super(message);
    this.name = "TlsConnectionError";
    this.kind = kind;
    this.alert = alert;
  }
}
