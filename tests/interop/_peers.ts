/**
 * Helpers for the interop tests against real TLS peers: libssl itself (a C peer compiled with
 * `gcc ... -lssl -lcrypto`), Node's `node:tls`, nginx, HAProxy and `openssl s_client`, and
 * this project's command-line tool run as an operator runs it (`deno run -A cli.ts ...`).
 *
 * - Program probes that say which program is missing and why, so a test can be `ignore`d with a
 *   message (CI installs everything through `.ci/install-peers`, so nothing is skipped there).
 * - Bounded commands ({@linkcode run}) and long-running servers ({@linkcode startProcess}) that
 *   are always reaped (SIGTERM, then SIGKILL) by `stop()`, which the tests call in `finally`.
 * - Sessions to seal and the client-side sessions that carry the sealed tickets, shaped like the
 *   ones OpenSSL writes (`ssl/statem/statem_clnt.c:tls_process_new_session_ticket`).
 *
 * Every server binds 127.0.0.1 only.
 *
 * @module
 */

import { runCommand, watchProcess } from "../_process.ts";
import { SslSession } from "../../src/session/ssl_session.ts";
import { freePort } from "./_openssl.ts";

/**
 * Upper bound, in milliseconds, for one short command (compile, node run, s_client).
 *
 * @example
 * ```ts
 * import { run, RUN_TIMEOUT_MS } from "./_peers.ts";
 * await run("gcc", ["--version"], { timeoutMs: RUN_TIMEOUT_MS / 2 });
 * ```
 */
export const RUN_TIMEOUT_MS = 20_000;

/**
 * Result of a finished command.
 *
 * @example
 * ```ts
 * import type { RunResult } from "./_peers.ts";
 * const r: RunResult = { code: 0, stdout: "", stderr: "" };
 * ```
 */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Standard output (UTF-8). */
  stdout: string;
  /** Standard error (UTF-8). */
  stderr: string;
}

/**
 * Runs a command to completion with a time limit; throws on timeout, never on a non-zero exit.
 *
 * @param cmd The program.
 * @param args Its arguments.
 * @param options Standard input text and the time limit (default {@linkcode RUN_TIMEOUT_MS}).
 * @returns Exit code and output.
 * @throws {Error} When the command did not finish in time (it is killed), or cannot start.
 *
 * @example
 * ```ts
 * import { run } from "./_peers.ts";
 * const r = await run("node", ["--version"]);
 * console.log(r.stdout.startsWith("v")); // true
 * ```
 */
export async function run(
  cmd: string,
  args: string[],
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const { code, stdout, stderr } = await runCommand(cmd, args, {
    stdin: options.stdin,
    timeoutMs: options.timeoutMs ?? RUN_TIMEOUT_MS,
  });
  return { code, stdout, stderr };
}

/** Why `cmd` cannot be started, or `null` when it can. */
async function probe(cmd: string, args: string[], stdin?: string): Promise<string | null> {
  try {
    const r = await run(cmd, args, { stdin, timeoutMs: 10_000 });
    return r.code === 0
      ? null
      : `\`${cmd} ${args.join(" ")}\` exited with ${r.code}: ${
        (r.stderr || r.stdout).trim().split("\n").slice(0, 3).join(" / ")
      }`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return `\`${cmd}\` is not installed (not on PATH)`;
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return `no permission to run \`${cmd}\` (run the tests with --allow-run)`;
    }
    return `\`${cmd}\` cannot run: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * The programs a test needs, probed once: `null` when present, else why it is not usable.
 *
 * @example
 * ```ts
 * import { probePrograms } from "./_peers.ts";
 * const p = await probePrograms();
 * console.log(p.node === null || typeof p.node === "string"); // true
 * ```
 */
export interface Programs {
  /** `gcc` plus the libssl-dev headers (`#include <openssl/ssl.h>` preprocesses). */
  libssl: string | null;
  /** `node` (Node.js with `node:tls`). */
  node: string | null;
  /** `nginx` built with the SSL module. */
  nginx: string | null;
  /** `openssl` (the command-line tool, for certificates and `s_client`). */
  openssl: string | null;
  /** `haproxy` built with OpenSSL (`haproxy -vv` says "Built with OpenSSL"). */
  haproxy: string | null;
}

let programs: Promise<Programs> | null = null;

/**
 * The nginx binary: `nginx` on `PATH`, else Debian's `/usr/sbin/nginx` (not on every user's
 * `PATH`). Set by {@linkcode probePrograms}.
 *
 * @example
 * ```ts
 * import { nginxBin, probePrograms } from "./_peers.ts";
 * await probePrograms();
 * console.log(nginxBin); // "nginx" or "/usr/sbin/nginx"
 * ```
 */
export let nginxBin = "nginx";

/**
 * The HAProxy binary: `haproxy` on `PATH`, else Debian's `/usr/sbin/haproxy`. Set by
 * {@linkcode probePrograms}.
 *
 * @example
 * ```ts
 * import { haproxyBin, probePrograms } from "./_peers.ts";
 * await probePrograms();
 * console.log(haproxyBin); // "haproxy" or "/usr/sbin/haproxy"
 * ```
 */
export let haproxyBin = "haproxy";

/**
 * Probes gcc + libssl-dev, node, nginx, openssl and haproxy (once per process).
 *
 * @returns For each program, `null` when usable, else the reason it is not.
 *
 * @example
 * ```ts
 * import { probePrograms } from "./_peers.ts";
 * const { nginx } = await probePrograms();
 * if (nginx !== null) console.warn(`skipping: ${nginx}`);
 * ```
 */
