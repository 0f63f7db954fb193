/**
 * Private: the `serve` command, an HTTPS server on this module's TLS 1.3 server (`serveHttps`)
 * that prints each handshake (full or resumed, every `dec_cb` status and return, tickets sent)
 * and answers every request with a page saying how its connection was set up. Ticket keys come
 * from a key file (`--keys`, so restarts resume), a fleet's store (`--store`, so a fleet of
 * `serve` processes resumes each other's sessions) or, by default, a random key.
 *
 * @module
 */

import { FleetRing } from "../fleet/fleet_ring.ts";
import type { KeyStore } from "../fleet/key_store.ts";
import { DecryptTicketReturn } from "../server/callbacks.ts";
import { decryptTicketReturnName, ticketStatusName } from "../server/names.ts";
import type { DecryptCallbackCall } from "../server/server_connection.ts";
import { SslContext } from "../server/ssl_context.ts";
import { TicketKeyRing } from "../ticket/key_ring.ts";
import type { TicketSealer } from "../ticket/sealer.ts";
import { TicketStatus } from "../ticket/status.ts";
import { CertificateError } from "../tls/certificate.ts";
import type { HandshakeInfo } from "../tls/handshake.ts";
import { type HttpsServer, serveHttps } from "../tls/http.ts";
import { parseArgs } from "./_args.ts";
import { CliError, usageError } from "./_errors.ts";
import { fleetSettings, kekOption, openStore, storeError } from "./_fleet.ts";
import { type CliIo, readSource, utf8 } from "./_io.ts";
import { activeKeys, LAYOUT_NAMES, loadKeys, parseLayout } from "./_keys.ts";

/**
 * The usual `dec_cb` answer: use a ticket that opened (renewing it when its key asked for
 * renewal), else ignore it and send a fresh one.
 *
 * @example
 * ```ts
 * import { defaultDecReturn } from "./_serve.ts";
 * console.log(defaultDecReturn(5), defaultDecReturn(6), defaultDecReturn(4)); // 3 4 2
 * ```
 *
 * @param status The status `dec_cb` received.
 * @returns USE for SUCCESS, USE_RENEW for SUCCESS_RENEW, else IGNORE_RENEW.
 */
export function defaultDecReturn(status: number): DecryptTicketReturn {
  return status === TicketStatus.SUCCESS
    ? DecryptTicketReturn.USE
    : status === TicketStatus.SUCCESS_RENEW
    ? DecryptTicketReturn.USE_RENEW
    : DecryptTicketReturn.IGNORE_RENEW;
}

/**
 * `dec_cb` calls as `STATUS->RETURN`, comma-separated (`?` for a callback that failed).
 *
 * @example
 * ```ts
 * import { describeDecCalls } from "./_serve.ts";
 * console.log(describeDecCalls([{ status: 6, keyNameLength: 16, ret: 4 }])); // "SUCCESS_RENEW->USE_RENEW"
 * ```
 *
 * @param calls The calls, in order.
 * @returns The text ("" for none).
 */
export function describeDecCalls(calls: readonly DecryptCallbackCall[]): string {
  return calls.map((c) =>
    `${ticketStatusName(c.status) ?? c.status}->${
      c.ret === null ? "?" : decryptTicketReturnName(c.ret) ?? c.ret
    }`
  ).join(",");
}

