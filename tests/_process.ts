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