export function probePrograms(): Promise<Programs> {
  programs ??= (async () => {
    const [gcc, headers, node, nginx, sbinNginx, openssl, haproxy, sbinHaproxy] = await Promise
      .all([
        probe("gcc", ["--version"]),
        probe("gcc", ["-E", "-x", "c", "-o", "/dev/null", "-"], "#include <openssl/ssl.h>\n"),
        probe("node", ["--version"]),
        probe("nginx", ["-V"]),
        probe("/usr/sbin/nginx", ["-V"]),
        probe("openssl", ["version"]),
        probe("haproxy", ["-v"]),
        probe("/usr/sbin/haproxy", ["-v"]),
      ]);
    let haproxyReason = haproxy;
    if (haproxy !== null && sbinHaproxy === null) {
      haproxyBin = "/usr/sbin/haproxy";
      haproxyReason = null;
    }
    if (haproxyReason === null) {
      const v = await run(haproxyBin, ["-vv"]);
      if (!/Built with OpenSSL/.test(v.stdout + v.stderr)) {
        haproxyReason = '`haproxy -vv` shows no "Built with OpenSSL" (install Debian\'s haproxy)';
      }
    }
    let nginxReason = nginx;
    if (nginx !== null && sbinNginx === null) {
      nginxBin = "/usr/sbin/nginx";
      nginxReason = null;
    }
    if (nginxReason === null) {
      const v = await run(nginxBin, ["-V"]);
      if (!/--with-http_ssl_module/.test(v.stderr + v.stdout)) {
        nginxReason = "`nginx -V` shows no --with-http_ssl_module (install Debian's nginx)";
      }
    }
    let nodeReason = node;
    if (nodeReason === null) {
      // Deno runs itself for a `node` command that is not on PATH (its Node compatibility), so
      // check that this really is Node.js: `node --version` prints `v<major>.<minor>.<patch>`.
      const v = (await run("node", ["--version"])).stdout.trim();
      if (!/^v\d+\.\d+\.\d+$/.test(v)) {
        nodeReason = `\`node\` is not Node.js (\`node --version\` printed "${
          v.split("\n")[0]
        }"; Deno stands in for a missing node)`;
      }
    }
    return {
      libssl: gcc ??
        (headers === null
          ? null
          : `libssl-dev is not installed (<openssl/ssl.h> not found by gcc): ${headers}`),
      node: nodeReason,
      nginx: nginxReason,
      openssl,
      haproxy: haproxyReason,
    };
  })();
  return programs;
}

/**
 * Names the missing programs among `needed`, for a test's `ignore` flag and its message.
 *
 * @param needed Which programs the test uses.
 * @returns `null` when all are present, else one line per missing program.
 *
 * @example
 * ```ts
 * import { missing } from "./_peers.ts";
 * const why = await missing(["node", "openssl"]);
 * console.log(why === null ? "all present" : why);
 * ```
 */
export async function missing(needed: (keyof Programs)[]): Promise<string | null> {
  const p = await probePrograms();
  const lines = needed.filter((k) => p[k] !== null).map((k) => `${k}: ${p[k]}`);
  if (lines.length === 0) return null;
  // CI installs every peer (.ci/install-peers): there a missing one is a failure, not a skip.
  if (Deno.env.get("CI") === "true") throw new Error(`CI must skip nothing: ${lines.join("; ")}`);
  return lines.join("; ");
}

/**
 * A running server process.
 *
 * @example
 * ```ts
 * import { startProcess } from "./_peers.ts";
 * const p = await startProcess("node", ["-e", "console.log('ready'); setInterval(() => {}, 1000)"], {
 *   ready: (out) => out.includes("ready"),
 * });
 * await p.stop();
 * ```
 */
export interface PeerProcess {
  /** Everything it printed so far (stdout, then stderr). */
  output(): string;
  /** Standard output so far. */
  stdout(): string;
  /** Terminates it (SIGTERM, SIGKILL after 2 s) and waits until it is reaped. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a long-running program and waits until `ready(stdout + stderr)` holds.
 *
 * @param cmd The program.
 * @param args Its arguments.
 * @param options `ready` predicate over the output so far, and the start timeout (default 5 s).
 * @returns A handle whose `stop()` the caller must run in `finally`.
 * @throws {Error} If the program exits or does not become ready in time (it is then stopped).
 *
 * @example
 * ```ts
 * import { startProcess } from "./_peers.ts";
 * const p = await startProcess("sleep", ["30"], { ready: () => true });
 * await p.stop();
 * ```
 */
export async function startProcess(
  cmd: string,
  args: string[],
  options: { ready: (output: string) => boolean; startTimeoutMs?: number },
): Promise<PeerProcess> {
  const w = watchProcess(
    new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" }).spawn(),
  );
  const output = () => w.stdout() + w.stderr();
  const stop = async () => void await w.stop();
  if (!await w.waitUntil(() => options.ready(output()), options.startTimeoutMs ?? 5000)) {
    await stop();
    throw new Error(
      `${cmd} ${args.join(" ")}: ${w.exited() ? "exited" : "not ready in time"}\n${output()}`,
    );
  }
  return { output, stdout: w.stdout, stop };
}

/**
 * Waits until a TCP connection to `127.0.0.1:port` succeeds.
 *
 * @param port The port.
 * @param timeoutMs Give up after this long.
 * @returns True when the port accepted a connection.
 *
 * @example
 * ```ts
 * import { waitForPort } from "./_peers.ts";
 * console.log(await waitForPort(1, 100)); // false
 * ```
 */
export async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The libssl C peer (tests/interop/libssl_peer.c)

/**
 * One line of the C peer's output: its first word and its `key=value` fields.
 *
 * @example
 * ```ts
 * import { parseEvents } from "./_peers.ts";
 * const [e] = parseEvents("dec status=5 appdata=6869\n");
 * console.log(e.kind, e.fields.status); // "dec" "5"
 * ```
 */
export interface PeerEvent {
  /** `gen`, `dec`, `ticket`, `result`, `conn` or `ACCEPT`. */
  kind: string;
  /** The `key=value` pairs of the line. */
  fields: Record<string, string>;
}

/**
 * Parses the C peer's line-oriented output (see the header of `libssl_peer.c`).
 *
 * @param text Its standard output.
 * @returns One event per non-empty line that starts with a word.
 *
 * @example
 * ```ts
 * import { parseEvents } from "./_peers.ts";
 * console.log(parseEvents("result reused=1\n")[0].fields.reused); // "1"
 * ```
 */
export function parseEvents(text: string): PeerEvent[] {
  const events: PeerEvent[] = [];
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] === "" || !/^[A-Za-z]+$/.test(words[0])) continue;
    const fields: Record<string, string> = {};
    for (const w of words.slice(1)) {
      const i = w.indexOf("=");
      if (i > 0) fields[w.slice(0, i)] = w.slice(i + 1);
    }
    events.push({ kind: words[0], fields });
  }
  return events;
}

