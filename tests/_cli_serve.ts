/**
 * Test helper for `cli_serve_test.ts` and `tls_fleet_test.ts`: runs `cli.ts serve` as a child
 * process with the permissions `deno task cli` grants, waits for its `listening on
 * https://127.0.0.1:PORT/` line, collects its output, and stops it with SIGTERM (SIGKILL after a
 * grace period) so a failing assertion never leaves a process behind; and runs `openssl
 * s_client` against it with one HTTP/1.0 request.
 *
 * @module
 */

import { watchProcess } from "./_process.ts";
import { runClient } from "./interop/_openssl.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** What a stopped `serve` process left. */
export interface ServeExit {
  /** Exit code. */
  code: number;
  /** Everything it printed on standard output. */
  stdout: string;
  /** Everything it printed on standard error. */
  stderr: string;
}

/** A running `cli.ts serve`. */
export interface ServeProcess {
  /** The port it listens on (from its first line). */
  port: number;
  /** Its process id (the `served-by=` of the app data it seals). */
  pid: number;
  /** Its standard output so far. */
  stdout(): string;
  /** Its `handshake ...` lines so far. */
  handshakes(): string[];
  /** Waits until a line of standard output matches `re` (default limit 5 s). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Stops it (SIGTERM, then SIGKILL after 3 s) and returns what it printed. */
  stop(): Promise<ServeExit>;
}

/**
 * Starts `deno run ... cli.ts serve ARGS` and waits for its `listening on` line.
 *
 * @param args The arguments after `serve`.
 * @param options Extra environment variables, and the start timeout (default 10 s).
 * @returns The running process; the caller must `stop()` it in `finally`.
 * @throws {Error} When it exits or prints no `listening on` line in time (it is then stopped).
 *
 * @example
 * ```ts ignore
 * import { startServe } from "./_cli_serve.ts";
 * const s = await startServe(["--cert", "cert.pem", "--key", "key.pem", "--port", "0"]);
 * console.log(s.port);
 * await s.stop();
 * ```
 */
export async function startServe(
  args: string[],
  options: { env?: Record<string, string>; startTimeoutMs?: number } = {},
): Promise<ServeProcess> {
  const w = watchProcess(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--unstable-kv",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-net=127.0.0.1",
        CLI,
        "serve",
        ...args,
      ],
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
  );
  const stop = async (): Promise<ServeExit> => {
    const status = await w.stop(3000);
    return { code: status.code, stdout: w.stdout(), stderr: w.stderr() };
  };
  const lines = () => w.stdout().split("\n").slice(0, -1); // complete lines only
  const waitForLine = async (re: RegExp, timeoutMs = 5000) => {
    let m: RegExpExecArray | null = null;
    const found = () => lines().some((line) => (m = re.exec(line)) !== null);
    if (!await w.waitUntil(found, timeoutMs)) {
      throw new Error(
        `serve ${args.join(" ")}: ${w.exited() ? "exited" : "timed out"} before printing a line ` +
          `matching ${re}\nstdout:\n${w.stdout()}stderr:\n${w.stderr()}`,
      );
    }
    return m!;
  };
  let port: number;
  try {
    const m = await waitForLine(
      /^listening on https:\/\/127\.0\.0\.1:(\d+)\/$/,
      options.startTimeoutMs ?? 10_000,
    );
    port = Number(m[1]);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    pid: w.child.pid,
    stdout: w.stdout,
    handshakes: () => lines().filter((l) => l.startsWith("handshake ")),
    waitForLine,
    stop,
  };
}

/** What one `openssl s_client` run against `serve` showed. */
export interface SClientRun {
  /** `"New"` or `"Reused"` (s_client's `New, TLSv1.3, Cipher is ...` line, or TLSv1.2), or `null`. */
  handshake: "New" | "Reused" | null;
  /** Standard output: the handshake report and the page `serve` answered with. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/**
 * Runs `openssl s_client -connect 127.0.0.1:PORT -ign_eof ARGS` with the request
 * `GET / HTTP/1.0` (the server answers and closes, so s_client ends having received the
 * NewSessionTickets, which `-sess_out` saves).
 *
 * @example
 * ```ts ignore
 * import { sClient } from "./_cli_serve.ts";
 * const r = await sClient("openssl", 8443, ["-sess_out", "s.pem"]);
 * console.log(r.handshake); // "New"
 * ```
 */
export async function sClient(bin: string, port: number, args: string[]): Promise<SClientRun> {
  const r = await runClient(bin, port, args);
  const m = /^(New|Reused), TLSv1\.[23], Cipher is /m.exec(r.stdout);
  return {
    handshake: m === null ? null : m[1] as "New" | "Reused",
    stdout: r.stdout,
    stderr: r.stderr,
  };
}