/** Ticket app data as a quoted string (JSON escapes), or `none`. */
function quoteAppData(data: Uint8Array | null | undefined): string {
  if (!data) return "none";
  try {
    return JSON.stringify(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    return `hex:${data.toHex()}`;
  }
}

/** `host:port`, IPv6 in brackets. */
function hostPort(addr: { hostname: string; port: number } | null): string {
  if (addr === null) return "?";
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/**
 * The line `serve` prints for a handshake.
 *
 * @example
 * ```ts
 * import { handshakeLine } from "./_serve.ts";
 * const info = {
 *   version: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256", group: "x25519",
 *   alpnProtocol: null, serverName: null, resumed: false, pskIdentity: -1,
 *   helloRetryRequest: false, signatureScheme: "ecdsa_secp256r1_sha256", session: null,
 *   ticketsSent: 2, ticketsNotSealed: [], decCbCalls: [],
 * } as const;
 * console.log(handshakeLine(info, { hostname: "127.0.0.1", port: 53412 }));
 * // "handshake 127.0.0.1:53412 full TLS_AES_128_GCM_SHA256 x25519 tickets=2"
 * ```
 *
 * @param info What the handshake negotiated.
 * @param remote The client's address.
 * @returns One line, without the newline.
 */
export function handshakeLine(
  info: HandshakeInfo,
  remote: { hostname: string; port: number } | null,
): string {
  const parts = [
    "handshake",
    hostPort(remote),
    info.resumed ? "resumed" : "full",
    info.cipherSuite,
    info.group,
  ];
  if (info.helloRetryRequest) parts.push("hrr");
  if (info.serverName !== null) parts.push(`sni=${info.serverName}`);
  if (info.alpnProtocol !== null) parts.push(`alpn=${info.alpnProtocol}`);
  if (info.decCbCalls.length > 0) parts.push(`dec_cb ${describeDecCalls(info.decCbCalls)}`);
  if (info.resumed) parts.push(`app-data=${quoteAppData(info.session?.getTicketAppData())}`);
  parts.push(`tickets=${info.ticketsSent}`);
  const notSealed = info.ticketsNotSealed ?? [];
  if (notSealed.length > 0) parts.push(`(no key seals: ${notSealed[0].reason})`);
  return parts.join(" ");
}

/**
 * The page `serve` answers every request with: how the request's connection was set up.
 *
 * @example
 * ```ts
 * import { connectionPage } from "./_serve.ts";
 * const info = {
 *   version: "TLSv1.3", cipherSuite: "TLS_AES_256_GCM_SHA384", group: "x25519",
 *   alpnProtocol: "http/1.1", serverName: null, resumed: false, pskIdentity: -1,
 *   helloRetryRequest: false, signatureScheme: "ecdsa_secp256r1_sha256", session: null,
 *   ticketsSent: 2, ticketsNotSealed: [], decCbCalls: [],
 * } as const;
 * const page = connectionPage(info, { hostname: "127.0.0.1", port: 53412 }, 1, 4242);
 * console.log(page.split("\n")[2]); // "resumed: no (full handshake, signed with ecdsa_secp256r1_sha256)"
 * ```
 *
 * @param info The connection's handshake.
 * @param remote The client's address.
 * @param request Which request this is on the connection (from 1).
 * @param pid The server's process id.
 * @returns The page, plain text.
 */
export function connectionPage(
  info: HandshakeInfo,
  remote: { hostname: string; port: number } | null,
  request: number,
  pid: number,
): string {
  const calls = info.decCbCalls;
  const app = quoteAppData(info.session?.getTicketAppData());
  const lines = [
    `session-tickets serve (process ${pid})`,
    `connection: ${hostPort(remote)}, request ${request} on this connection`,
    info.resumed
      ? `resumed: yes (${resumedFrom(info)})`
      : `resumed: no (full handshake, signed with ${info.signatureScheme ?? "?"})`,
    `${info.version} ${info.cipherSuite}, key exchange ${info.group}${
      info.helloRetryRequest ? " after a HelloRetryRequest" : ""
    }, ALPN ${info.alpnProtocol ?? "none"}, SNI ${info.serverName ?? "none"}`,
    calls.length === 0
      ? "dec_cb: not called (the client offered no ticket)"
      : `dec_cb: ${describeDecCalls(calls)} (status->return, one per ticket offered)`,
    info.resumed
      ? `ticket app data: ${app} (carried in the ticket since the session began)`
      : info.ticketsSent > 0
      ? `ticket app data: ${app} (sealed into the tickets sent just now)`
      : "ticket app data: none (no tickets sent)",
    info.version === "TLSv1.2"
      ? `tickets sent in the handshake: ${info.ticketsSent}`
      : `tickets sent after the handshake: ${info.ticketsSent}`,
  ];
  return lines.join("\n") + "\n";
}

/** Where a resumed session came from: a ticket (TLS 1.3: the PSK identity) or the cache. */
function resumedFrom(info: HandshakeInfo): string {
  if (info.version === "TLSv1.3") {
    return `from the client's session ticket, PSK identity ${info.pskIdentity}`;
  }
  const used = info.decCbCalls.some((c) =>
    (c.status === TicketStatus.SUCCESS || c.status === TicketStatus.SUCCESS_RENEW) &&
    (c.ret === DecryptTicketReturn.USE || c.ret === DecryptTicketReturn.USE_RENEW)
  );
  return used ? "from the client's session ticket" : "from the session-id cache";
}

const FLEET_OPTIONS = [
  "prefix",
  "kek-file",
  "format",
  "rotation-interval",
  "decrypt-period",
  "propagation-delay",
  "max-clock-skew",
  "max-processes",
];

/** Where the ticket keys come from, and what to release at the end. */
interface KeySource {
  sealer?: TicketSealer;
  describe: string;
  ring?: FleetRing;
  store?: KeyStore;
}

async function keysFromFile(
  path: string,
  layoutOption: unknown,
  io: CliIo,
): Promise<KeySource> {
  if (layoutOption === undefined) {
    throw usageError(
      `serve --keys needs --layout L, the key file's layout (one of ${
        LAYOUT_NAMES.join(", ")
      }); see serve --help`,
    );
  }
  const layout = parseLayout(layoutOption as string, "--layout", "serve");
  const material = await readSource(path, "key file", io);
  let keys;
  try {
    keys = await loadKeys(material, layout, path === "-" ? "standard input" : path);
  } finally {
    material.fill(0);
  }
  // As the products use their files: haproxy's last 3 lines, the penultimate sealing; the
  // others open tickets as SUCCESS_RENEW. Nothing expires: the file is the schedule.
  const { usable, sealer } = activeKeys(keys);
  const ring = new TicketKeyRing({ rotationInterval: Infinity, decryptOnlyPeriod: Infinity });
  ring.add(sealer, { state: "active" });
  for (const k of usable) if (k !== sealer) ring.add(k, { state: "decrypt-only" });
  const n = usable.length;
  return {
    sealer: ring,
    describe: `${path} (${layout}, ${n} key${n === 1 ? "" : "s"}, sealing with ${
      sealer.nameHex.slice(0, 8)
    }...): a restart with this file resumes sessions`,
  };
}

async function keysFromFleet(
  spec: string,
  options: Record<string, unknown>,
): Promise<KeySource> {
  const settings = fleetSettings(options);
  let store: KeyStore;
  try {
    store = await openStore(spec);
  } catch (e) {
    throw storeError(e);
  }
  try {
    const kek = await kekOption(options);
    const ring = await FleetRing.start({ store, kek, ...settings });
    const status = ring.status();
    let sealing: string;
    if (status.sealing !== null) {
      sealing = `sealing with key ${status.sealing.interval} (${
        status.sealing.name.slice(0, 8)
      }...)`;
    } else {
      const from = status.keys.map((k) => k.sealFrom).filter((t) => t !== null && t > status.now);
      const first = from.length === 0 ? null : Math.min(...(from as number[]));
      sealing = first === null
        ? "no key seals yet"
        : `no key seals yet: a new fleet starts sealing propagation delay + clock skew after it is founded, here in ${
          ((first - status.now) / 1000).toFixed(1)
        } s`;
    }
    return {
      sealer: ring,
      ring,
      store,
      describe: `fleet ${status.prefix} in ${spec}, ${sealing}`,
    };
  } catch (e) {
    await store.close().catch(() => {});
    throw storeError(e);
  }
}

function parsePort(v: unknown): number {
  if (v === undefined) return 8443;
  const s = String(v);
  if (!/^[0-9]{1,5}$/.test(s) || Number(s) > 65535) {
    throw usageError(`--port takes a port number from 0 to 65535 (0: any free port), got "${s}"`);
  }
  return Number(s);
}

function parseAlpn(values: unknown): string[] {
  const list = ((values as string[] | undefined) ?? ["http/1.1"]).flatMap((v) => v.split(","));
  for (const p of list) {
    const n = utf8(p).length;
    if (n === 0 || n > 255) {
      throw usageError(`--alpn takes protocol names of 1 to 255 bytes, such as http/1.1`);
    }
  }
  return list;
}

/**
 * Runs `serve --cert FILE --key FILE [--hostname H] [--port N] [--alpn P[,P]]
 * [--keys FILE --layout L | --store S [fleet options]]` until SIGINT or SIGTERM (or `stop`
 * aborts): prints `listening on https://HOST:PORT/`, the key source, then one line per
 * handshake.
 *
 * @example
 * ```ts ignore
 * import { serveCommand } from "./_serve.ts";
 * import { resolveIo } from "./_io.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 1000);
 * await serveCommand(["--cert", "cert.pem", "--key", "key.pem", "--port", "0"], resolveIo(), stop.signal);
 * ```
 *
 * @param args The arguments after `serve`.
 * @param io Standard streams.
 * @param stop Stops the server when aborted (besides SIGINT and SIGTERM).
 * @returns 0 once stopped.
 * @throws {CliError} For usage errors and failures (one line each).
 */
export async function serveCommand(
  args: readonly string[],
  io: CliIo,
  stop?: AbortSignal,
): Promise<number> {
  const { options, positionals } = parseArgs("serve", args, {
    cert: "string",
    key: "string",
    hostname: "string",
    port: "string",
    alpn: "strings",
    keys: "string",
    layout: "string",
    store: "string",
    prefix: "string",
    "kek-file": "string",
    format: "string",
    "rotation-interval": "string",
    "decrypt-period": "string",
    "propagation-delay": "string",
    "max-clock-skew": "string",
    "max-processes": "string",
  });
  if (positionals.length > 0) {
    throw usageError(`serve takes no arguments, got "${positionals[0]}"; see serve --help`);
  }
  const certPath = options.cert as string | undefined;
  const keyPath = options.key as string | undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw usageError(
      "serve needs --cert FILE and --key FILE (PEM certificate chain and private key); see serve --help",
    );
  }
  const port = parsePort(options.port);
  const hostname = (options.hostname as string | undefined) ?? "127.0.0.1";
  const alpnProtocols = parseAlpn(options.alpn);
  const keysPath = options.keys as string | undefined;
  const storeSpec = options.store as string | undefined;
  if (keysPath !== undefined && storeSpec !== undefined) {
    throw usageError("give --keys FILE or --store S, not both; see serve --help");
  }
  if (keysPath === undefined && options.layout !== undefined) {
    throw usageError("--layout goes with --keys FILE (the key file's layout)");
  }
  const stray = FLEET_OPTIONS.find((o) => options[o] !== undefined);
  if (storeSpec === undefined && stray !== undefined) {
    throw usageError(`--${stray} goes with --store (a fleet's shared keys); see serve --help`);
  }
  if ([certPath, keyPath, keysPath].filter((p) => p === "-").length > 1) {
    throw usageError("standard input (-) can be read only once; give the other files by name");
  }
  const cert = new TextDecoder().decode(await readSource(certPath, "certificate file", io));
  const keyBytes = await readSource(keyPath, "private key file", io);
  const key = new TextDecoder().decode(keyBytes);
  keyBytes.fill(0);

  const source: KeySource = keysPath !== undefined
    ? await keysFromFile(keysPath, options.layout, io)
    : storeSpec !== undefined
    ? await keysFromFleet(storeSpec, options)
    : { describe: "random, made at start (sessions resume only while this process runs)" };
  const pid = Deno.pid;
  let server: HttpsServer | null = null;
  const signals: [Deno.Signal, () => void][] = [];
  try {
    const context = await SslContext.create({
      ticketKeys: source.sealer,
      // The app data is set once, when the session begins; renewed tickets carry it on, so a
      // resumption anywhere shows which process made the session, and when.
      genCb: (conn) => {
        const s = conn.session!;
        if (s.getTicketAppData() === null) {
          s.setTicketAppData(`served-by=${pid};t=${new Date().toISOString()}`);
        }
        return 1;
      },
      decCb: (_conn, _session, _keyName, status) => defaultDecReturn(status),
    });
    const requests = new WeakMap<HandshakeInfo, number>();
    const counts = { handshakes: 0, resumed: 0 };
    let output = Promise.resolve();
    const say = (line: string) => {
      output = output.then(() => io.stdout(utf8(line + "\n"))).catch(() => {});
      return output;
    };
    try {
      server = await serveHttps(
        {
          hostname,
          port,
          cert,
          key,
          context,
          alpnProtocols,
          onHandshake: ({ handshake, remoteAddr }) => {
            counts.handshakes++;
            if (handshake.resumed) counts.resumed++;
            say(handshakeLine(handshake, remoteAddr));
          },
          onError: (error, remoteAddr) => {
            const why = error instanceof Error ? error.message : String(error);
            say(`handshake ${hostPort(remoteAddr)} failed: ${why}`);
          },
        },
        (_request, { handshake, remoteAddr }) => {
          const n = (requests.get(handshake) ?? 0) + 1;
          requests.set(handshake, n);
          return new Response(connectionPage(handshake, remoteAddr, n, pid), {
            headers: { "content-type": "text/plain; charset=utf-8" },
          });
        },
      );
    } catch (e) {
      throw listenError(e, hostname, port, certPath, keyPath);
    }
    const stopped = new Promise<string>((resolve) => {
      for (const sig of ["SIGINT", "SIGTERM"] as const) {
        const handler = () => resolve(sig);
        try {
          Deno.addSignalListener(sig, handler);
          signals.push([sig, handler]);
        } catch {
          // Not on this platform (Windows has no SIGTERM): Ctrl-C or a kill still ends it.
        }
      }
      if (stop?.aborted) resolve("stop");
      stop?.addEventListener("abort", () => resolve("stop"), { once: true });
    });
    await say(`listening on https://${hostPort(server.addr)}/`);
    await say(`ticket keys: ${source.describe}`);
    const why = await Promise.race([stopped, server.finished.then(() => "listener closed")]);
    await server.shutdown();
    server = null;
    await say(
      `stopped (${why}) after ${counts.handshakes} handshake${
        counts.handshakes === 1 ? "" : "s"
      }, ${counts.resumed} resumed`,
    );
    return 0;
  } finally {
    for (const [sig, handler] of signals) Deno.removeSignalListener(sig, handler);
    await server?.shutdown().catch(() => {});
    await source.ring?.stop();
    await source.store?.close().catch(() => {});
  }
}

function listenError(
  e: unknown,
  hostname: string,
  port: number,
  certPath: string,
  keyPath: string,
): unknown {
  if (e instanceof CertificateError) {
    return new CliError(`cannot use --cert ${certPath} with --key ${keyPath}: ${e.message}`);
  }
  if (e instanceof Deno.errors.AddrInUse) {
    return new CliError(
      `port ${port} on ${hostname} is in use; pick another with --port (0: any free port)`,
    );
  }
  if (e instanceof Deno.errors.AddrNotAvailable) {
    return new CliError(`cannot listen on ${hostname}: no such local address; check --hostname`);
  }
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    return new CliError(
      `no permission to listen on ${hostname}:${port}; run with --allow-net (deno task cli does)`,
    );
  }
  return e;
}