/**
 * The compiled C peer in a temporary directory.
 *
 * @example
 * ```ts
 * import { compileLibsslPeer } from "./_peers.ts";
 * const peer = await compileLibsslPeer();
 * try {
 *   console.log(peer.bin.endsWith("libssl_peer")); // true
 * } finally {
 *   await peer.remove();
 * }
 * ```
 */
export interface CompiledPeer {
  /** The executable. */
  bin: string;
  /** Deletes the directory. */
  remove(): Promise<void>;
}

/**
 * Compiles `tests/interop/libssl_peer.c` with `gcc -O1 -Wall ... -lssl -lcrypto` into a fresh
 * temporary directory.
 *
 * @returns The executable and a cleanup function.
 * @throws {Error} With gcc's messages when compilation fails.
 *
 * @example
 * ```ts
 * import { compileLibsslPeer } from "./_peers.ts";
 * const peer = await compileLibsslPeer();
 * await peer.remove();
 * ```
 */
export async function compileLibsslPeer(): Promise<CompiledPeer> {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_libssl_" });
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  const source = new URL("./libssl_peer.c", import.meta.url).pathname;
  const bin = `${dir}/libssl_peer`;
  const r = await run("gcc", ["-O1", "-Wall", "-Werror", "-o", bin, source, "-lssl", "-lcrypto"]);
  if (r.code !== 0) {
    await remove();
    throw new Error(`gcc failed to build ${source}:\n${r.stderr}${r.stdout}`);
  }
  return { bin, remove };
}

/**
 * Starts the C peer in `listen` mode: an OpenSSL server with the given 80-byte ticket keys and the
 * man page's callbacks on `127.0.0.1:<port chosen by the kernel>`.
 *
 * @param bin The compiled peer.
 * @param cert PEM certificate path.
 * @param key PEM private key path.
 * @param keys The 80 bytes for `SSL_CTX_set_tlsext_ticket_keys`.
 * @param version `"1.2"` or `"1.3"`.
 * @param appData What `gen_cb` sets (empty: nothing).
 * @returns The process and its port.
 *
 * @example
 * ```ts
 * import { compileLibsslPeer, startLibsslServer } from "./_peers.ts";
 * const peer = await compileLibsslPeer();
 * const server = await startLibsslServer(peer.bin, "cert.pem", "key.pem", new Uint8Array(80), "1.3", "");
 * await server.stop();
 * ```
 */
export async function startLibsslServer(
  bin: string,
  cert: string,
  key: string,
  keys: Uint8Array,
  version: "1.2" | "1.3",
  appData: string,
): Promise<PeerProcess & { port: number }> {
  const p = await startProcess(bin, ["listen", cert, key, keys.toHex(), version, appData], {
    ready: (out) => /^ACCEPT \d+$/m.test(out),
  });
  const port = Number(/^ACCEPT (\d+)$/m.exec(p.output())![1]);
  return { ...p, port };
}

// ---------------------------------------------------------------------------------------------
// Sessions

/**
 * Seconds since the epoch, now.
 *
 * @returns `floor(Date.now() / 1000)`.
 *
 * @example
 * ```ts
 * import { nowSeconds } from "./_peers.ts";
 * console.log(nowSeconds() > 1_700_000_000); // true
 * ```
 */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Random bytes.
 *
 * @param n How many.
 * @returns `n` bytes from `crypto.getRandomValues`.
 *
 * @example
 * ```ts
 * import { randomBytes } from "./_peers.ts";
 * console.log(randomBytes(48).length); // 48
 * ```
 */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

/**
 * Options for {@linkcode serverSession}.
 *
 * @example
 * ```ts
 * import type { ServerSessionOptions } from "./_peers.ts";
 * const o: ServerSessionOptions = { version: "1.3", appData: "hi" };
 * ```
 */
