/**
 * session-tickets: OpenSSL's server-side TLS session-ticket subsystem for Deno.
 *
 * - {@link SslSession} is OpenSSL's `SSL_SESSION`; {@link encodeSession} and
 *   {@link decodeSession} are byte-compatible with `i2d_SSL_SESSION` / `d2i_SSL_SESSION`.
 * - {@link TicketKey} seals sessions into tickets (AES-256-GCM, or OpenSSL's AES-CBC +
 *   HMAC-SHA256 format) and reads every product's key layout; {@link TicketKeyRing} rotates
 *   keys through pending, active and decrypt-only states.
 * - {@link SslContext} and {@link ServerConnection} are OpenSSL's `SSL_CTX` and `SSL` for
 *   tickets: `gen_cb`, `dec_cb`, app data, and the resumption decisions OpenSSL makes.
 *
 * The rest lives in subpath exports: `./tls` (a TLS 1.3 server), `./fleet` (keys shared by a
 * fleet), `./openssl` (OpenSSL's names), `./testing` (loopback handshakes), `./wire` (wire
 * codecs for a TLS stack of your own), `./der` (the DER reader and writer) and `./cli`.
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

export { DerError } from "./src/der/errors.ts";
export { NoSealingKeyError, type NoSealingKeyReason, TicketKeyError } from "./src/ticket/errors.ts";
export { AlertDescription, TlsAlert } from "./src/server/alert.ts";
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
export {
  MAX_TICKET_LENGTH,
  MAX_TICKET_PLAINTEXT_LENGTH,
  MIN_TICKET_LENGTH,
  type OpenedTicketBytes,
  type OpenOptions,
  sealedTicketLength,
  type SealOptions,
  TICKET_KEY_NAME_LENGTH,
  type TicketFailureReason,
  type TicketFormat,
} from "./src/ticket/ticket_format.ts";
export type { TicketByteSealer, TicketOpenResult, TicketSealer } from "./src/ticket/sealer.ts";
export {
  DEFAULT_CBC_SEAL_BUDGET,
  DEFAULT_GCM_SEAL_BUDGET,
  type GenerateTicketKeyOptions,
  TICKET_KEY_LAYOUTS,
  TicketKey,
  type TicketKeyCryptoKeys,
  type TicketKeyLayout,
  type TicketKeyOptions,
} from "./src/ticket/ticket_key.ts";
export {
  type AddTicketKeyOptions,
  DEFAULT_DECRYPT_ONLY_PERIOD_MS,
  DEFAULT_ROTATION_INTERVAL_MS,
  type TicketKeyInfo,
  type TicketKeyMetrics,
  TicketKeyRing,
  type TicketKeyRingMetrics,
  type TicketKeyRingOptions,
  type TicketKeyState,
} from "./src/ticket/key_ring.ts";
export {
  DEFAULT_NUM_TICKETS,
  DEFAULT_SESSION_TIMEOUT,
  SslContext,
  type SslContextMetrics,
  type SslContextOptions,
  TICKET_KEYS_LENGTH,
} from "./src/server/ssl_context.ts";
export {
  type ClientHello,
  type ConnectionCounters,
  type DecryptCallbackCall,
  type HelloDecision,
  type IssuedTicket,
  type NegotiatedSession,
  ONE_WEEK_SEC,
  ServerConnection,
  TLS1_2_VERSION,
  TLS1_3_VERSION,
} from "./src/server/server_connection.ts";
export {
  type DecryptTicketCallback,
  DecryptTicketReturn,
  type GenerateTicketCallback,
  type PskFindSessionCallback,
  type TicketKeyCallback,
  type TicketKeyCallbackResult,
} from "./src/server/callbacks.ts";
export { DEFAULT_SESSION_CACHE_SIZE, SessionCache } from "./src/server/session_cache.ts";
