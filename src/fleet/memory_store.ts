/**
 * An in-process {@link KeyStore} for unit tests: several clients share one set of records (like
 * processes sharing one etcd), and each client has a `down` switch that makes every call on it
 * fail with {@link KeyStoreUnavailableError}, so callers can test how they behave in an outage.
 *
 * @module
 */

import { type KeyStore, KeyStoreUnavailableError, type StoredRecord } from "./key_store.ts";
import { checkTtl, checkValue, keyBytes, prefixBytes } from "./_store_checks.ts";

interface MemoryEntry {
  value: Uint8Array;
  version: number;
  expiresAt: number | null;
}

interface MemoryWatch {
  prefix: string;
  onChange: () => void;
}

/** The state shared by every client of one {@link MemoryKeyStore}. */
class MemoryBackend {
  readonly records = new Map<string, MemoryEntry>();
  readonly listeners = new Set<(key: string) => void>();
  revision = 0;

  constructor(readonly now: () => number, readonly reportTime: boolean) {}

  /** The live entry at `key`, dropping it (and telling watchers) if it has expired. */
  live(key: string): MemoryEntry | null {
    const entry = this.records.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt !== null && entry.expiresAt <= this.now()) {
      this.records.delete(key);
      this.changed(key);
      return null;
    }
    return entry;
  }

  changed(key: string): void {
    for (const listener of this.listeners) listener(key);
  }
}

/** Set by {@link MemoryKeyStore.connect} for the constructor it calls next. */
let sharedBackend: MemoryBackend | undefined;

/** Options for {@link MemoryKeyStore}. */
export interface MemoryKeyStoreOptions {
  /** Clock for TTL expiry, in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Report that clock from `time()`, as etcd reports its `Date` (default false: null). */
  reportTime?: boolean;
}

/**
 * An in-memory {@link KeyStore}. `new MemoryKeyStore()` creates an empty store and its first
 * client; {@link MemoryKeyStore.connect} adds clients that share the records (one per simulated
 * process). Setting {@link MemoryKeyStore.down} on a client simulates an outage for that client:
 * its calls reject with {@link KeyStoreUnavailableError} and its watches go quiet; setting it
 * back to `false` calls each of its watches' `onChange` once (a reconnect).
 *
 * @example
 * ```ts
 * import { KeyStoreUnavailableError, MemoryKeyStore } from "@seed/session-tickets/fleet";
 * const a = new MemoryKeyStore();
 * const b = a.connect();
 * console.log(await a.createIfAbsent("k/1", new Uint8Array([1]))); // true
 * console.log(await b.createIfAbsent("k/1", new Uint8Array([2]))); // false
 * b.down = true;
 * await b.list("k/").catch((e) => console.log(e instanceof KeyStoreUnavailableError)); // true
 * ```
 */
export class MemoryKeyStore implements KeyStore {
  readonly #backend: MemoryBackend;
  readonly #watches = new Set<MemoryWatch>();
  readonly #listener = (key: string): void => this.#notify(key);
  #down = false;
  #closed = false;

  /**
   * Creates an empty store and returns its first client.
   *
   * @param options Clock for TTLs.
   */
  constructor(options: MemoryKeyStoreOptions = {}) {
    this.#backend = sharedBackend ??
      new MemoryBackend(options.now ?? Date.now, options.reportTime === true);
    sharedBackend = undefined;
    this.#backend.listeners.add(this.#listener);
  }

  /**
   * Another client on the same records, with its own `down` switch and watches.
   *
   * @returns The new client.
   *
   * @example
   * ```ts
   * import { MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const a = new MemoryKeyStore();
   * const b = a.connect();
   * await a.createIfAbsent("x", new Uint8Array([7]));
   * console.log((await b.get("x"))?.value); // Uint8Array(1) [ 7 ]
   * ```
   */
  connect(): MemoryKeyStore {
    sharedBackend = this.#backend;
    return new MemoryKeyStore();
  }

  /**
   * Whether this client is cut off from the store (simulated outage).
   *
   * @example
   * ```ts
   * import { MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const store = new MemoryKeyStore();
   * store.down = true;
   * console.log(await store.get("x").catch((e) => e.name)); // "KeyStoreUnavailableError"
   * store.down = false;
   * console.log(await store.get("x")); // null
   * ```
   */
  get down(): boolean {
    return this.#down;
  }