/** The help text of `serve`. */
export const SERVE_HELP =
  `Usage: serve --cert FILE --key FILE [--hostname H] [--port N] [--alpn P[,P...]]
             [--keys FILE --layout L | --store S [--prefix P] [--kek-file F] ...]

Serves HTTPS on this module's TLS 1.3 server, with OpenSSL's ticket engine deciding every
resumption. Prints "listening on https://HOST:PORT/", where the ticket keys come from, then one
line per handshake:
  handshake 127.0.0.1:53412 full TLS_AES_256_GCM_SHA384 x25519 alpn=http/1.1 tickets=2
  handshake 127.0.0.1:53420 resumed TLS_AES_256_GCM_SHA384 x25519 dec_cb SUCCESS->USE app-data="served-by=4242;t=..." tickets=0
(a connection is printed with its first request). Every request gets a short page saying how
its connection was set up: resumed or not, the dec_cb status and return, the ticket app data,
tickets sent. Connections stay open until the client closes them. gen_cb sets the app data
"served-by=PID;t=TIME" when a session begins, and renewed tickets carry it on; dec_cb uses a
ticket that opened (SUCCESS -> USE, SUCCESS_RENEW -> USE_RENEW) and ignores the others with a
fresh ticket (IGNORE_RENEW). SIGINT (Ctrl-C) or SIGTERM stops it.

Options:
  --cert FILE        the certificate chain, PEM, leaf first
  --key FILE         its private key, PEM (PKCS#8, EC or RSA)
  --hostname H       the address to listen on (default 127.0.0.1)
  --port N           the port (default 8443; 0: any free port, printed)
  --alpn P[,P...]    ALPN protocols, in preference order (default http/1.1); repeatable
  Ticket keys (default: a random key, so sessions resume only while the process runs):
  --keys FILE        a ticket key file (keygen makes one), so a restart resumes sessions;
  --layout L         ...in this layout (run --help for the list); a haproxy file seals with
                     its penultimate line and opens with its last 3, as HAProxy does
  --store S          a fleet's shared keys (FleetRing), so every serve process on the same
                     store resumes the others' sessions: kv:PATH (a Deno KV file; needs
                     --unstable-kv) or etcd:http://127.0.0.1:2379[,http://...]
  --prefix P, --kek-file F, --format F, --rotation-interval T, --decrypt-period T,
  --propagation-delay T, --max-clock-skew T, --max-processes N
                     as for fleet (see fleet --help): the key-encryption key defaults to
                     SESSION_TICKETS_KEK; a new fleet seals only after propagation delay +
                     clock skew (defaults 10s and 60s)

Examples:
  deno task cli keygen --layout openssl-80 --out ticket.key
  deno task cli serve --cert cert.pem --key key.pem --keys ticket.key --layout openssl-80
  curl -k -H 'Connection: close' https://127.0.0.1:8443/ https://127.0.0.1:8443/
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | openssl s_client -connect 127.0.0.1:8443 -ign_eof -sess_out s.pem
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | openssl s_client -connect 127.0.0.1:8443 -ign_eof -sess_in s.pem
`;
