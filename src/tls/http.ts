/**
 * `serveHttps`: HTTP/1.1 over this module's TLS 1.3 server, with Fetch-style handlers
 * (`Request` in, `Response` out). The HTTP parsing is Deno's built-in `node:http` server, which
 * takes each TLS connection as a socket (`server.emit("connection", duplex)`); no HTTP parser
 * is written here.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Duplex } from "node:stream";
import type { TlsConnection } from "./connection.ts";
import type { HandshakeInfo } from "./handshake.ts";
import { listenTls, type TlsListener, type TlsListenOptions } from "./listener.ts";

/** What a handler learns about the connection a request came on. */
export interface HttpsRequestInfo {
  /** The connection's handshake: resumed or not, the session and its ticket app data. */
  handshake: HandshakeInfo;
  /** The client's address. */
  remoteAddr: Deno.NetAddr | null;
}

/** A Fetch-style request handler. */
export type HttpsHandler = (
  request: Request,
  info: HttpsRequestInfo,
) => Response | Promise<Response>;

/** Options of {@link serveHttps}: those of `listenTls`, and hooks to watch handshakes. */
export interface ServeHttpsOptions extends TlsListenOptions {
  /** Called after each successful handshake, before the connection's first request. */
  onHandshake?: (info: HttpsRequestInfo) => void;
  /** Called when a handshake fails (the alert sent, or why the connection ended). */
  onError?: (error: unknown, remoteAddr: Deno.NetAddr | null) => void;
}

/** A running HTTPS server. */
export interface HttpsServer {
  /** The address listened on. */
  addr: Deno.NetAddr;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  /** Stops accepting connections and closes the open ones. */
  shutdown(): Promise<void>;
}

const infoKey = Symbol("tls info");

/** The socket `node:http` reads and writes: a Duplex over a TLS connection's streams. */
class TlsSocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly encrypted = true;
  [infoKey]: HttpsRequestInfo;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #conn: TlsConnection;
  #reading = false;
  #resume: (() => void) | null = null;

  constructor(conn: TlsConnection, info: HttpsRequestInfo) {
    super();
    this.#conn = conn;
    this[infoKey] = info;
    this.remoteAddress = info.remoteAddr?.hostname;
    this.remotePort = info.remoteAddr?.port;
    this.#writer = conn.writable.getWriter();
  }

  override _read(): void {
    if (this.#reading) {
      const resume = this.#resume;
      this.#resume = null;
      resume?.();
      return;
    }
    this.#reading = true;
    const reader = this.#conn.readable.getReader();
    (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.#touch();
          if (!this.push(value)) {
            // Backpressure: wait until node asks again.
            await new Promise<void>((r) => (this.#resume = r));
          }
        }
        this.push(null);
      } catch {
        this.destroy();
      }
    })();
  }

  override _write(chunk: Uint8Array, _enc: string, cb: (e?: Error | null) => void): void {
    this.#touch();
    this.#writer.write(new Uint8Array(chunk)).then(() => cb(), (e) => cb(e));
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.#writer.close().then(() => cb(), () => cb());
  }

  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    clearTimeout(this.#timer);
    this.#conn.close().finally(() => cb(e));
  }

  #timeoutMs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** As `net.Socket.setTimeout`: emits `timeout` after `ms` without activity (0: never). */
  setTimeout(ms: number, callback?: () => void): this {
    this.#timeoutMs = ms;
    if (callback) this.once("timeout", callback);
    this.#touch();
    return this;
  }

  /** Restarts the inactivity timer. */
  #touch(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#timeoutMs > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => this.emit("timeout"), this.#timeoutMs);
    }
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }
}

/** How much of a request body is read ahead of a handler that does not consume it. */
const REQUEST_BODY_HIGH_WATER_MARK = 64 * 1024;

/**
 * A request body as a stream that reads from the connection only as fast as the handler takes
 * it: `node:http` is paused once 64 KiB wait unread, so a client cannot make the server buffer
 * a large upload the handler does not want. Cancelling the stream destroys the request.
 *
 * @param req The request, as `node:http` gives it (anything with its events and
 * `pause`/`resume`/`destroy`).
 * @returns The body stream.
 *
 * @example
 * ```ts
 * import { EventEmitter } from "node:events";
 * import type { IncomingMessage } from "node:http";
 * import { requestBody } from "./http.ts";
 * const req = Object.assign(new EventEmitter(), { pause() {}, resume() {}, destroy() {} });
 * const body = requestBody(req as unknown as IncomingMessage);
 * req.emit("data", new Uint8Array([104, 105]));
 * req.emit("end");
 * console.log(await new Response(body).text()); // "hi"
 * ```
 */
