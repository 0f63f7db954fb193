/**
 * `listenTls`: a TCP listener (`Deno.listen`) whose connections run this module's TLS 1.3
 * (and TLS 1.2) server, so OpenSSL's ticket callbacks and keys decide every resumption.
 *
 * @module
 */

import { ServerCredentials } from "./certificate.ts";
import { acceptTls, type TlsConnection, type TlsConnectionOptions } from "./connection.ts";

/** How long to wait after a failed accept before the next one. */
const ACCEPT_RETRY_MS = 50;

/** Options of {@link listenTls}: where to listen, the certificate and key, and the server's. */
export interface TlsListenOptions extends Omit<TlsConnectionOptions, "credentials"> {
  /** The address to listen on (default `"127.0.0.1"`). */
  hostname?: string;
  /** The port (0: any free port; see `listener.addr`). */
  port: number;
  /** The certificate chain, PEM, leaf first. */
  cert: string;
  /** The private key, PEM (PKCS#8, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`). */
  key: string;
}

/**
 * Accepted TLS connections, as an async iterable. Each connection's handshake has already
 * started when it is yielded.
 *
 * @example
 * ```ts ignore
 * import { listenTls } from "@seed/session-tickets/tls";
 * import { SslContext } from "@seed/session-tickets";
 * const listener = await listenTls({ port: 0, cert, key, context: await SslContext.create() });
 * console.log(listener.addr.port);
 * listener.close();
 * ```
 */
export class TlsListener implements AsyncIterable<TlsConnection> {
  /** The address listened on. */
  readonly addr: Deno.NetAddr;
  readonly #listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  readonly #options: TlsConnectionOptions;

  /**
   * Wraps a TCP listener; use {@link listenTls}.
   *
   * @param listener The TCP listener.
   * @param options The connection options.
   */
  constructor(
    listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>,
    options: TlsConnectionOptions,
  ) {
    this.#listener = listener;
    this.#options = options;
    this.addr = listener.addr;
  }

  /**
   * The next connection.
   *
   * @throws `Deno.errors.BadResource` once the listener is closed.
   */
  async accept(): Promise<TlsConnection> {
    const tcp = await this.#listener.accept();
    return acceptTls(tcp, this.#options);
  }

  /** Iterates connections until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<TlsConnection> {
    for (;;) {
      let conn: TlsConnection;
      try {
        conn = await this.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
        // A failed accept (a connection reset before it was taken, no file descriptors left)
        // must not end the server: wait a moment and accept again.
        await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
        continue;
      }
      yield conn;
    }
  }

  /** Stops listening (open connections stay open). */
  close(): void {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }
}

/**
 * Listens on a TCP port and runs the TLS 1.3 / 1.2 server on every connection, with OpenSSL's
 * ticket engine (`context`) deciding tickets and resumption.
 *
 * @param options Where to listen, the certificate chain and key (PEM), the `SslContext`, ALPN
 * protocols, servername contexts and the handshake timeout.
 * @returns The listener; iterate it for connections.
 * @throws {CertificateError} when the certificate or key cannot be used.
 *
 * @example
 * ```ts ignore
 * import { listenTls } from "@seed/session-tickets/tls";
 * import { SslContext } from "@seed/session-tickets";
 * const listener = await listenTls({
 *   hostname: "127.0.0.1", port: 8443, cert: certPem, key: keyPem,
 *   context: await SslContext.create(), alpnProtocols: ["http/1.1"],
 * });
 * for await (const conn of listener) {
 *   const info = await conn.handshake();
 *   console.log(info.resumed ? "resumed" : "full");
 *   await conn.close();
 * }
 * ```
 */
export async function listenTls(options: TlsListenOptions): Promise<TlsListener> {
  const credentials = await ServerCredentials.fromPem(options.cert, options.key);
  const { hostname = "127.0.0.1", port, cert: _cert, key: _key, ...rest } = options;
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  return new TlsListener(listener, { ...rest, credentials });
}
