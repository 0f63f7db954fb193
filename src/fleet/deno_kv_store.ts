/**
 * A {@link KeyStore} over Deno KV (`Deno.openKv`): a local SQLite file by default, or Deno
 * Deploy's KV with the same code. Needs Deno's `kv` unstable feature (`--unstable-kv`, or
 * `"unstable": ["kv"]` in `deno.json`).
 *
 * Layout: the record `"a/b/c"` lives at the KV key `[namespace, "d", "a", "b", "c"]` with the
 * value `{ value: Uint8Array, expiresAt: number | null }`. Every write also bumps, in the same
 * atomic operation, a change counter `[namespace, "c", ...ancestor]` for each ancestor path
 * (`[]`, `["a"]`, `["a", "b"]`); a watch on `"a/b/"` watches the counter `["a", "b"]`.
 *
 * Change delivery: `kv.watch` reports writes made in the same process at once, but a local KV
 * file does not deliver writes made by another process (checked with Deno 2.9.6: a second
 * process's `set` never reached a `watch` in the first), so every watch also polls its counter
 * (every 200 ms by default, `pollIntervalMs`). Several processes on one file work: creates are
 * `atomic().check(...)` operations that SQLite serialises, and an operation that meets another
 * process's write lock ("database is locked": nothing was written) is retried for up to 5 s.
 *
 * What the database holds is untrusted input (anyone who can open the file can write there): an
 * entry under the namespace's records that this store cannot have written (a key part that is
 * not a string or holds "/", a value that is not `{ value: Uint8Array, expiresAt: number |
 * null }` within the size limits) makes `list`, `get` and `createIfAbsent` of it reject with
 * {@link KeyStoreError} (not unavailability: the database answered, and will answer the same
 * again) naming the record, until it is deleted (`delete` removes it). A `list` stops with
 * {@link KeyStoreError} past 4 MiB of keys and values. Only a change counter's versionstamp is
 * read, and writes overwrite counters instead of adding to them, so a counter of the wrong type
 * cannot block writes.
 *
 * @module
 */

import {
  type KeyStore,
  KeyStoreError,
  KeyStoreUnavailableError,
  MAX_STORE_KEY_BYTES,
  MAX_STORE_VALUE_BYTES,
  type StoredRecord,
} from "./key_store.ts";
import {
  checkTtl,
  checkValue,
  keyBytes,
  kindOf,
  MAX_ANSWER_BYTES,
  oneLine,
  prefixBytes,
  safeCall,
  sleep,
} from "./_store_checks.ts";

/** Options for {@link DenoKvKeyStore}. */
export interface DenoKvKeyStoreOptions {
  /** First part of every KV key this store writes (default `"key_store"`). */
  namespace?: string;
  /** How often a watch polls for writes by other processes, in ms (default 200). */
  pollIntervalMs?: number;
}

interface Envelope {
  value: Uint8Array;
  expiresAt: number | null;
}

const encoder = new TextEncoder();

/**
 * {@link KeyStore} on Deno KV. Open with {@link DenoKvKeyStore.open} (a file path, or nothing for
 * Deno's default database), or wrap a `Deno.Kv` you opened yourself.
 *
 * @example
 * ```ts ignore
 * import { DenoKvKeyStore } from "@seed/session-tickets/fleet";
 * const store = await DenoKvKeyStore.open("/var/lib/tickets/keys.kv");
 * console.log(await store.createIfAbsent("prod/keys/1", new Uint8Array([1]))); // true
 * console.log((await store.list("prod/keys/")).length); // 1
 * await store.close();
 * ```
 */
export class DenoKvKeyStore implements KeyStore {
  readonly #kv: Deno.Kv;
  readonly #owned: boolean;
  readonly #ns: string;
  readonly #pollMs: number;
  readonly #closing = new AbortController();
  readonly #loops = new Set<Promise<void>>();
  #closed = false;