export function requestBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  // Events that arrive after the stream ended or was cancelled are dropped: enqueueing into a
  // closed stream throws, and a throw in a node:http listener would reach the event loop.
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (c: Uint8Array) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(c));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on("end", () => {
        if (open) controller.close();
        open = false;
      });
      req.on("error", (e) => {
        if (open) controller.error(e);
        open = false;
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      open = false;
      req.destroy();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: REQUEST_BODY_HIGH_WATER_MARK }));
}

function toRequest(req: IncomingMessage, info: HttpsRequestInfo): Request {
  const host = req.headers.host ?? info.handshake.serverName ?? "localhost";
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(new URL(req.url ?? "/", `https://${host}`), {
    method,
    headers,
    body: hasBody ? requestBody(req) : null,
  });
}

async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) {
    const prev = headers[name];
    headers[name] = prev === undefined ? value : [...[prev].flat(), value];
  }
  if (response.statusText) res.writeHead(response.status, response.statusText, headers);
  else res.writeHead(response.status, headers);
  if (response.body) {
    // Leaving the loop early (the client went away) cancels the handler's body stream.
    for await (const chunk of response.body) {
      if (res.destroyed) break;
      // Backpressure: wait while the client reads slower than the handler produces.
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
  }
  if (!res.destroyed) res.end();
}

/** Resolves at the response's next `drain` or `close`, whichever comes first. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Serves HTTPS (HTTP/1.1 over this module's TLS 1.3 server): each request goes to `handler`
 * as a `Request`, with what the connection's handshake negotiated; its `Response` is sent back.
 * A handler that throws gets a 500 response.
 *
 * @param options As {@link listenTls} (`alpnProtocols` defaults to `["http/1.1"]`), plus
 * `onHandshake` / `onError` hooks.
 * @param handler The request handler.
 * @returns The running server.
 *
 * @example
 * ```ts ignore
 * import { serveHttps } from "@seed/session-tickets/tls";
 * import { SslContext } from "@seed/session-tickets";
 * const server = await serveHttps(
 *   { port: 8443, cert: certPem, key: keyPem, context: await SslContext.create() },
 *   (_req, { handshake }) => new Response(handshake.resumed ? "resumed\n" : "new session\n"),
 * );
 * await server.shutdown();
 * ```
 */
export async function serveHttps(
  options: ServeHttpsOptions,
  handler: HttpsHandler,
): Promise<HttpsServer> {
  const { onHandshake, onError, ...listenOptions } = options;
  const listener: TlsListener = await listenTls({
    alpnProtocols: ["http/1.1"],
    ...listenOptions,
  });
  const open = new Set<TlsConnection>();
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const info = (req.socket as unknown as TlsSocket)[infoKey];
    (async () => {
      try {
        await sendResponse(res, await handler(toRequest(req, info), info));
      } catch {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end();
        } else {
          // The body failed after the head was sent: end the connection rather than let a
          // truncated body look complete.
          res.destroy();
        }
      }
    })();
  });
  // node:http closes a connection after each response unless the server is listening; this one
  // listens through `listenTls`, so it says so (HTTP/1.1 keep-alive then works as in Node).
  let stopped = false;
  Object.defineProperty(http, "listening", { configurable: true, get: () => !stopped });
  const report = (f: () => void) => {
    try {
      f();
    } catch {
      // A throwing hook must not take the server down.
    }
  };
  const finished = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      conn.handshake().then(
        (handshake) => {
          const info = { handshake, remoteAddr: conn.remoteAddr };
          if (onHandshake) report(() => onHandshake(info));
          const socket = new TlsSocket(conn, info);
          socket.once("close", () => open.delete(conn));
          http.emit("connection", socket);
        },
        (e) => {
          open.delete(conn);
          if (onError) report(() => onError(e, conn.remoteAddr));
        },
      );
    }
  })();
  return {
    addr: listener.addr,
    finished,
    async shutdown() {
      stopped = true;
      listener.close();
      await finished;
      await Promise.allSettled([...open].map((c) => c.close()));
      http.close();
    },
  };
}
