/**
 * `TlsConnection`: one server-side TLS 1.3 (or TLS 1.2) connection over a byte transport (a
 * `Deno.Conn`): the handshake, driven by the ticket engine for every ticket decision, then
 * application data as Web streams, NewSessionTickets on request and KeyUpdate in both directions
 * (TLS 1.3), a refused renegotiation (TLS 1.2) and close_notify.
 * Any protocol violation sends the RFC's alert and closes the connection; a handshake that
 * does not finish in time is closed; nothing a peer sends escapes as an unhandled rejection.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../server/alert.ts";
import type { ServerConnection } from "../server/server_connection.ts";
import type { SslContext } from "../server/ssl_context.ts";
import type { ServerCredentials } from "./certificate.ts";
import { TlsConnectionError } from "./errors.ts";
import {
  cipherFor,
  type HandshakeInfo,
  type HandshakeResult,
  serverHandshake,
  type ServerNameContexts,
} from "./handshake.ts";
import { type EphemeralKeyPairSource, generateEphemeralKeyPair } from "./key_exchange.ts";
import { nextTrafficSecret } from "./key_schedule.ts";
import { handshakeMessage, HandshakeType } from "./messages.ts";
import { ContentType, type TlsTransport } from "./record.ts";
import { concatBytes } from "../ticket/bytes.ts";
import { RecordStream } from "./record_stream.ts";

/** The default limit on a handshake's duration, 10 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * Records sent under one key before this server updates its key (RFC 8446 §5.5 asks for a
 * KeyUpdate well before 2^24.5 AES-GCM records).
 */
export const KEY_UPDATE_AFTER_RECORDS = 2 ** 24;
/** The largest post-handshake message accepted from a client (a KeyUpdate is 5 bytes). */
const MAX_POST_HANDSHAKE_MESSAGE = 1024;

/** Options of one server connection. */
export interface TlsConnectionOptions {
  /** The certificate chain and private key (`ServerCredentials.fromPem`). */
  credentials: ServerCredentials;
  /** The ticket engine's context: callbacks, ticket keys, options. */
  context: SslContext;
  /** ALPN protocols, in the server's order of preference. */
  alpnProtocols?: readonly string[];
  /**
   * Contexts by SNI name (a map or a function), as `SSL_set_SSL_CTX` in a servername callback:
   * a name found is acknowledged with an empty server_name (TLS 1.3: on resumption too; TLS 1.2:
   * full handshakes only), and tickets stay with `context`. A function that throws is
   * internal_error (80).
   */
  serverNames?: ServerNameContexts;
  /** The longest a handshake may take, in milliseconds (default 10 000). */
  handshakeTimeoutMs?: number;
  /** Random bytes for ServerHello.random (default `crypto.getRandomValues`; tests only). */
  random?: (n: number) => Uint8Array;
  /** The server's ephemeral ECDHE key pairs (default: fresh from Web Crypto; tests only). */
  ephemeralKeys?: EphemeralKeyPairSource;
}

/**
 * One server connection. The handshake starts when the connection is made; `handshake()`
 * waits for it. Read and write application data through `readable` and `writable`.
 *
 * @example
 * ```ts ignore
 * import { acceptTls, ServerCredentials } from "@seed/session-tickets/tls";
 * import { SslContext } from "@seed/session-tickets";
 * const credentials = await ServerCredentials.fromPem(certPem, keyPem);
 * const context = await SslContext.create();
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 8443 });
 * for await (const tcp of listener) {
 *   const conn = acceptTls(tcp, { credentials, context });
 *   const info = await conn.handshake();
 *   console.log(info.resumed);
 *   await conn.close();
 * }
 * ```
 */
export class TlsConnection {
  /** The ticket engine's connection (`SSL`): counters, `dec_cb` calls, the session. */
  readonly engine: ServerConnection;
  /** The client's address, when the transport has one (a `Deno.Conn`). */
  readonly remoteAddr: Deno.NetAddr | null;
  readonly #rs: RecordStream;
  readonly #handshake: Promise<HandshakeResult>;
  #state: HandshakeResult | null = null;
  #timedOut = false;
  #closed = false;

  /**
   * Wraps an accepted transport and starts the handshake; see {@link acceptTls}.
   *
   * @param transport The accepted connection.
   * @param options Credentials, context and options.
   */
  constructor(transport: TlsTransport, options: TlsConnectionOptions) {
    this.#rs = new RecordStream(transport);
    const addr = (transport as Partial<Deno.Conn>).remoteAddr;
    this.remoteAddr = addr?.transport === "tcp" ? addr : null;
    this.engine = options.context.newConnection();
    this.#handshake = this.#runHandshake(options);
    this.#handshake.catch(() => {}); // reported through handshake() and the streams
  }