  /**
   * Opens a KV database and wraps it; {@link DenoKvKeyStore.close} closes it again.
   *
   * @param path The SQLite file (created if missing); omitted: Deno's default database.
   * @param options Namespace and poll interval.
   * @returns The store.
   * @throws {KeyStoreError} when Deno KV is not enabled (`--unstable-kv`).
   * @throws {KeyStoreUnavailableError} when the database cannot be opened.
   *
   * @example
   * ```ts ignore
   * import { DenoKvKeyStore } from "@seed/session-tickets/fleet";
   * const store = await DenoKvKeyStore.open(await Deno.makeTempFile(), { pollIntervalMs: 100 });
   * await store.close();
   * ```
   */
  static async open(path?: string, options: DenoKvKeyStoreOptions = {}): Promise<DenoKvKeyStore> {
    const openKv = (Deno as { openKv?: (path?: string) => Promise<Deno.Kv> }).openKv;
    if (typeof openKv !== "function") {
      throw new KeyStoreError(
        'Deno KV is not enabled: run with --unstable-kv or add "unstable": ["kv"] to deno.json',
      );
    }
    checkOptions(options); // before opening, so a refusal leaves nothing open
    const deadline = Date.now() + BUSY_RETRY_MS;
    for (let delay = 2;; delay = Math.min(delay * 2, 50)) {
      try {
        return new DenoKvKeyStore(await openKv(path), options, true);
      } catch (e) {
        if (e instanceof KeyStoreError) throw e;
        // Two processes creating one new file race for its schema: "database is locked".
        if (isBusy(e) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
          continue;
        }
        throw new KeyStoreUnavailableError(`deno kv: cannot open ${path ?? "default database"}`, {
          cause: e,
        });
      }
    }
  }

  /**
   * Wraps an open `Deno.Kv` (which {@link DenoKvKeyStore.close} then leaves open).
   *
   * @param kv The database.
   * @param options Namespace and poll interval.
   * @param owned Internal: whether `close()` closes `kv` (true when opened by `open`).
   *
   * @example
   * ```ts ignore
   * import { DenoKvKeyStore } from "@seed/session-tickets/fleet";
   * const kv = await Deno.openKv();
   * const store = new DenoKvKeyStore(kv, { namespace: "tickets" });
   * ```
   */
  constructor(kv: Deno.Kv, options: DenoKvKeyStoreOptions = {}, owned = false) {
    const { ns, poll } = checkOptions(options);
    this.#kv = kv;
    this.#owned = owned;
    this.#ns = ns;
    this.#pollMs = poll;
  }

