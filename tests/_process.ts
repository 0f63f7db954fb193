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