  #readable: ReadableStream<Uint8Array> | null = null;
  #writable: WritableStream<Uint8Array> | null = null;

  /** Application data from the client; ends at the client's close_notify. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      pull: (controller) => this.#pull(controller),
      cancel: () => this.#abort(),
    }, { highWaterMark: 0 });
  }

  /** Application data to the client; closing it sends close_notify. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.#write(chunk),
      close: () => this.close(),
      abort: () => this.#abort(),
    });
  }

  /**
   * Waits for the handshake (including the NewSessionTickets sent after the client's
   * Finished) and returns what was negotiated.
   *
   * @returns The version, suite, group, ALPN, server name, whether it resumed, the PSK
   * identity, the session with its ticket app data, and the `dec_cb` calls.
   * @throws {TlsAlert} the alert this server sent; {TlsConnectionError} when the peer closed,
   * alerted or timed out.
   */
  async handshake(): Promise<HandshakeInfo> {
    return (await this.#handshake).info;
  }

  async #runHandshake(options: TlsConnectionOptions): Promise<HandshakeResult> {
    const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(() => {
      this.#timedOut = true;
      this.#rs.closeNow();
    }, timeoutMs);
    try {
      const result = await serverHandshake(this.#rs, {
        credentials: options.credentials,
        context: options.context,
        alpnProtocols: options.alpnProtocols ?? [],
        serverNames: options.serverNames,
        random: options.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
        ephemeralKeys: options.ephemeralKeys ?? generateEphemeralKeyPair,
      }, this.engine);
      // TLS 1.3: NewSessionTickets right after the client's Finished, before any application
      // data (TLS 1.2 sent its ticket inside the handshake).
      if (result.info.version === "TLSv1.3") {
        result.info.ticketsSent = await this.#sendTickets(result);
      }
      result.info.session = this.engine.session;
      this.#state = result;
      return result;
    } catch (e) {
      throw await this.#fail(e);
    } finally {
      clearTimeout(timer);
    }
  }

  async #sendTickets(state: HandshakeResult): Promise<number> {
    const tickets = await this.engine.newSessionTickets({
      resumptionMasterSecret: state.resumptionMasterSecret,
    });
    if (tickets.length === 0) return 0;
    await this.#rs.write(ContentType.HANDSHAKE, concatBytes(tickets.map((t) => t.bytes)));
    return tickets.length;
  }

  /** Turns any failure into a typed error, sends our alert if there is one, and closes. */
  async #fail(e: unknown): Promise<Error> {
    let error: Error;
    if (this.#timedOut) {
      error = new TlsConnectionError("timeout", "the handshake did not finish in time");
    } else if (e instanceof TlsAlert || e instanceof TlsConnectionError) {
      error = e;
    } else if (
      e instanceof Deno.errors.BadResource || e instanceof Deno.errors.ConnectionReset ||
      e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.Interrupted
    ) {
      error = new TlsConnectionError("closed", `the connection failed: ${(e as Error).message}`);
    } else {
      error = new TlsAlert(AlertDescription.INTERNAL_ERROR, `internal error: ${String(e)}`);
    }
    if (error instanceof TlsAlert && !this.#closed) await this.#rs.sendAlert(error.alert);
    this.#closed = true;
    this.#rs.closeNow();
    return error;
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let state: HandshakeResult;
    try {
      state = await this.#handshake;
    } catch (e) {
      controller.error(e);
      return;
    }
    try {
      for (;;) {
        if (this.#closed) {
          controller.close();
          return;
        }
        const rec = await this.#rs.readPostHandshake(MAX_POST_HANDSHAKE_MESSAGE);
        if (rec.kind === "close") {
          controller.close();
          return;
        }
        if (rec.kind === "data") {
          if (rec.data.length === 0) continue;
          controller.enqueue(rec.data);
          return;
        }
        await this.#postHandshake(state, rec.message.type, rec.message.body);
      }
    } catch (e) {
      if (this.#closed) {
        controller.close(); // closed by this side while a read was pending
        return;
      }
      controller.error(await this.#fail(e));
    }
  }

  /**
   * A handshake message after the handshake: TLS 1.3 only KeyUpdate (RFC 8446 §4.6.3); TLS 1.2
   * a ClientHello, refused with a no_renegotiation warning (RFC 5746 §4.4, RFC 5246 §7.2.2).
   */
  async #postHandshake(state: HandshakeResult, type: number, body: Uint8Array): Promise<void> {
    if (state.info.version === "TLSv1.2") {
      if (type !== HandshakeType.CLIENT_HELLO) {
        throw new TlsAlert(
          AlertDescription.UNEXPECTED_MESSAGE,
          `handshake message ${type} after the TLS 1.2 handshake`,
        );
      }
      await this.#rs.sendAlert(AlertDescription.NO_RENEGOTIATION, true);
      return;
    }
    if (type !== HandshakeType.KEY_UPDATE) {
      throw new TlsAlert(
        AlertDescription.UNEXPECTED_MESSAGE,
        `handshake message ${type} after the handshake`,
      );
    }
    if (body.length !== 1) {
      throw new TlsAlert(AlertDescription.DECODE_ERROR, "KeyUpdate of the wrong length");
    }
    if (body[0] > 1) {
      throw new TlsAlert(AlertDescription.ILLEGAL_PARAMETER, "KeyUpdate request is not 0 or 1");
    }
    state.clientSecret = nextTrafficSecret(state.hash, state.clientSecret);
    this.#rs.setReadCipher(await cipherFor(state.hash, state.clientSecret, state.keyLength));
    if (body[0] === 1) await this.#updateWriteKey(state, false);
  }

  /** Sends KeyUpdate and switches to the next server traffic secret (RFC 8446 §4.6.3, §7.2). */
  async #updateWriteKey(state: HandshakeResult, requestPeer: boolean): Promise<void> {
    const message = handshakeMessage(
      HandshakeType.KEY_UPDATE,
      new Uint8Array([requestPeer ? 1 : 0]),
    );
    const sent = this.#rs.write(ContentType.HANDSHAKE, message);
    state.serverSecret = nextTrafficSecret(state.hash, state.serverSecret);
    this.#rs.setWriteCipher(await cipherFor(state.hash, state.serverSecret, state.keyLength));
    await sent;
  }

  /**
   * Sends a KeyUpdate now, optionally asking the client to update its key too
   * (`SSL_key_update`).
   *
   * @param requestPeer Send `update_requested` (the client answers with its own KeyUpdate).
   */
  async keyUpdate(requestPeer = false): Promise<void> {
    const state = await this.#handshake;
    if (state.info.version !== "TLSv1.3") {
      throw new TypeError("KeyUpdate is TLS 1.3 only; this connection is TLS 1.2");
    }
    await this.#updateWriteKey(state, requestPeer);
  }

  async #write(chunk: Uint8Array): Promise<void> {
    const state = await this.#handshake;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("TlsConnection.writable takes Uint8Array chunks");
    }
    if (state.info.version === "TLSv1.3" && this.#rs.writeSequence >= KEY_UPDATE_AFTER_RECORDS) {
      await this.#updateWriteKey(state, false);
    }
    try {
      await this.#rs.write(ContentType.APPLICATION_DATA, chunk);
    } catch (e) {
      throw await this.#fail(e);
    }
  }

  /**
   * `SSL_new_session_ticket`: sends one more NewSessionTicket now (TLS 1.3, after the
   * handshake's own tickets).
   *
   * @returns How many tickets were sent (0 if the engine declined, e.g. its key callback
   * returned 0).
   */
  async requestTicket(): Promise<number> {
    const state = await this.#handshake;
    if (!this.engine.requestTicket()) return 0;
    try {
      return await this.#sendTickets(state);
    } catch (e) {
      throw await this.#fail(e);
    }
  }

  /**
   * Sends close_notify and closes the connection. Safe to call more than once and on a
   * connection whose handshake failed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#state === null) {
      // The handshake has not finished: abandon it (it then fails with kind "closed").
      this.#abort();
      await this.#handshake.catch(() => {});
      return;
    }
    if (this.#closed) return;
    this.#closed = true;
    await this.#rs.sendAlert(AlertDescription.CLOSE_NOTIFY);
    await this.#rs.close();
  }

  #abort(): void {
    this.#closed = true;
    this.#rs.closeNow();
  }
}

/**
 * Starts a TLS 1.3 (or, for a TLS 1.2 client, TLS 1.2) server handshake on an accepted connection (a `Deno.Conn` from
 * `Deno.listen`, or any {@link TlsTransport}).
 *
 * @param transport The accepted connection.
 * @param options Credentials, the ticket engine's context and options.
 * @returns The connection; `await conn.handshake()` for the outcome.
 *
 * @example
 * ```ts ignore
 * import { acceptTls, ServerCredentials } from "@seed/session-tickets/tls";
 * import { SslContext } from "@seed/session-tickets";
 * const credentials = await ServerCredentials.fromPem(certPem, keyPem);
 * const context = await SslContext.create();
 * const tcp = await Deno.listen({ hostname: "127.0.0.1", port: 8443 }).accept();
 * const conn = acceptTls(tcp, { credentials, context });
 * console.log((await conn.handshake()).cipherSuite);
 * ```
 */
export function acceptTls(transport: TlsTransport, options: TlsConnectionOptions): TlsConnection {
  return new TlsConnection(transport, options);
}
