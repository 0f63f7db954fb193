/**
 * Real TLS clients driven against this module's TLS 1.3 server (`tests/_tls_server.ts`):
 * `openssl s_client`, run to completion or interactively (its stdin commands `K`/`k` start a
 * KeyUpdate), Node's `tls.connect` in a `node -e` subprocess, and `curl`.
 *
 * Every process is bounded by a timeout and reaped (SIGTERM, then SIGKILL) by `finish()` or
 * `stop()`, which the tests call in `finally`.
 *
 * @module
 */

import { watchProcess } from "../_process.ts";
import { run, type RunResult } from "./_peers.ts";

/** Upper bound, in milliseconds, of one client run. */
export const CLIENT_TIMEOUT_MS = 10_000;

/** What the default test application writes first: `hello new` or `hello resumed`. */
export const GREETING = /^hello (new|resumed)$/m;

/** What `s_client` prints when the handshake or the connection failed. */
export const FAILED = /SSL alert number \d+|:error:/;

/** A finished `s_client`. */
export interface SClientResult {
  /** Exit code (-1 when it had to be killed). */
  code: number;
  /** Standard output: the `New, TLSv1.3, Cipher is ...` line, `-msg` traces, echoed data. */
  stdout: string;
  /** Standard error: verification lines, `KEYUPDATE`, OpenSSL error lines with alerts. */
  stderr: string;
}

/** A running `openssl s_client` whose standard input the test writes. */
export interface InteractiveSClient {
  /** Standard output so far. */
  stdout(): string;
  /** Standard error so far. */
  stderr(): string;
  /** Writes text to its standard input (a line starting `K`, `k` or `Q` is a command). */
  send(text: string): Promise<void>;
  /**
   * Waits until `pattern` matches `stdout + stderr` at least `count` times (default 1).
   *
   * @returns Whether it did before `ms` passed or the process exited.
   */
  waitFor(pattern: RegExp, count?: number, ms?: number): Promise<boolean>;
  /** Closes standard input (s_client then sends close_notify and exits), waits, reaps. */
  finish(ms?: number): Promise<SClientResult>;
}

/**
 * Counts the matches of `pattern` in `text` (global search, whatever the pattern's flags).
 *
 * @param text Text to search.
 * @param pattern What to count.
 * @returns The number of matches.
 *
 * @example
 * ```ts
 * import { countMatches } from "./_tls_clients.ts";
 * console.log(countMatches("a b a", /a/)); // 2
 * ```
 */
export function countMatches(text: string, pattern: RegExp): number {
  const flags = pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g";
  return [...text.matchAll(new RegExp(pattern.source, flags))].length;
}

/**
 * Starts `openssl s_client -connect 127.0.0.1:<port> <args>` with a piped standard input.
 *
 * @param port The server's port.
 * @param args Extra `s_client` arguments.
 * @param bin The `openssl` binary.
 * @returns A handle; the caller must `finish()` it.
 *
 * @example
 * ```ts ignore
 * import { startSClient } from "./_tls_clients.ts";
 * const c = startSClient(8443, ["-msg"]);
 * await c.waitFor(/^hello/m);
 * await c.send("K\n");
 * const r = await c.finish();
 * ```
 */