  /** {@inheritDoc KeyStore.list} */
  list(prefix: string): Promise<StoredRecord[]> {
    return this.#run("list", async () => {
      const base = prefixParts(prefix);
      const now = Date.now();
      const out: StoredRecord[] = [];
      let bytes = 0;
      for await (const entry of this.#kv.list({ prefix: [this.#ns, "d", ...base] })) {
        const key = recordKeyOf(entry.key.slice(2));
        if (!key.startsWith(prefix)) continue;
        const envelope = envelopeOf(key, entry.value);
        bytes += key.length + envelope.value.length;
        if (bytes > MAX_ANSWER_BYTES) {
          throw new KeyStoreError(
            `deno kv: the records under ${quote(prefix)} are larger than ${MAX_ANSWER_BYTES} bytes`,
          );
        }
        if (!isLive(envelope, now)) continue;
        out.push({ key, value: envelope.value.slice(), version: entry.versionstamp });
      }
      return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    });
  }

  /** {@inheritDoc KeyStore.get} */
  get(key: string): Promise<StoredRecord | null> {
    return this.#run("get", async () => {
      const entry = await this.#kv.get(this.#dataKey(keyParts(key)));
      if (entry.versionstamp === null) return null;
      const envelope = envelopeOf(key, entry.value);
      if (!isLive(envelope, Date.now())) return null;
      return { key, value: envelope.value.slice(), version: entry.versionstamp };
    });
  }

  /** {@inheritDoc KeyStore.createIfAbsent} */
  createIfAbsent(
    key: string,
    value: Uint8Array,
    options: { ttlSeconds?: number } = {},
  ): Promise<boolean> {
    return this.#run("createIfAbsent", async () => {
      const parts = keyParts(key);
      checkValue(value);
      const ttl = checkTtl(options?.ttlSeconds);
      const dataKey = this.#dataKey(parts);
      for (let attempt = 0; attempt < 8; attempt++) {
        const existing = await this.#kv.get(dataKey);
        if (
          existing.versionstamp !== null && isLive(envelopeOf(key, existing.value), Date.now())
        ) return false;
        // Absent, or present but expired (local KV deletes expired keys lazily): replace it only
        // if nobody else touched it since we looked.
        if (await this.#setIfUnchanged(parts, existing.versionstamp, value, ttl)) return true;
      }
      // Lost every round to other writers: the record is theirs.
      return false;
    });
  }

  /** {@inheritDoc KeyStore.replaceIf} */
  replaceIf(
    key: string,
    version: string,
    value: Uint8Array,
    options: { ttlSeconds?: number } = {},
  ): Promise<boolean> {
    return this.#run("replaceIf", async () => {
      const parts = keyParts(key);
      checkValue(value);
      const ttl = checkTtl(options?.ttlSeconds);
      if (typeof version !== "string") throw new KeyStoreError("version must be a string");
      const dataKey = this.#dataKey(parts);
      const existing = await this.#kv.get(dataKey);
      if (
        existing.versionstamp !== version || !isLive(envelopeOf(key, existing.value), Date.now())
      ) return false;
      return await this.#setIfUnchanged(parts, version, value, ttl);
    });
  }

  /** Sets the record to `value` in one atomic operation if its versionstamp is still `seen`. */
  async #setIfUnchanged(
    parts: string[],
    seen: string | null,
    value: Uint8Array,
    ttl: number | undefined,
  ): Promise<boolean> {
    const dataKey = this.#dataKey(parts);
    const envelope: Envelope = {
      value: value.slice(),
      expiresAt: ttl === undefined ? null : Date.now() + ttl * 1000,
    };
    const op = this.#kv.atomic()
      .check({ key: dataKey, versionstamp: seen })
      .set(dataKey, envelope, ttl === undefined ? undefined : { expireIn: ttl * 1000 });
    this.#bump(op, parts);
    return (await op.commit()).ok;
  }

  /** {@inheritDoc KeyStore.delete} */
  delete(key: string): Promise<void> {
    return this.#run("delete", async () => {
      const parts = keyParts(key);
      const dataKey = this.#dataKey(parts);
      for (let attempt = 0; attempt < 8; attempt++) {
        const existing = await this.#kv.get(dataKey);
        if (existing.versionstamp === null) return;
        const op = this.#kv.atomic()
          .check({ key: dataKey, versionstamp: existing.versionstamp })
          .delete(dataKey);
        this.#bump(op, parts);
        if ((await op.commit()).ok) return;
      }
      throw new KeyStoreUnavailableError("deno kv: delete kept conflicting with other writers");
    });
  }

  /** {@inheritDoc KeyStore.watch} */
  watch(prefix: string, onChange: () => void, signal: AbortSignal): void {
    const base = prefixParts(prefix);
    if (signal.aborted || this.#closed) return;
    const stop = AbortSignal.any([signal, this.#closing.signal]);
    const loop = this.#watchLoop([this.#ns, "c", ...base], onChange, stop);
    this.#loops.add(loop);
    loop.finally(() => this.#loops.delete(loop));
  }

  /** {@inheritDoc KeyStore.close} */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    await Promise.allSettled([...this.#loops]);
    if (this.#owned) this.#kv.close();
  }

  async #watchLoop(counter: Deno.KvKey, onChange: () => void, stop: AbortSignal): Promise<void> {
    // The newest counter versionstamp reported; undefined until (re)established.
    let seen: string | null | undefined;
    const report = (versionstamp: string | null): void => {
      if (stop.aborted) return;
      if (seen === undefined || (versionstamp ?? "") > (seen ?? "")) {
        seen = versionstamp;
        safeCall(onChange);
      }
    };

    // Same-process writes: at once through kv.watch.
    let stream: ReadableStream<Deno.KvEntryMaybe<unknown>[]> | undefined;
    try {
      stream = this.#kv.watch([counter]);
    } catch {
      stream = undefined; // polling alone still works
    }
    const reader = stream?.getReader();
    const onAbort = () => void reader?.cancel().catch(() => {});
    stop.addEventListener("abort", onAbort, { once: true });
    const watched = (async () => {
      if (reader === undefined) return;
      try {
        while (!stop.aborted) {
          const { done, value } = await reader.read();
          if (done) break;
          if (seen !== undefined) report(value[0].versionstamp);
        }
      } catch {
        // closed or failed: polling carries on
      }
    })();

    // Other processes' writes: by polling.
    while (!stop.aborted) {
      try {
        const entry = await this.#kv.get(counter);
        report(entry.versionstamp);
      } catch {
        seen = undefined; // unavailable: report once when it answers again
      }
      await sleep(this.#pollMs, stop);
    }
    stop.removeEventListener("abort", onAbort);
    await reader?.cancel().catch(() => {});
    await watched;
  }

  #dataKey(parts: string[]): Deno.KvKey {
    return [this.#ns, "d", ...parts];
  }

  /**
   * Touches the change counter of every ancestor path. Only a counter's versionstamp is ever
   * read, so it is overwritten (with a `KvU64`, which older versions of this store `sum`
   * into), never summed: a counter of another type written by someone else cannot make every
   * write fail.
   */
  #bump(op: Deno.AtomicOperation, parts: string[]): void {
    for (let i = 0; i < parts.length; i++) {
      op.set([this.#ns, "c", ...parts.slice(0, i)], new Deno.KvU64(0n));
    }
  }

  async #run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new KeyStoreUnavailableError(`deno kv: ${what} after close()`);
    const deadline = Date.now() + BUSY_RETRY_MS;
    for (let delay = 2;; delay = Math.min(delay * 2, 50)) {
      try {
        return await op();
      } catch (e) {
        if (e instanceof KeyStoreError) throw e;
        // Another process holds SQLite's write lock: nothing was written, so try again.
        if (isBusy(e) && Date.now() < deadline && !this.#closed) {
          await sleep(delay * (0.5 + Math.random()), this.#closing.signal);
          continue;
        }
        throw new KeyStoreUnavailableError(`deno kv: ${what} failed: ${oneLine(errorName(e))}`, {
          cause: e,
        });
      }
    }
  }
}

function checkOptions(options: DenoKvKeyStoreOptions): { ns: string; poll: number } {
  const ns = options?.namespace ?? "key_store";
  const poll = options?.pollIntervalMs ?? 200;
  if (typeof ns !== "string" || ns.length === 0 || encoder.encode(ns).length > 64) {
    throw new KeyStoreError("namespace must be a string of 1..64 UTF-8 bytes");
  }
  if (!Number.isFinite(poll) || poll < 10) {
    throw new KeyStoreError("pollIntervalMs must be a number >= 10");
  }
  return { ns, poll };
}

function isLive(envelope: Envelope, now: number): boolean {
  return envelope.expiresAt === null || envelope.expiresAt > now;
}

/** A key for a message: quoted, one line, cut short. */
function quote(key: string): string {
  return oneLine(JSON.stringify(key), 120);
}

/**
 * The record key of a KV key's parts after `[namespace, "d"]`: strings without "/", joined
 * with "/", of at most `MAX_STORE_KEY_BYTES`; anything else was not written by this store.
 */
function recordKeyOf(parts: Deno.KvKey): string {
  const bad = parts.findIndex((p) => typeof p !== "string" || p.includes("/"));
  const key = bad < 0 ? parts.join("/") : "";
  if (bad >= 0 || encoder.encode(key).length > MAX_STORE_KEY_BYTES) {
    const shown = parts.map((p) => (typeof p === "string" ? p : `<${kindOf(p)}>`)).join("/");
    const why = bad < 0
      ? `longer than ${MAX_STORE_KEY_BYTES} bytes`
      : typeof parts[bad] === "string"
      ? `part ${bad + 1} holds "/"`
      : `part ${bad + 1} is ${kindOf(parts[bad])}, not a string`;
    throw new KeyStoreError(`deno kv: entry ${quote(shown)} is not a record of this store: ${why}`);
  }
  return key;
}

/** The envelope stored at record `key`, checked: this store wrote it, or it is refused. */
function envelopeOf(key: string, stored: unknown): Envelope {
  const refuse = (why: string) =>
    new KeyStoreError(`deno kv: record ${quote(key)} is not a record of this store: ${why}`);
  const proto = stored !== null && typeof stored === "object" ? Object.getPrototypeOf(stored) : 0;
  if (proto !== Object.prototype && proto !== null) {
    throw refuse(`its value is ${kindOf(stored)}, not { value, expiresAt }`);
  }
  const { value, expiresAt } = stored as Record<string, unknown>;
  if (!(value instanceof Uint8Array)) throw refuse(`value is ${kindOf(value)}, not a Uint8Array`);
  if (value.length > MAX_STORE_VALUE_BYTES) {
    throw refuse(`value is longer than ${MAX_STORE_VALUE_BYTES} bytes`);
  }
  if (expiresAt !== null && (typeof expiresAt !== "number" || !Number.isFinite(expiresAt))) {
    throw refuse(`expiresAt is ${kindOf(expiresAt)}, not a number or null`);
  }
  return { value, expiresAt };
}

/** How long an operation retries while another process holds the database lock, in ms. */
const BUSY_RETRY_MS = 5_000;

function isBusy(e: unknown): boolean {
  return e instanceof Error && /database is locked|SQLITE_BUSY/i.test(e.message);
}

function errorName(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The complete path components of a prefix; the last, partial one is matched by string. */
function prefixParts(prefix: string): string[] {
  prefixBytes(prefix);
  const parts = prefix.split("/");
  parts.pop();
  return parts;
}

/** A record key's path components. */
function keyParts(key: string): string[] {
  keyBytes(key);
  return key.split("/");
}