export interface ServerSessionOptions {
  /** `"1.2"` (ECDHE-RSA-AES256-GCM-SHA384, EMS) or `"1.3"` (TLS_AES_256_GCM_SHA384). */
  version: "1.2" | "1.3";
  /** The server's session-id context (`SSL_CTX_set_session_id_context`); default empty. */
  sessionIdContext?: Uint8Array;
  /** Ticket app data to set through `setTicketAppData`. */
  appData?: string;
  /** Creation time (default now); a time far in the past makes the session expired. */
  time?: number;
}

/**
 * A server-side session made entirely through our API, shaped like the ones an OpenSSL 3.0 server
 * seals (spec'd by `ssl/ssl_asn1.c` and `ssl/statem/statem_srvr.c:construct_stateless_ticket`):
 * TLS 1.2 = 0x0303, cipher 0xc030, 48-byte master secret, EMS flag, x25519; TLS 1.3 = 0x0304,
 * cipher 0x1302, a 32-byte session id, a 48-byte resumption PSK as master key, a random
 * `ticket_age_add`. Timeout 7200 s.
 *
 * @param o Version, session-id context, app data and time.
 * @returns The session.
 *
 * @example
 * ```ts
 * import { serverSession } from "./_peers.ts";
 * const s = serverSession({ version: "1.2", appData: "x" });
 * console.log(s.cipherId.toString(16)); // "c030"
 * ```
 */
export function serverSession(o: ServerSessionOptions): SslSession {
  const tls13 = o.version === "1.3";
  const s = new SslSession({
    sslVersion: tls13 ? 0x0304 : 0x0303,
    cipherId: tls13 ? 0x1302 : 0xc030,
    sessionId: tls13 ? randomBytes(32) : new Uint8Array(0),
    masterKey: randomBytes(48),
    time: o.time ?? nowSeconds(),
    timeout: 7200,
    sessionIdContext: o.sessionIdContext ?? new Uint8Array(0),
    flags: tls13 ? 0 : 1,
    ticketAgeAdd: tls13 ? new DataView(randomBytes(4).buffer).getUint32(0) || 1 : 0,
    kexGroup: 0x1d,
  });
  if (o.appData !== undefined) s.setTicketAppData(o.appData);
  return s;
}

/**
 * The client-side session an OpenSSL client would hold after receiving `ticket` for `server`
 * (`ssl/statem/statem_clnt.c:tls_process_new_session_ticket`): same version, cipher, master key
 * (the PSK in TLS 1.3), flags and age_add; the ticket; a lifetime hint of the timeout; the
 * session id set to SHA-256(ticket) (which a TLS 1.2 client sends, and the server echoes when it
 * resumes); and the creation time = now (a TLS 1.3 client drops a ticket older than its hint, in
 * `tls_construct_ctos_psk`). Write it with `sessionToPem` for `s_client -sess_in` /
 * `PEM_read_bio_SSL_SESSION`, or `encodeSession` for Node's `session` option.
 *
 * @param server The session inside the ticket.
 * @param ticket The sealed ticket.
 * @returns The client session.
 *
 * @example
 * ```ts
 * import { clientSessionFor, serverSession } from "./_peers.ts";
 * const c = await clientSessionFor(serverSession({ version: "1.3" }), new Uint8Array(100));
 * console.log(c.sessionId.length, c.ticket?.length); // 32 100
 * ```
 */
export async function clientSessionFor(
  server: SslSession,
  ticket: Uint8Array,
): Promise<SslSession> {
  const id = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(ticket)));
  return new SslSession({
    sslVersion: server.sslVersion,
    cipherId: server.cipherId,
    sessionId: id,
    masterKey: server.masterKey,
    time: nowSeconds(),
    timeout: 7200,
    ticket,
    ticketLifetimeHint: 7200,
    flags: server.flags,
    ticketAgeAdd: server.ticketAgeAdd,
    kexGroup: server.kexGroup,
  });
}

/**
 * A copy of `ticket` with one byte inverted.
 *
 * @param ticket The ticket.
 * @param index Which byte (negative counts from the end).
 * @returns The damaged copy.
 *
 * @example
 * ```ts
 * import { flipByte } from "./_peers.ts";
 * console.log(flipByte(new Uint8Array([0, 1]), -1)); // Uint8Array [ 0, 254 ]
 * ```
 */
export function flipByte(ticket: Uint8Array, index: number): Uint8Array {
  const out = ticket.slice();
  const i = index < 0 ? out.length + index : index;
  out[i] ^= 0xff;
  return out;
}

/**
 * Text as bytes (UTF-8).
 *
 * @param s The text.
 * @returns Its bytes.
 *
 * @example
 * ```ts
 * import { utf8 } from "./_peers.ts";
 * console.log(utf8("A")); // Uint8Array [ 65 ]
 * ```
 */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

// ---------------------------------------------------------------------------------------------
// Node

/**
 * The Node.js peer script: a `tls.createServer` with a 48-byte `ticketKeys` and
 * `sessionTimeout: 3600` on 127.0.0.1, and
 * either (mode `"clients"`) a sequence of `tls.connect` clients run against it, printing one JSON
 * document, or (mode `"server"`) just the server, printing `ACCEPT <port>` and one
 * `conn reused=<0|1>` line per connection until killed.
 */
