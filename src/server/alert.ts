/**
 * The ticket engine's fatal condition: a TLS alert with its RFC 8446 §6 number, as OpenSSL raises
 * it (`SSLfatal`). The TLS server sends it to the peer.
 *
 * @module
 */

/** TLS alert descriptions (RFC 8446 §6) that the ticket engine and the TLS server send. */
export const AlertDescription = {
  /** close_notify (0): the sender will send no more data (not an error). */
  CLOSE_NOTIFY: 0,
  /** unexpected_message (10): e.g. a handshake message of the wrong type. */
  UNEXPECTED_MESSAGE: 10,
  /** bad_record_mac (20): a record failed AEAD authentication. */
  BAD_RECORD_MAC: 20,
  /** record_overflow (22): a record longer than the protocol allows. */
  RECORD_OVERFLOW: 22,
  /** handshake_failure (40): e.g. an EMS session resumed without EMS, or nothing in common. */
  HANDSHAKE_FAILURE: 40,
  /** illegal_parameter (47): e.g. a field out of range or inconsistent with others. */
  ILLEGAL_PARAMETER: 47,
  /** decode_error (50): a malformed message or extension. */
  DECODE_ERROR: 50,
  /** decrypt_error (51): a Finished or PSK binder that does not verify. */
  DECRYPT_ERROR: 51,
  /** protocol_version (70): the client offers no version the server speaks. */
  PROTOCOL_VERSION: 70,
  /** inappropriate_fallback (86): TLS_FALLBACK_SCSV below the server's best version (RFC 7507). */
  INAPPROPRIATE_FALLBACK: 86,
  /** internal_error (80): callback failures, ABORT, fatal ticket errors. */
  INTERNAL_ERROR: 80,
  /** user_canceled (90): the peer abandons the handshake. */
  USER_CANCELED: 90,
  /** no_renegotiation (100): a warning; TLS 1.2 renegotiation is refused (RFC 5246 §7.2.2). */
  NO_RENEGOTIATION: 100,
  /** missing_extension (109): a mandatory extension is absent. */
  MISSING_EXTENSION: 109,
  /** unrecognized_name (112): no server matches the requested name. */
  UNRECOGNIZED_NAME: 112,
  /** no_application_protocol (120): none of the client's ALPN protocols is served. */
  NO_APPLICATION_PROTOCOL: 120,
} as const;

/**
 * A fatal TLS alert: the handshake ends and the peer is sent this alert number.
 *
 * @example
 * ```ts
 * import { TlsAlert } from "@seed/session-tickets";
 * const a = new TlsAlert(80, "dec_cb returned ABORT");
 * console.log(a.alert); // 80
 * ```
 */
export class TlsAlert extends Error {
  /** The alert description number sent to the peer (40, 47, 50, 80...). */
  readonly alert: number;
  /**
   * Creates a fatal alert.
   *
   * @param alert The TLS alert description number.
   * @param message Why the alert is raised.
   */
  constructor(alert: number, message: string) {
    super(`TLS alert ${alert}: ${message}`);
    this.name = "TlsAlert";
    this.alert = alert;
  }
}