  set down(value: boolean) {
    const wasDown = this.#down;
    this.#down = value;
    if (wasDown && !value) {
      for (const w of this.#watches) this.#fire(w);
    }
  }

  /** {@inheritDoc KeyStore.list} */
  list(prefix: string): Promise<StoredRecord[]> {
    return this.#run(() => {
      prefixBytes(prefix);
      const out: StoredRecord[] = [];
      for (const key of [...this.#backend.records.keys()]) {
        if (!key.startsWith(prefix)) continue;
        const entry = this.#backend.live(key);
        if (entry !== null) out.push(toRecord(key, entry));
      }
      return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    });
  }

  /** {@inheritDoc KeyStore.get} */
  get(key: string): Promise<StoredRecord | null> {
    return this.#run(() => {
      keyBytes(key);
      const entry = this.#backend.live(key);
      return entry === null ? null : toRecord(key, entry);
    });
  }

  /** {@inheritDoc KeyStore.createIfAbsent} */
  createIfAbsent(
    key: string,
    value: Uint8Array,
    options: { ttlSeconds?: number } = {},
  ): Promise<boolean> {
    return this.#putIf(key, value, options, (entry) => entry === null);
  }

  /** {@inheritDoc KeyStore.replaceIf} */
  replaceIf(
    key: string,
    version: string,
    value: Uint8Array,
    options: { ttlSeconds?: number } = {},
  ): Promise<boolean> {
    return this.#putIf(
      key,
      value,
      options,
      (entry) => entry !== null && String(entry.version) === version,
    );
  }

  /** Puts `value` at a new revision when `ok` holds for the live entry (null: none). */
  #putIf(
    key: string,
    value: Uint8Array,
    options: { ttlSeconds?: number },
    ok: (entry: { version: number } | null) => boolean,
  ): Promise<boolean> {
    return this.#run(() => {
      keyBytes(key);
      checkValue(value);
      const ttl = checkTtl(options?.ttlSeconds);
      if (!ok(this.#backend.live(key))) return false;
      const backend = this.#backend;
      backend.records.set(key, {
        value: value.slice(),
        version: ++backend.revision,
        expiresAt: ttl === undefined ? null : backend.now() + ttl * 1000,
      });
      backend.changed(key);
      return true;
    });
  }

  /** {@inheritDoc KeyStore.delete} */
  delete(key: string): Promise<void> {
    return this.#run(() => {
      keyBytes(key);
      if (this.#backend.records.delete(key)) {
        this.#backend.revision++;
        this.#backend.changed(key);
      }
    });
  }

  /** {@inheritDoc KeyStore.watch} */
  watch(prefix: string, onChange: () => void, signal: AbortSignal): void {
    prefixBytes(prefix);
    if (signal.aborted || this.#closed) return;
    const w: MemoryWatch = { prefix, onChange };
    this.#watches.add(w);
    signal.addEventListener("abort", () => this.#watches.delete(w), { once: true });
    if (!this.#down) this.#fire(w);
  }

  /**
   * {@inheritDoc KeyStore.time}
   *
   * The store's clock when created with `reportTime: true`, else null.
   *
   * @example
   * ```ts
   * import { MemoryKeyStore } from "@seed/session-tickets/fleet";
   * console.log(new MemoryKeyStore({ now: () => 42, reportTime: true }).time()); // 42
   * console.log(new MemoryKeyStore().time()); // null
   * ```
   */
  time(): number | null {
    return this.#backend.reportTime ? this.#backend.now() : null;
  }

  /** {@inheritDoc KeyStore.close} */
  close(): Promise<void> {
    this.#closed = true;
    this.#watches.clear();
    this.#backend.listeners.delete(this.#listener);
    return Promise.resolve();
  }

  #notify(key: string): void {
    if (this.#down) return;
    for (const w of this.#watches) {
      if (key.startsWith(w.prefix)) this.#fire(w);
    }
  }

  #fire(w: MemoryWatch): void {
    // Asynchronous, like a real store's change feed, so a writer never runs watchers inline.
    setTimeout(() => {
      if (this.#watches.has(w) && !this.#down) w.onChange();
    }, 0);
  }

  #run<T>(op: () => T): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new KeyStoreUnavailableError("memory store: client closed"));
    }
    if (this.#down) {
      return Promise.reject(new KeyStoreUnavailableError("memory store: down (simulated)"));
    }
    try {
      return Promise.resolve(op());
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

function toRecord(key: string, entry: MemoryEntry): StoredRecord {
  return { key, value: entry.value.slice(), version: String(entry.version) };
}