const NODE_PEER = `
import tls from "node:tls";
import { readFileSync } from "node:fs";
const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const version = cfg.version === "1.3" ? "TLSv1.3" : "TLSv1.2";
const server = tls.createServer({
  key: readFileSync(cfg.keyPath),
  cert: readFileSync(cfg.certPath),
  ticketKeys: Buffer.from(cfg.ticketKeys, "hex"),
  sessionIdContext: cfg.sessionIdContext,
  sessionTimeout: 3600,
  minVersion: version,
  maxVersion: version,
});
const serverSide = [];
server.on("secureConnection", (socket) => {
  const reused = socket.isSessionReused();
  serverSide.push({ reused });
  if (cfg.mode === "server") console.log("conn reused=" + (reused ? 1 : 0));
  socket.on("error", () => {});
  socket.end("HTTP/1.0 200 OK\\r\\n\\r\\nreused=" + (reused ? 1 : 0) + "\\n");
});
server.on("tlsClientError", (e) => serverSide.push({ error: String(e) }));
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;
if (cfg.mode === "server") {
  console.log("ACCEPT " + port);
} else {
  const results = [];
  for (const c of cfg.clients) results.push(await connect(c));
  server.close();
  console.log(JSON.stringify({ results, server: serverSide }));
}
function connect(c) {
  return new Promise((resolve) => {
    const r = { reused: null, protocol: null, cipher: null, sessions: [], data: "", error: null };
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      rejectUnauthorized: false,
      minVersion: version,
      maxVersion: version,
      session: c ? Buffer.from(c.session, "hex") : undefined,
    });
    const timer = setTimeout(() => { r.error = "timeout"; socket.destroy(); }, 5000);
    socket.on("secureConnect", () => {
      r.reused = socket.isSessionReused();
      r.protocol = socket.getProtocol();
      r.cipher = socket.getCipher().name;
    });
    socket.on("session", (s) => r.sessions.push(s.toString("hex")));
    socket.setEncoding("utf8");
    socket.on("data", (d) => (r.data += d));
    socket.on("error", (e) => (r.error = String(e)));
    socket.on("close", () => { clearTimeout(timer); resolve(r); });
  });
}
`;

/**
 * Configuration of the Node peer.
 *
 * @example
 * ```ts
 * import type { NodePeerConfig } from "./_peers.ts";
 * const c: NodePeerConfig = {
 *   version: "1.2", certPath: "c.pem", keyPath: "k.pem", ticketKeys: new Uint8Array(48),
 *   sessionIdContext: "ctx", clients: [null],
 * };
 * ```
 */
export interface NodePeerConfig {
  /** `"1.2"` or `"1.3"` (min and max version of server and clients). */
  version: "1.2" | "1.3";
  /** PEM certificate path. */
  certPath: string;
  /** PEM key path. */
  keyPath: string;
  /** The server's 48-byte `ticketKeys` (name16|hmac16|aes16). */
  ticketKeys: Uint8Array;
  /** The server's `sessionIdContext` option (ASCII, up to 32 characters). */
  sessionIdContext: string;
  /** One entry per client connection: the `session` DER it resumes with, or `null`. */
  clients: (Uint8Array | null)[];
}

/**
 * What one Node client connection saw.
 *
 * @example
 * ```ts
 * import type { NodeClientResult } from "./_peers.ts";
 * const r: NodeClientResult = {
 *   reused: false, protocol: "TLSv1.2", cipher: "ECDHE-RSA-AES256-GCM-SHA384", sessions: [],
 *   data: "", error: null,
 * };
 * ```
 */
export interface NodeClientResult {
  /** `isSessionReused()` after `secureConnect`. */
  reused: boolean | null;
  /** `getProtocol()`. */
  protocol: string | null;
  /** `getCipher().name`. */
  cipher: string | null;
  /** Every `'session'` event's DER (an `SSL_SESSION`, with the ticket), in order. */
  sessions: Uint8Array[];
  /** What the server wrote (`reused=<0|1>` after an HTTP status line). */
  data: string;
  /** An `'error'` event, if any. */
  error: string | null;
}

/** Writes the Node peer script and its config into a new temp dir. */
async function nodePeerFiles(
  config: Omit<NodePeerConfig, "clients"> & { mode: string; clients: (Uint8Array | null)[] },
): Promise<{ dir: string; script: string; cfg: string }> {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_node_" });
  const script = `${dir}/node_peer.mjs`;
  const cfg = `${dir}/config.json`;
  await Deno.writeTextFile(script, NODE_PEER);
  await Deno.writeTextFile(
    cfg,
    JSON.stringify({
      mode: config.mode,
      version: config.version,
      certPath: config.certPath,
      keyPath: config.keyPath,
      ticketKeys: config.ticketKeys.toHex(),
      sessionIdContext: config.sessionIdContext,
      clients: config.clients.map((c) => (c === null ? null : { session: c.toHex() })),
    }),
  );
  return { dir, script, cfg };
}

/**
 * Runs a Node `tls` server with `ticketKeys` and the given client connections against it, one
 * after the other, in one `node` process.
 *
 * @param config Server keys and the clients' sessions.
 * @returns Each client's result, and what the server's `isSessionReused()` said for each
 * connection.
 * @throws {Error} When node fails or times out.
 *
 * @example
 * ```ts
 * import { runNodePeer } from "./_peers.ts";
 * const out = await runNodePeer({
 *   version: "1.3", certPath: "c.pem", keyPath: "k.pem", ticketKeys: new Uint8Array(48),
 *   sessionIdContext: "ctx", clients: [null],
 * });
 * console.log(out.results[0].reused); // false
 * ```
 */