export function startSClient(port: number, args: string[], bin = "openssl"): InteractiveSClient {
  const w = watchProcess(
    new Deno.Command(bin, {
      args: ["s_client", "-connect", `127.0.0.1:${port}`, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
  );
  const both = () => w.stdout() + w.stderr();
  const writer = w.child.stdin.getWriter();
  let stdinClosed = false;
  return {
    stdout: w.stdout,
    stderr: w.stderr,
    async send(text: string) {
      await writer.write(new TextEncoder().encode(text));
    },
    waitFor(pattern: RegExp, count = 1, ms = CLIENT_TIMEOUT_MS) {
      return w.waitUntil(() => countMatches(both(), pattern) >= count, ms);
    },
    async finish(ms = CLIENT_TIMEOUT_MS) {
      if (!stdinClosed) {
        stdinClosed = true;
        await writer.close().catch(() => {});
      }
      const done = await w.waitUntil(w.exited, ms);
      const status = await w.stop();
      return { code: done ? status.code : -1, stdout: w.stdout(), stderr: w.stderr() };
    },
  };
}

/**
 * Runs `s_client` once: sends `input` (if any), waits until the output matches `until`
 * (default: the server's greeting or a failure), then closes standard input and waits for it.
 *
 * @param port The server's port.
 * @param args Extra `s_client` arguments.
 * @param options What to send, what to wait for, the time limit.
 * @returns What it printed.
 *
 * @example
 * ```ts ignore
 * import { sClient } from "./_tls_clients.ts";
 * const r = await sClient(8443, ["-groups", "X25519"]);
 * console.log(/^New, TLSv1\.3/m.test(r.stdout));
 * ```
 */
export async function sClient(
  port: number,
  args: string[],
  options: { input?: string; until?: RegExp; timeoutMs?: number; bin?: string } = {},
): Promise<SClientResult> {
  const c = startSClient(port, args, options.bin);
  // Neither step throws (a client that exited early makes send fail: ignored), so finish()
  // always reaps the process.
  if (options.input !== undefined) await c.send(options.input).catch(() => {});
  const until = options.until ?? new RegExp(`${GREETING.source}|${FAILED.source}`, "m");
  await c.waitFor(until, 1, options.timeoutMs ?? CLIENT_TIMEOUT_MS);
  return await c.finish();
}

/**
 * Parses the `New|Reused, TLSv1.3, Cipher is X` line `s_client` prints (`print_stuff`).
 *
 * @param stdout Its standard output.
 * @returns The handshake kind, protocol and cipher, or `null` when there is no such line.
 *
 * @example
 * ```ts
 * import { handshakeLine } from "./_tls_clients.ts";
 * const h = handshakeLine("Reused, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256\n");
 * console.log(h?.kind, h?.cipher); // Reused TLS_AES_128_GCM_SHA256
 * ```
 */
export function handshakeLine(
  stdout: string,
): { kind: "New" | "Reused"; protocol: string; cipher: string } | null {
  const m = /^(New|Reused), (\S+), Cipher is (\S+)$/m.exec(stdout);
  return m === null ? null : { kind: m[1] as "New" | "Reused", protocol: m[2], cipher: m[3] };
}

/** One connection made by the Node client script. */
export interface NodeConnection {
  /** The error message, or `null` when the connection worked. */
  error: string | null;
  /** `isSessionReused()` at `secureConnect`. */
  reused: boolean;
  /** `getProtocol()`. */
  protocol: string | null;
  /** `getCipher().standardName`. */
  cipher: string | null;
  /** Everything the server wrote until the connection closed. */
  data: string;
  /** How many `'session'` events (NewSessionTickets) arrived. */
  sessions: number;
}

/** A connection for the Node client script: its `tls.connect` options. */
export interface NodeConnectSpec {
  /** `ciphers` (TLS 1.3 suite names are accepted there). */
  ciphers?: string;
  /** Offer the last session the previous connection received (`session` option). */
  resume?: boolean;
  /** `servername`. */
  servername?: string;
}

const NODE_CLIENT = `
const tls = require("node:tls");
const { port, specs } = JSON.parse(process.argv[1]);
let last = null;
function one(spec) {
  return new Promise((resolve) => {
    const result = { error: null, reused: false, protocol: null, cipher: null, data: "", sessions: 0 };
    const opts = { host: "127.0.0.1", port, rejectUnauthorized: false, minVersion: "TLSv1.3" };
    if (spec.ciphers) opts.ciphers = spec.ciphers;
    if (spec.servername) opts.servername = spec.servername;
    if (spec.maxVersion) { opts.minVersion = spec.maxVersion; opts.maxVersion = spec.maxVersion; }
    if (spec.resume && last) opts.session = last;
    const s = tls.connect(opts);
    const timer = setTimeout(() => { result.error = "timeout"; s.destroy(); }, 5000);
    s.on("secureConnect", () => {
      result.reused = s.isSessionReused();
      result.protocol = s.getProtocol();
      result.cipher = s.getCipher().standardName;
    });
    s.on("session", (d) => { last = d; result.sessions++; });
    s.on("data", (d) => { result.data += d; if (result.data.includes("\\n")) s.end(); });
    s.on("error", (e) => { result.error = String(e && e.message || e); });
    s.on("close", () => { clearTimeout(timer); resolve(result); });
  });
}
(async () => {
  const out = [];
  for (const spec of specs) out.push(await one(spec));
  process.stdout.write(JSON.stringify(out));
})();
`;

/**
 * Runs Node's `tls.connect` once per spec, in order, in one `node -e` process (so a spec with
 * `resume` offers the session the previous connection received).
 *
 * @param port The server's port.
 * @param specs One entry per connection.
 * @returns One result per connection.
 * @throws {Error} When node fails or prints something unexpected.
 *
 * @example
 * ```ts ignore
 * import { nodeConnect } from "./_tls_clients.ts";
 * const [full, again] = await nodeConnect(8443, [{}, { resume: true }]);
 * console.log(full.reused, again.reused); // false true
 * ```
 */
export async function nodeConnect(
  port: number,
  specs: NodeConnectSpec[],
): Promise<NodeConnection[]> {
  const r: RunResult = await run("node", ["-e", NODE_CLIENT, JSON.stringify({ port, specs })], {
    timeoutMs: CLIENT_TIMEOUT_MS + 5000 * specs.length,
  });
  if (r.code !== 0) throw new Error(`node exited with ${r.code}:\n${r.stderr}${r.stdout}`);
  try {
    return JSON.parse(r.stdout) as NodeConnection[];
  } catch {
    throw new Error(`node printed no results:\n${r.stdout}${r.stderr}`);
  }
}
