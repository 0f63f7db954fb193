// Stopping a child process in tests: SIGTERM, then SIGKILL after a grace period, then wait
// until it is reaped. Shared by the interop and fleet test helpers.

/**
 * Terminates `child` (SIGTERM, SIGKILL after `graceMs`) unless `exited()` already says it is
 * gone, and resolves once `status` (the child's status promise) has settled.
 *
 * @example
 * ```ts
 * import { terminate } from "./_process.ts";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * await terminate(child, child.status, () => false);
 * ```
 */
export async function terminate(
  child: Deno.ChildProcess,
  status: Promise<unknown>,
  exited: () => boolean,
  graceMs = 2000,
): Promise<void> {
  if (!exited()) {
    kill(child, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      status.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!done) kill(child, "SIGKILL");
  }
  await status;
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already gone.
  }
}

/** What {@link runCommand} returns. */
export interface CommandOutput {
  /** Exit code. */
  code: number;
  /** Standard output as UTF-8 text. */
  stdout: string;
  /** Standard error as UTF-8 text. */
  stderr: string;
  /** Standard output as raw bytes. */
  stdoutBytes: Uint8Array;
}

const decoder = new TextDecoder();

/**
 * Runs `cmd` to completion with optional standard input, killing it after `timeoutMs`.
 *
 * @example
 * ```ts
 * import { runCommand } from "./_process.ts";
 * const r = await runCommand("echo", ["hi"], { timeoutMs: 5000 });
 * console.log(r.stdout); // "hi\n"
 * ```
 */
export async function runCommand(
  cmd: string,
  args: string[],
  options: { stdin?: string | Uint8Array; timeoutMs: number },
): Promise<CommandOutput> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  try {
    const child = new Deno.Command(cmd, {
      args,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).spawn();
    if (options.stdin !== undefined) {
      const data = typeof options.stdin === "string"
        ? new TextEncoder().encode(options.stdin)
        : options.stdin;
      const writer = child.stdin.getWriter();
      try {
        await writer.write(data);
        await writer.close();
      } catch {
        // The program may exit before reading its input; the exit code tells the story.
      }
    }
    const out = await child.output();
    if (timedOut) {
      throw new Error(`${cmd} ${args.join(" ")}: timed out after ${options.timeoutMs} ms`);
    }
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      stdoutBytes: out.stdout,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A spawned child whose standard output and error are collected as they arrive. */
export interface WatchedProcess {
  /** The child (for its pid or standard input). */
  readonly child: Deno.ChildProcess;
  /** Standard output so far. */
  stdout(): string;
  /** Standard error so far. */
  stderr(): string;
  /** Whether it has exited. */
  exited(): boolean;
  /** Its exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  /**
   * Waits until `done()` holds, re-checking whenever output arrives or the process exits (and
   * at least every 50 ms).
   *
   * @returns Whether it held before `ms` passed or the process exited.
   */
  waitUntil(done: () => boolean, ms: number): Promise<boolean>;
  /** Terminates it (SIGTERM, SIGKILL after `graceMs`), reaps it, drains its output. Idempotent. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

/**
 * Collects a spawned child's piped standard output and error, for the helpers that start
 * servers and interactive clients (one place for the pumping, waiting and reaping).
 *
 * @example
 * ```ts
 * import { watchProcess } from "./_process.ts";
 * const w = watchProcess(new Deno.Command("echo", { args: ["hi"], stdout: "piped", stderr: "piped" }).spawn());
 * await w.waitUntil(() => w.stdout().includes("hi"), 5000);
 * await w.stop();
 * ```
 */
export function watchProcess(child: Deno.ChildProcess): WatchedProcess {
  let out = "";
  let err = "";
  let wake = () => {};
  const pump = async (stream: ReadableStream<Uint8Array>, sink: (s: string) => void) => {
    const d = new TextDecoder();
    try {
      for await (const chunk of stream) {
        sink(d.decode(chunk, { stream: true }));
        wake();
      }
    } catch {
      // Torn down when the process is killed.
    }
  };
  const drained = Promise.all([
    pump(child.stdout, (s) => (out += s)),
    pump(child.stderr, (s) => (err += s)),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    wake();
    return s;
  });
  let stopping: Promise<Deno.CommandStatus> | null = null;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: () => exited,
    status,
    async waitUntil(done: () => boolean, ms: number) {
      const deadline = Date.now() + ms;
      while (!done()) {
        if (exited || Date.now() > deadline) return done();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((r) => {
          wake = r;
          timer = setTimeout(r, 50);
        });
        clearTimeout(timer);
      }
      return true;
    },
    stop(graceMs = 2000) {
      stopping ??= (async () => {
        await terminate(child, status, () => exited, graceMs);
        await drained;
        return await status;
      })();
      return stopping;
    },
  };
}
