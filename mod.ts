/**
 * session-tickets: OpenSSL's server-side TLS session-ticket subsystem for Deno.
 *
 * - {@link SslSession} is OpenSSL's `SSL_SESSION`; {@link encodeSession} and
 *   {@link decodeSession} are byte-compatible with `i2d_SSL_SESSION` / `d2i_SSL_SESSION`.
 *
 * @example
 * ```ts
 * import { decodeSession, sessionToPem, SslSession } from "@seed/session-tickets";
 * const s = new SslSession({ sslVersion: 0x0303, cipherId: 0xc030, time: 1795963723, timeout: 7200 });
 * s.setTicketAppData("HelloWorld");
 * console.log(sessionToPem(s).startsWith("-----BEGIN SSL SESSION PARAMETERS-----")); // true
 * ```
 *
 * @module
 */

export { AlertDescription, DerError, TicketKeyError, TlsAlert } from "./src/errors.ts";
export { type DerHeader, DerReader, MAX_DEPTH } from "./src/der/reader.ts";
export { DerWriter } from "./src/der/writer.ts";
export {
  MAX_MASTER_KEY_LENGTH,
  MAX_SESSION_ID_LENGTH,
  MAX_SID_CTX_LENGTH,
  SESSION_FLAG_EXTMS,
  SslSession,
  type SslSessionInit,
} from "./src/session/ssl_session.ts";
export {
  cipherName,
  decodeSession,
  type DecodeSessionOptions,
  encodeSession,
  SESSION_ASN1_VERSION,
  sessionFromPem,
  sessionToPem,
} from "./src/session/codec.ts";
export { TicketStatus } from "./src/ticket/status.ts";
