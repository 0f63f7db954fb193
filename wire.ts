/**
 * The ticket engine's wire codecs, for a TLS or QUIC stack written in TypeScript: the
 * NewSessionTicket message (TLS 1.2 and 1.3), ClientHello extension blocks and the
 * `session_ticket` body, the TLS 1.3 `pre_shared_key` and `psk_key_exchange_modes` extensions
 * (read lazily, as libssl does), and the TLS 1.3 cipher suites' hashes. Malformed input is a
 * `TlsAlert` with libssl's alert number.
 *
 * @example
 * ```ts
 * import { decodeNewSessionTicket, encodeNewSessionTicket } from "@seed/session-tickets/wire";
 * const bytes = encodeNewSessionTicket({ tls13: false, lifetime: 7200, ticket: new Uint8Array(32) });
 * console.log(decodeNewSessionTicket(bytes, false).lifetime); // 7200
 * ```
 *
 * @module
 */

export {
  decodeNewSessionTicket,
  encodeNewSessionTicket,
  NEW_SESSION_TICKET_TYPE,
  type NewSessionTicket,
  type NewSessionTicket12,
  type NewSessionTicket13,
  TICKET_NONCE_SIZE,
} from "./src/server/wire/new_session_ticket.ts";
export {
  encodeExtensions,
  ExtensionType,
  parseExtensions,
  type ParseExtensionsOptions,
  sessionTicketFromExtensions,
} from "./src/server/wire/extensions.ts";
export {
  encodePreSharedKey,
  encodePskKeyExchangeModes,
  parsePreSharedKey,
  parsePskKeyExchangeModes,
  type PreSharedKeyOffer,
  PreSharedKeyReader,
  type PskIdentity,
  PskKeyExchangeMode,
  type PskKeyExchangeModes,
  type ReceivedPskIdentity,
} from "./src/server/wire/psk.ts";
export {
  isTls13Suite,
  TLS13_CIPHER_SUITES,
  type Tls13CipherSuite,
  tls13Suite,
  type TlsHash,
} from "./src/server/wire/cipher_suites.ts";