export async function runNodePeer(
  config: NodePeerConfig,
): Promise<{ results: NodeClientResult[]; server: { reused?: boolean; error?: string }[] }> {
  const files = await nodePeerFiles({ ...config, mode: "clients" });
  try {
    const r = await run("node", [files.script, files.cfg]);
    if (r.code !== 0) throw new Error(`node peer exited with ${r.code}:\n${r.stderr}${r.stdout}`);
    const out = JSON.parse(r.stdout) as {
      results: (Omit<NodeClientResult, "sessions"> & { sessions: string[] })[];
      server: { reused?: boolean; error?: string }[];
    };
    return {
      results: out.results.map((x) => ({
        ...x,
        sessions: x.sessions.map((h) => Uint8Array.fromHex(h)),
      })),
      server: out.server,
    };
  } finally {
    await Deno.remove(files.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Starts a Node `tls` server with `ticketKeys` on 127.0.0.1 (for `openssl s_client`). It answers
 * each connection with `HTTP/1.0 200 OK` and `reused=<0|1>`, and prints `conn reused=<0|1>`.
 *
 * @param config Server keys (the `clients` field is ignored).
 * @returns The process and its port; `stop()` also deletes the script.
 *
 * @example
 * ```ts
 * import { startNodeServer } from "./_peers.ts";
 * const s = await startNodeServer({
 *   version: "1.2", certPath: "c.pem", keyPath: "k.pem", ticketKeys: new Uint8Array(48),
 *   sessionIdContext: "ctx",
 * });
 * await s.stop();
 * ```
 */
export async function startNodeServer(
  config: Omit<NodePeerConfig, "clients">,
): Promise<PeerProcess & { port: number }> {
  const files = await nodePeerFiles({ ...config, mode: "server", clients: [] });
  let p: PeerProcess;
  try {
    p = await startProcess("node", [files.script, files.cfg], {
      ready: (out) => /^ACCEPT \d+$/m.test(out),
    });
  } catch (e) {
    await Deno.remove(files.dir, { recursive: true }).catch(() => {});
    throw e;
  }
  const port = Number(/^ACCEPT (\d+)$/m.exec(p.output())![1]);
  return {
    ...p,
    port,
    stop: async () => {
      await p.stop();
      await Deno.remove(files.dir, { recursive: true }).catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------
// nginx

/**
 * A running nginx with one TLS server block per ticket key file.
 *
 * @example
 * ```ts
 * import type { Nginx } from "./_peers.ts";
 * const use = (n: Nginx) => n.ports[0];
 * ```
 */
export interface Nginx extends PeerProcess {
  /** One 127.0.0.1 port per key file, in order. */
  ports: number[];
}

/** One `server` block: its port and its `ssl_session_ticket_key` files, the sealing one first. */
interface NginxServerBlock {
  port: number;
  keyFiles: string[];
}

/**
 * Writes `<prefix>/nginx.conf`: nginx in the foreground with its own pid file, error log and
 * temp paths under `prefix`, and one TLS `server` block per entry answering
 * `reused=$ssl_session_reused`. With `masterProcess`, a master and one worker (so that
 * `nginx -s reload` works); else a single process.
 */
async function writeNginxConf(
  prefix: string,
  certPath: string,
  keyPath: string,
  blocks: NginxServerBlock[],
  masterProcess: boolean,
): Promise<void> {
  const servers = blocks.map(({ port, keyFiles }) => `
    server {
      listen 127.0.0.1:${port} ssl;${
    keyFiles.map((f) => `\n      ssl_session_ticket_key ${f};`).join("")
  }
      location / { return 200 "reused=$ssl_session_reused\\n"; }
    }`).join("");
  await Deno.writeTextFile(
    `${prefix}/nginx.conf`,
    `daemon off;
master_process ${masterProcess ? "on" : "off"};
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  ssl_certificate ${certPath};
  ssl_certificate_key ${keyPath};
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_tickets on;${servers}
}
`,
  );
}

/** `nginx -p <prefix>/ -c <prefix>/nginx.conf -e <prefix>/error.log` plus `extra`. */
function nginxArgs(prefix: string, extra: string[] = []): string[] {
  return ["-p", `${prefix}/`, "-c", `${prefix}/nginx.conf`, "-e", `${prefix}/error.log`, ...extra];
}

/**
 * Starts nginx on `prefix` with `count` server blocks on newly chosen free ports (block `i` with
 * the key files `keyFilesFor(i)`), waiting until every port accepts; retries with other ports if
 * one was taken meanwhile.
 */
async function launchNginx(
  prefix: string,
  certPath: string,
  keyPath: string,
  count: number,
  keyFilesFor: (i: number) => string[],
  masterProcess: boolean,
): Promise<{ p: PeerProcess; ports: number[] }> {
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports = Array.from({ length: count }, () => freePort());
    await writeNginxConf(
      prefix,
      certPath,
      keyPath,
      ports.map((port, i) => ({ port, keyFiles: keyFilesFor(i) })),
      masterProcess,
    );
    const p = await startProcess(nginxBin, nginxArgs(prefix), { ready: () => true });
    let up = true;
    for (const port of ports) up &&= await waitForPort(port, 5000);
    if (up) return { p, ports };
    await p.stop();
    lastError = p.output() + readTextSync(`${prefix}/error.log`);
    if (!/in use/i.test(lastError)) break;
  }
  throw new Error(`nginx did not start:\n${lastError}`);
}

/**
 * Starts nginx in the foreground (`daemon off; master_process off;`) with its own temporary
 * prefix, config, pid file and error log, one `server` block per `ssl_session_ticket_key` file,
 * each listening on `127.0.0.1:<free port>` and answering `reused=$ssl_session_reused` (`r` or
 * `.`). Retries with other ports if one was taken meanwhile.
 *
 * @param certPath PEM certificate.
 * @param keyPath PEM private key.
 * @param ticketKeys Raw contents of each `ssl_session_ticket_key` file (48 or 80 bytes).
 * @returns The process and the ports; `stop()` also deletes the prefix.
 * @throws {Error} When nginx does not come up.
 *
 * @example
 * ```ts
 * import { startNginx } from "./_peers.ts";
 * const nginx = await startNginx("cert.pem", "key.pem", [new Uint8Array(80)]);
 * await nginx.stop();
 * ```
 */
export async function startNginx(
  certPath: string,
  keyPath: string,
  ticketKeys: Uint8Array[],
): Promise<Nginx> {
  const prefix = await Deno.makeTempDir({ prefix: "session_tickets_nginx_" });
  const removePrefix = () => Deno.remove(prefix, { recursive: true }).catch(() => {});
  try {
    await Deno.mkdir(`${prefix}/tmp`);
    for (let i = 0; i < ticketKeys.length; i++) {
      await Deno.writeFile(`${prefix}/ticket${i}.key`, ticketKeys[i], { mode: 0o600 });
    }
    const { p, ports } = await launchNginx(
      prefix,
      certPath,
      keyPath,
      ticketKeys.length,
      (i) => [`${prefix}/ticket${i}.key`],
      false,
    );
    return {
      ...p,
      output: () => p.output() + readTextSync(`${prefix}/error.log`),
      ports,
      stop: async () => {
        await p.stop();
        await removePrefix();
      },
    };
  } catch (e) {
    await removePrefix();
    throw e;
  }
}

/**
 * A running nginx (master and one worker) with one TLS server block whose
 * `ssl_session_ticket_key` files can be replaced by a reload.
 *
 * @example
 * ```ts
 * import type { NginxServer } from "./_peers.ts";
 * const again = (n: NginxServer, files: string[]) => n.reload(files);
 * ```
 */
export interface NginxServer extends PeerProcess {
  /** Its 127.0.0.1 port. */
  port: number;
  /**
   * Rewrites the config with these `ssl_session_ticket_key` files (the sealing one first), runs
   * `nginx -s reload` with the same prefix and config, and resolves once the old worker has
   * exited, so every later connection is served under the new keys.
   *
   * @param keyFiles The key files, as `fleet export` printed them.
   * @throws {Error} When nginx rejects the new configuration or the old worker does not exit.
   */
  reload(keyFiles: string[]): Promise<void>;
}

/**
 * Starts nginx in the foreground as a master with one worker (`daemon off; master_process on;`),
 * like a production nginx that an operator reloads, with its own temporary prefix and one
 * `server` block on `127.0.0.1:<free port>` naming the given `ssl_session_ticket_key` files
 * (which the caller owns: a fleet export writes them), answering `reused=$ssl_session_reused`.
 *
 * @param certPath PEM certificate.
 * @param keyPath PEM private key.
 * @param keyFiles Paths of the `ssl_session_ticket_key` files, the sealing one first.
 * @returns The process, its port and `reload`; `stop()` also deletes the prefix.
 * @throws {Error} When nginx does not come up.
 *
 * @example
 * ```ts
 * import { startNginxServer } from "./_peers.ts";
 * const nginx = await startNginxServer("cert.pem", "key.pem", ["/etc/nginx/ticket.key"]);
 * await nginx.stop();
 * ```
 */
export async function startNginxServer(
  certPath: string,
  keyPath: string,
  keyFiles: string[],
): Promise<NginxServer> {
  const prefix = await Deno.makeTempDir({ prefix: "session_tickets_nginx_" });
  const removePrefix = () => Deno.remove(prefix, { recursive: true }).catch(() => {});
  const errorLog = () => readTextSync(`${prefix}/error.log`);
  try {
    await Deno.mkdir(`${prefix}/tmp`);
    const { p, ports } = await launchNginx(prefix, certPath, keyPath, 1, () => keyFiles, true);
    const port = ports[0];
    const reload = async (files: string[]) => {
      const exited = () => (errorLog().match(/worker process \d+ exited/g) ?? []).length;
      const problems = () => (errorLog().match(/\[(emerg|alert)\]/g) ?? []).length;
      const [exitedBefore, problemsBefore] = [exited(), problems()];
      await writeNginxConf(prefix, certPath, keyPath, [{ port, keyFiles: files }], true);
      const r = await run(nginxBin, nginxArgs(prefix, ["-s", "reload"]));
      if (r.code !== 0) throw new Error(`nginx -s reload exited with ${r.code}:\n${r.stderr}`);
      const deadline = Date.now() + 10_000;
      while (exited() === exitedBefore) {
        if (problems() > problemsBefore || Date.now() > deadline) {
          throw new Error(`nginx did not reload:\n${errorLog()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    return {
      ...p,
      output: () => p.output() + errorLog(),
      port,
      reload,
      stop: async () => {
        await p.stop();
        await removePrefix();
      },
    };
  } catch (e) {
    await removePrefix();
    throw e;
  }
}

function readTextSync(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------------
// openssl s_client

/**
 * What `openssl s_client` reported: `"New"` or `"Reused"` (the `New, TLSv1.x, Cipher is ...` line
 * of `apps/s_client.c:print_stuff`), the protocol, and the `reused=` body line the server sent.
 *
 * @example
 * ```ts
 * import { parseSClient } from "./_peers.ts";
 * const r = parseSClient("Reused, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384\nreused=1\n");
 * console.log(r.handshake, r.protocol, r.body); // "Reused" "TLSv1.3" "1"
 * ```
 */
export interface SClientResult {
  /** `"New"`, `"Reused"` or `null` when no handshake line was printed. */
  handshake: "New" | "Reused" | null;
  /** `TLSv1.2` / `TLSv1.3` from that line. */
  protocol: string | null;
  /** The value of the server's `reused=` body line (`1`/`0`, or nginx's `r`/`.`). */
  body: string | null;
}

/**
 * Parses `s_client` standard output.
 *
 * @param stdout The output.
 * @returns The handshake kind, protocol and body line.
 *
 * @example
 * ```ts
 * import { parseSClient } from "./_peers.ts";
 * console.log(parseSClient("New, TLSv1.2, Cipher is X\n").handshake); // "New"
 * ```
 */
export function parseSClient(stdout: string): SClientResult {
  const m = /^(New|Reused), (TLSv1\.[0-3])/m.exec(stdout);
  const b = /^reused=(\S+)$/m.exec(stdout);
  return {
    handshake: m === null ? null : (m[1] as "New" | "Reused"),
    protocol: m === null ? null : m[2],
    body: b === null ? null : b[1],
  };
}

// ---------------------------------------------------------------------------------------------
// HAProxy

/**
 * Starts HAProxy in the foreground (`haproxy -db -f <cfg>`) with a private config: one
 * `frontend` with `bind 127.0.0.1:<free port> ssl crt <pem> tls-ticket-keys <file>` (TLS 1.2
 * and 1.3) answering every request with `reused=%[ssl_fc_is_resumed]` (`1` or `0`), one
 * thread, and its log on standard error. Retries with another port if one was taken meanwhile.
 *
 * @param pemPath The certificate followed by its private key, in one PEM file (HAProxy's `crt`).
 * @param ticketKeysPath The `tls-ticket-keys` file: base64 lines of 48 or 80 bytes.
 * @returns The process and its port; `stop()` also deletes the config.
 * @throws {Error} When HAProxy does not come up.
 *
 * @example
 * ```ts
 * import { startHaproxy } from "./_peers.ts";
 * const haproxy = await startHaproxy("both.pem", "ticket.keys");
 * await haproxy.stop();
 * ```
 */
export async function startHaproxy(
  pemPath: string,
  ticketKeysPath: string,
): Promise<PeerProcess & { port: number }> {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_haproxy_" });
  const removeDir = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  let lastError = "";
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = freePort();
      const cfg = `${dir}/haproxy.cfg`;
      await Deno.writeTextFile(
        cfg,
        `global
  nbthread 1
  log stderr format raw local0 info
defaults
  mode http
  log global
  timeout client 5s
  timeout server 5s
  timeout connect 5s
frontend tickets
  bind 127.0.0.1:${port} ssl crt ${pemPath} tls-ticket-keys ${ticketKeysPath} ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3
  http-request return status 200 content-type text/plain lf-string "reused=%[ssl_fc_is_resumed]\\n"
`,
      );
      const p = await startProcess(haproxyBin, ["-db", "-f", cfg], { ready: () => true });
      if (await waitForPort(port, 5000)) {
        return {
          ...p,
          port,
          stop: async () => {
            await p.stop();
            await removeDir();
          },
        };
      }
      await p.stop();
      lastError = p.output();
      if (!/in use|cannot bind/i.test(lastError)) break;
    }
  } catch (e) {
    await removeDir();
    throw e;
  }
  await removeDir();
  throw new Error(`haproxy did not start:\n${lastError}`);
}

// ---------------------------------------------------------------------------------------------
// The command-line tool, as an operator runs it

const CLI_PATH = new URL("../../cli.ts", import.meta.url).pathname;
const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/**
 * Runs this project's `cli.ts` in a new process, as an operator would:
 * `deno run -A --unstable-kv cli.ts <args>` from the repository root, with standard input
 * closed (so nothing is a terminal) and extra environment variables (`SESSION_TICKETS_KEK`).
 *
 * @param args The command and its options, e.g. `["keygen", "--layout", "haproxy-80"]`.
 * @param options Extra environment variables and the time limit (default
 * {@linkcode RUN_TIMEOUT_MS}).
 * @returns Exit code and output (a non-zero exit is returned, not thrown).
 * @throws {Error} When the command does not finish in time (it is killed).
 *
 * @example
 * ```ts
 * import { runCli } from "./_peers.ts";
 * const r = await runCli(["keygen", "--layout", "nginx-80", "--hex"]);
 * console.log(r.code, r.stdout.trim().length); // 0 160
 * ```
 */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? RUN_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", CLI_PATH, ...args],
    cwd: REPO_ROOT,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  if (signal.aborted) throw new Error(`cli.ts ${args.join(" ")}: timed out after ${timeoutMs} ms`);
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/**
 * Like {@linkcode runCli}, but a non-zero exit throws with the tool's error output.
 *
 * @param args The command and its options.
 * @param options Extra environment variables.
 * @returns The standard output.
 * @throws {Error} When the tool exits with a non-zero status or times out.
 *
 * @example
 * ```ts
 * import { cliOk } from "./_peers.ts";
 * const hex = await cliOk(["keygen", "--layout", "nginx-48", "--hex"]);
 * console.log(hex.trim().length); // 96
 * ```
 */
export async function cliOk(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<string> {
  const r = await runCli(args, options);
  if (r.code !== 0) {
    throw new Error(`cli.ts ${args.join(" ")} exited with ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}
