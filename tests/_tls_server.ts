/**
 * A test server on this module's TLS stack (TLS 1.3, and TLS 1.2 for TLS 1.2 clients):
 * `listenTls` on a free loopback port, every connection's handshake outcome (or error) and engine
 * counters recorded, and `stop()` closing the listener and every connection it accepted. The default application: write one line
 * `"hello <resumed|new>\n"`, then echo what the client sends until it closes.
 *
 * @module
 */

import {
  type ConnectionCounters,
  DecryptTicketReturn,
  type SslContext,
  TicketStatus,
} from "../mod.ts";
import {
  type HandshakeInfo,
  listenTls,
  type TlsConnection,
  type TlsListenOptions,
} from "../tls.ts";

/** One accepted connection as the test server saw it. */
export interface ServedConnection {
  /** The handshake outcome, when it succeeded. */
  info: HandshakeInfo | null;
  /** The error that ended the handshake or the connection, if any. */
  error: unknown;
  /** The engine's callback counts for this connection. */
  counters: ConnectionCounters;
  /** The connection itself. */
  conn: TlsConnection;
}

/** A running test server. */
export interface TestTlsServer {
  /** The loopback port. */
  port: number;
  /** Every connection so far, in accept order. */
  connections: ServedConnection[];
  /** Waits until `n` connections have finished (handshake and application), at most `ms`. */
  waitFor(n: number, ms?: number): Promise<ServedConnection[]>;
  /** Stops the listener and closes every connection. */
  stop(): Promise<void>;
}

/** Options: those of `listenTls` without the port, and an optional application. */
export interface TestTlsServerOptions extends Omit<TlsListenOptions, "port" | "context"> {
  /** The ticket engine's context. */
  context: SslContext;
  /** What to do after the handshake (default: greet, then echo until the client closes). */
  app?: (conn: TlsConnection, info: HandshakeInfo) => Promise<void>;
}

async function greetAndEcho(conn: TlsConnection, info: HandshakeInfo): Promise<void> {
  const writer = conn.writable.getWriter();
  await writer.write(new TextEncoder().encode(`hello ${info.resumed ? "resumed" : "new"}\n`));
  writer.releaseLock();
  const reader = conn.readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const w = conn.writable.getWriter();
    await w.write(value);
    w.releaseLock();
  }
}

/**
 * Starts a test server on 127.0.0.1 and a free port.
 *
 * @example
 * ```ts ignore
 * const server = await startTlsServer({ cert, key, context });
 * // ... connect a client to server.port ...
 * await server.stop();
 * ```
 */
export async function startTlsServer(options: TestTlsServerOptions): Promise<TestTlsServer> {
  const { app = greetAndEcho, ...rest } = options;
  const listener = await listenTls({ ...rest, hostname: "127.0.0.1", port: 0 });
  const connections: ServedConnection[] = [];
  const done: Promise<void>[] = [];
  let finished = 0;
  const waiters: (() => void)[] = [];
  const serve = (async () => {
    for await (const conn of listener) {
      const entry: ServedConnection = {
        info: null,
        error: null,
        counters: conn.engine.counters,
        conn,
      };
      connections.push(entry);
      done.push((async () => {
        try {
          entry.info = await conn.handshake();
          await app(conn, entry.info);
        } catch (e) {
          entry.error = e;
        } finally {
          await conn.close().catch(() => {});
          finished++;
          for (const w of waiters.splice(0)) w();
        }
      })());
    }
  })();
  return {
    port: listener.addr.port,
    connections,
    async waitFor(n: number, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (finished < n && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
          waiters.push(() => (clearTimeout(t), resolve()));
        });
      }
      return connections;
    },
    async stop() {
      listener.close();
      await serve;
      for (const c of connections) await c.conn.close().catch(() => {});
      await Promise.allSettled(done);
    },
  };
}

/**
 * dec_cb's "don't change the default" answer (OpenSSL's `test/helpers/handshake.c`): use a
 * SUCCESS ticket, renew a SUCCESS_RENEW one, and otherwise make a full handshake with a new
 * ticket.
 *
 * @example
 * ```ts
 * import { defaultDecision } from "./_tls_server.ts";
 * console.log(defaultDecision(5)); // 3 (USE)
 * ```
 */
export function defaultDecision(status: number): number {
  if (status === TicketStatus.SUCCESS) return DecryptTicketReturn.USE;
  if (status === TicketStatus.SUCCESS_RENEW) return DecryptTicketReturn.USE_RENEW;
  return DecryptTicketReturn.IGNORE_RENEW;
}
