/**
 * A TLS 1.3 server for Deno, which also speaks TLS 1.2 (RFC 5077 tickets and the session-id
 * cache) to clients whose best version is 1.2, that runs OpenSSL's session-ticket engine on the
 * wire: `gen_cb`, `dec_cb`, ticket app data, ticket keys from a `TicketKeyRing` or a
 * `FleetRing`, so sessions resume across restarts and across a fleet of processes. Real clients
 * (OpenSSL, Node, curl) resume against it.
 *
 * - {@link listenTls} listens on TCP and yields {@link TlsConnection}s; {@link acceptTls}
 *   wraps a connection you accepted yourself.
 * - Each connection has `readable` / `writable` Web streams, `handshake()` (what was
 *   negotiated, whether it resumed, the session and its app data), `requestTicket()`,
 *   `keyUpdate()` and `close()`.
 * - {@link serveHttps} serves HTTP/1.1 with Fetch-style handlers over it.
 * - A handshake that fails rejects with a {@link TlsAlert} (the alert this server sent, its
 *   number in `alert`, as {@link AlertDescription} names them) or a
 *   {@link TlsConnectionError} (the peer closed, alerted or timed out).
 *
 * @example
 * ```ts ignore
 * import { SslContext } from "@seed/session-tickets";
 * import { listenTls } from "@seed/session-tickets/tls";
 *
 * const context = await SslContext.create({
 *   genCb: (conn) => (conn.session!.setTicketAppData("user=42"), 1),
 * });
 * const listener = await listenTls({
 *   port: 8443,
 *   cert: await Deno.readTextFile("cert.pem"),
 *   key: await Deno.readTextFile("key.pem"),
 *   context,
 * });
 * for await (const conn of listener) {
 *   const info = await conn.handshake();
 *   console.log(info.resumed, info.session?.getTicketAppData());
 *   await conn.close();
 * }
 * ```
 *
 * @module
 */

export {
  CertificateError,
  type CertificateErrorReason,
  type KeyType,
  ServerCredentials,
  SignatureScheme,
} from "./src/tls/certificate.ts";
export {
  acceptTls,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  TlsConnection,
  type TlsConnectionOptions,
} from "./src/tls/connection.ts";
export { TlsConnectionError, type TlsConnectionErrorKind } from "./src/tls/errors.ts";
export { AlertDescription, TlsAlert } from "./src/server/alert.ts";
export { type HandshakeInfo, type ServerNameContexts } from "./src/tls/handshake.ts";
export { type EphemeralKeyPairSource, NamedGroup } from "./src/tls/key_exchange.ts";
export { listenTls, TlsListener, type TlsListenOptions } from "./src/tls/listener.ts";
export type { TlsTransport } from "./src/tls/record.ts";
export {
  type HttpsHandler,
  type HttpsRequestInfo,
  type HttpsServer,
  serveHttps,
  type ServeHttpsOptions,
} from "./src/tls/http.ts";
