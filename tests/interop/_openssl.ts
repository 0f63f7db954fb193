/**
 * Helpers for the interop tests that drive the real `openssl` command-line tool: locating the
 * binary, running one-shot commands with a time limit, making a throw-away certificate, and
 * starting and stopping `openssl s_server` on a free loopback port.
 *
 * Every process started here is bounded by a timeout, and `OpensslServer.stop()` always reaps
 * the server (SIGTERM, then SIGKILL), so a failing assertion never leaves a process behind.
 *
 * @module
 */

import { runCommand, terminate } from "../_process.ts";

const decoder = new TextDecoder();

/** Default upper bound, in milliseconds, for one `openssl` command. */
export const COMMAND_TIMEOUT_MS = 10_000;

/**
 * Where the `openssl` binary is and whether the interop tests can use it.
 *
 * @example
 * ```ts
 * import { findOpenssl } from "./_openssl.ts";
 * const info: { bin: string | null; version: string; reason: string } = await findOpenssl();
 * ```
 */
export interface OpensslInfo {
  /** Command to run (`$OPENSSL_BIN` or `openssl`), or `null` when the tests must be skipped. */
  bin: string | null;
  /** Output of `openssl version` (empty when unavailable). */
  version: string;
  /** Why `bin` is `null`; empty when the binary is usable. */
  reason: string;
}

/**
 * Finds a usable `openssl` 3.x binary (`$OPENSSL_BIN` if set, else `openssl` on `PATH`).
 * OpenSSL 1.1.1 is rejected because its `i2d_SSL_SESSION` does not write `kex_group [19]`, so
 * its re-encoding of our sessions would legitimately differ.
 *
 * @returns The binary and its version, or `bin: null` with the reason it cannot be used.
 *
 * @example
 * ```ts
 * import { findOpenssl } from "./_openssl.ts";
 * const openssl = await findOpenssl();
 * Deno.test({ name: "x", ignore: openssl.bin === null, fn() {} });
 * ```
 */
export async function findOpenssl(): Promise<OpensslInfo> {
  let bin = "openssl";
  try {
    bin = Deno.env.get("OPENSSL_BIN") ?? "openssl";
  } catch {
    // No --allow-env: fall back to PATH lookup.
  }
  try {
    const out = await new Deno.Command(bin, {
      args: ["version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS),
    }).output();
    const version = decoder.decode(out.stdout).trim();
    if (!out.success) {
      return { bin: null, version, reason: `\`${bin} version\` exited with ${out.code}` };
    }
    const m = /^OpenSSL (\d+)\./.exec(version);
    if (m === null || Number(m[1]) < 3) {
      return { bin: null, version, reason: `need OpenSSL 3.x, found "${version}"` };
    }
    return { bin, version, reason: "" };
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? `\`${bin}\` not found (set OPENSSL_BIN or put openssl on PATH)`
      : e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
      ? "no --allow-run permission"
      : String(e);
    return { bin: null, version: "", reason: why };
  }
}

/**
 * Result of one finished `openssl` command.
 *
 * @example
 * ```ts
 * import type { CommandResult } from "./_openssl.ts";
 * const r: CommandResult = { code: 0, stdout: "", stderr: "", stdoutBytes: new Uint8Array() };
 * ```
 */
export interface CommandResult {
  /** Exit code. */
  code: number;
  /** Standard output as UTF-8 text. */
  stdout: string;
  /** Standard error as UTF-8 text. */
  stderr: string;
  /** Standard output as raw bytes (for `-outform DER`). */
  stdoutBytes: Uint8Array;
}

/**
 * Options for {@linkcode runOpenssl}.
 *
 * @example
 * ```ts
 * import type { RunOptions } from "./_openssl.ts";
 * const o: RunOptions = { stdin: "Q\n", timeoutMs: 5000, check: false };
 * ```
 */
export interface RunOptions {
  /** Bytes or text written to the command's standard input, which is then closed. */
  stdin?: string | Uint8Array;
  /** Kill the command after this many milliseconds (default {@linkcode COMMAND_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Throw when the exit code is not 0 (default `true`). */
  check?: boolean;
}

/**
 * Runs `openssl <args>` to completion with a time limit.
 *
 * @param bin The binary from {@linkcode findOpenssl}.
 * @param args Arguments after the binary name.
 * @param options Standard input, timeout, and whether a non-zero exit throws.
 * @returns Exit code and captured output.
 * @throws {Error} On timeout, or on a non-zero exit when `check` is true (stderr is included).
 *
 * @example
 * ```ts
 * import { runOpenssl } from "./_openssl.ts";
 * const r = await runOpenssl("openssl", ["version"]);
 * console.log(r.stdout.startsWith("OpenSSL")); // true
 * ```
 */
export async function runOpenssl(
  bin: string,
  args: string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const result = await runCommand(bin, args, {
    stdin: options.stdin,
    timeoutMs: options.timeoutMs ?? COMMAND_TIMEOUT_MS,
  });
  if ((options.check ?? true) && result.code !== 0) {
    throw new Error(
      `openssl ${args.join(" ")}: exit ${result.code}\n${result.stderr}${result.stdout}`,
    );
  }
  return result;
}

/**
 * A temporary directory holding a self-signed certificate and its private key.
 *
 * @example
 * ```ts
 * import { makeCertDir } from "./_openssl.ts";
 * const dir = await makeCertDir("openssl", "ec");
 * try {
 *   console.log(dir.certDer[0]); // 0x30
 * } finally {
 *   await dir.remove();
 * }
 * ```
 */
export interface CertDir {
  /** The directory (created with `Deno.makeTempDir`). */
  dir: string;
  /** PEM certificate file. */
  certPath: string;
  /** PEM private key file (unencrypted). */
  keyPath: string;
  /** The certificate as DER, as written by `openssl x509 -outform DER`. */
  certDer: Uint8Array;
  /** Deletes the directory and everything in it. */
  remove(): Promise<void>;
}

/**
 * Makes a temporary directory with a fresh self-signed `CN=localhost` certificate
 * (`openssl req -x509`): P-256 for `"ec"`, RSA-2048 for `"rsa"`.
 *
 * @param bin The binary from {@linkcode findOpenssl}.
 * @param kind Key type of the certificate.
 * @returns The directory, file paths and the certificate DER.
 *
 * @example
 * ```ts
 * import { makeCertDir } from "./_openssl.ts";
 * const dir = await makeCertDir("openssl", "rsa");
 * await dir.remove();
 * ```
 */
export async function makeCertDir(bin: string, kind: "ec" | "rsa"): Promise<CertDir> {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_interop_" });
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  try {
    const certPath = `${dir}/cert.pem`;
    const keyPath = `${dir}/key.pem`;
    const keyArgs = kind === "ec"
      ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
      : ["-newkey", "rsa:2048"];
    await runOpenssl(bin, [
      "req",
      "-x509",
      ...keyArgs,
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-subj",
      "/CN=localhost",
      "-days",
      "2",
    ]);
    const der = await runOpenssl(bin, ["x509", "-in", certPath, "-outform", "DER"]);
    return { dir, certPath, keyPath, certDer: der.stdoutBytes, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/**
 * Picks a TCP port on 127.0.0.1 that is free right now (listen on port 0, read it, close).
 *
 * @returns A port number.
 *
 * @example
 * ```ts
 * import { freePort } from "./_openssl.ts";
 * const port = freePort();
 * console.log(port > 0); // true
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    return (listener.addr as Deno.NetAddr).port;
  } finally {
    listener.close();
  }
}

/**
 * A running `openssl s_server`.
 *
 * @example
 * ```ts
 * import { startServer } from "./_openssl.ts";
 * const server = await startServer("openssl", { certPath: "c.pem", keyPath: "k.pem" });
 * try {
 *   console.log(server.port);
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export interface OpensslServer {
  /** The 127.0.0.1 port it accepts on. */
  port: number;
  /** Everything the server printed so far (stdout then stderr). */
  output(): string;
  /**
   * Waits until the server's output matches `pattern` (its output is read asynchronously, so it
   * may lag a client's view).
   *
   * @param pattern What to wait for.
   * @param timeoutMs Give up after this long (default 3000).
   * @returns Whether it matched in time.
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<boolean>;
  /** Terminates the server (SIGTERM, SIGKILL after 2 s) and waits until it is reaped. */
  stop(): Promise<void>;
  /** Same as {@linkcode OpensslServer.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Options for {@linkcode startServer}.
 *
 * @example
 * ```ts
 * import type { ServerOptions } from "./_openssl.ts";
 * const o: ServerOptions = { certPath: "c.pem", keyPath: "k.pem", args: ["-alpn", "h2"] };
 * ```
 */
export interface ServerOptions {
  /** PEM certificate for `-cert`. */
  certPath: string;
  /** PEM key for `-key`. */
  keyPath: string;
  /** Extra arguments; default `["-www"]` (answer each HTTP GET with a status page, then close). */
  args?: string[];
  /** How long to wait for `ACCEPT`, in milliseconds (default 5000). */
  startTimeoutMs?: number;
}

/** Drains a byte stream into a growing string. */
async function drain(stream: ReadableStream<Uint8Array>, sink: (s: string) => void) {
  const d = new TextDecoder();
  try {
    for await (const chunk of stream) sink(d.decode(chunk, { stream: true }));
  } catch {
    // Stream torn down when the process is killed.
  }
}

/**
 * Starts `openssl s_server -accept 127.0.0.1:<free port>` and waits until it prints `ACCEPT`.
 * Retries on another port if the chosen one was taken in between.
 *
 * @param bin The binary from {@linkcode findOpenssl}.
 * @param options Certificate, key and extra `s_server` arguments.
 * @returns A handle whose `stop()` must be called in a `finally` block.
 * @throws {Error} If the server does not come up within the start timeout.
 *
 * @example
 * ```ts
 * import { makeCertDir, startServer } from "./_openssl.ts";
 * const dir = await makeCertDir("openssl", "rsa");
 * const server = await startServer("openssl", dir);
 * await server.stop();
 * await dir.remove();
 * ```
 */
export async function startServer(bin: string, options: ServerOptions): Promise<OpensslServer> {
  let lastError = "";
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = freePort();
    const child = new Deno.Command(bin, {
      args: [
        "s_server",
        "-accept",
        `127.0.0.1:${port}`,
        "-cert",
        options.certPath,
        "-key",
        options.keyPath,
        ...(options.args ?? ["-www"]),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let stdout = "";
    let stderr = "";
    let onAccept = () => {};
    const accepted = new Promise<void>((resolve) => (onAccept = resolve));
    const drained = Promise.all([
      drain(child.stdout, (s) => {
        stdout += s;
        if (stdout.includes("ACCEPT")) onAccept();
      }),
      drain(child.stderr, (s) => (stderr += s)),
    ]);
    let exited = false;
    const status = child.status.then((st) => {
      exited = true;
      return st;
    });
    let stopped: Promise<void> | null = null;
    const stop = () => {
      stopped ??= (async () => {
        await terminate(child, status, () => exited);
        await drained;
      })();
      return stopped;
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      accepted.then(() => "accept" as const),
      status.then(() => "exit" as const),
      new Promise<"timeout">((
        r,
      ) => (timer = setTimeout(() => r("timeout"), options.startTimeoutMs ?? 5000))),
    ]);
    clearTimeout(timer);
    if (outcome === "accept") {
      return {
        port,
        output: () => stdout + stderr,
        waitForOutput: async (pattern, timeoutMs = 3000) => {
          const deadline = Date.now() + timeoutMs;
          while (!pattern.test(stdout + stderr)) {
            if (exited || Date.now() > deadline) return pattern.test(stdout + stderr);
            await new Promise((r) => setTimeout(r, 20));
          }
          return true;
        },
        stop,
        [Symbol.asyncDispose]: stop,
      };
    }
    await stop();
    lastError = `s_server on port ${port}: ${outcome}\n${stdout}${stderr}`;
    if (outcome === "timeout" || !/in use|bind/i.test(stderr)) break;
  }
  throw new Error(`could not start openssl s_server: ${lastError}`);
}

/**
 * Runs `openssl s_client -connect 127.0.0.1:<port> <args>` against an `s_server -www`, sending
 * one HTTP/1.0 GET with `-ign_eof` so the client stays until the server closes (long enough to
 * receive TLS 1.3 NewSessionTickets, which arrive after the handshake).
 *
 * @param bin The binary from {@linkcode findOpenssl}.
 * @param port The server's port.
 * @param args Extra `s_client` arguments, e.g. `["-tls1_3", "-sess_out", path]`.
 * @returns The finished command (exit code not checked: compare output instead).
 *
 * @example
 * ```ts
 * import { runClient } from "./_openssl.ts";
 * const r = await runClient("openssl", 4433, ["-tls1_2"]);
 * console.log(/^(New|Reused), /m.test(r.stdout));
 * ```
 */
export function runClient(bin: string, port: number, args: string[]): Promise<CommandResult> {
  return runOpenssl(
    bin,
    ["s_client", "-connect", `127.0.0.1:${port}`, "-ign_eof", ...args],
    { stdin: "GET / HTTP/1.0\r\n\r\n", check: false },
  );
}

/**
 * Parsed `openssl sess_id -noout -text` output (`ssl/ssl_txt.c:SSL_SESSION_print`).
 *
 * @example
 * ```ts
 * import type { SessionText } from "./_openssl.ts";
 * const t: SessionText = { fields: new Map([["Protocol", "TLSv1.2"]]), ticket: null };
 * ```
 */
export interface SessionText {
  /** `Label: value` lines, label and value trimmed (e.g. `Protocol` → `TLSv1.2`). */
  fields: Map<string, string>;
  /** Bytes of the `TLS session ticket:` hex dump, or `null` when none is printed. */
  ticket: Uint8Array | null;
}

/**
 * Parses the text printed by `openssl sess_id -noout -text`.
 *
 * @param text The command's standard output.
 * @returns The labelled fields and the ticket bytes.
 *
 * @example
 * ```ts
 * import { parseSessionText } from "./_openssl.ts";
 * const t = parseSessionText("SSL-Session:\n    Protocol  : TLSv1.2\n");
 * console.log(t.fields.get("Protocol")); // "TLSv1.2"
 * ```
 */
export function parseSessionText(text: string): SessionText {
  const fields = new Map<string, string>();
  const ticketBytes: number[] = [];
  let sawTicket = false;
  for (const line of text.split("\n")) {
    const dump = /^\s+[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){1,16})/.exec(line);
    if (dump !== null) {
      for (const h of dump[1].trim().split(/[ -]+/)) ticketBytes.push(parseInt(h, 16));
      continue;
    }
    const m = /^\s+([^:]+?)\s*:\s?(.*)$/.exec(line);
    if (m === null) continue;
    if (m[1] === "TLS session ticket") sawTicket = true;
    fields.set(m[1], m[2].trim());
  }
  return { fields, ticket: sawTicket ? new Uint8Array(ticketBytes) : null };
}

/**
 * Upper-case hex, as `SSL_SESSION_print` writes session ids and master keys.
 *
 * @param bytes Bytes to format.
 * @returns The hex string.
 *
 * @example
 * ```ts
 * import { hexUpper } from "./_openssl.ts";
 * console.log(hexUpper(new Uint8Array([0xab, 1]))); // "AB01"
 * ```
 */
export function hexUpper(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/**
 * Decodes a hex string (any case, whitespace ignored).
 *
 * @param hex Hex digits.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { fromHex } from "./_openssl.ts";
 * console.log(fromHex("c0 30")); // Uint8Array [ 192, 48 ]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Extracts the DER inside a `-----BEGIN SSL SESSION PARAMETERS-----` PEM block.
 *
 * @param pem PEM text as written by `openssl s_client -sess_out`.
 * @returns The DER bytes.
 *
 * @example
 * ```ts
 * import { pemBody } from "./_openssl.ts";
 * const der = pemBody(
 *   "-----BEGIN SSL SESSION PARAMETERS-----\nMAA=\n-----END SSL SESSION PARAMETERS-----\n",
 * );
 * console.log(der); // Uint8Array [ 48, 0 ]
 * ```
 */
export function pemBody(pem: string): Uint8Array {
  const m = /-----BEGIN SSL SESSION PARAMETERS-----([\s\S]*?)-----END SSL SESSION PARAMETERS-----/
    .exec(pem);
  if (m === null) throw new Error("no SSL SESSION PARAMETERS block");
  const bin = atob(m[1].replace(/\s+/g, ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
