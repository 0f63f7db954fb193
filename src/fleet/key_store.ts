/**
 * The store a fleet shares its ticket keys through: a small key-value interface that Deno KV
 * and etcd v3 both provide, with create-if-absent for leaderless rotation and a change feed.
 *
 * @module
 */

/** One record of a {@link KeyStore}. */
export interface StoredRecord {
  /** The record's key, e.g. `"session-tickets/prod/keys/000000123"`. */
  key: string;
  /** The stored bytes (for ticket keys: wrapped, never raw key material). */
  value: Uint8Array;
  /** A store-assigned version that changes on every write (etcd mod_revision, KV versionstamp). */
  version: string;
}

/**
 * What a fleet needs from a distributed store. Every method rejects with
 * {@link KeyStoreUnavailableError} when the store cannot be reached, so callers can tell an
 * outage from a refusal.
 */
export interface KeyStore {
  /**
   * All records whose key starts with `prefix` (a plain string prefix, `""` for all), sorted by
   * key (code unit order, which is byte order for the ASCII keys a fleet uses).
   */
  list(prefix: string): Promise<StoredRecord[]>;
  /** One record, or `null`. */
  get(key: string): Promise<StoredRecord | null>;
  /**
   * Writes `value` at `key` only if no record is there (an atomic compare-and-set on
   * "absent"). Resolves true when this call created it, false when it already existed. Of any
   * number of concurrent calls for one key, exactly one resolves true. With `ttlSeconds` (a
   * positive integer) the record disappears by itself after about that long (etcd: a lease,
   * Deno KV and memory: the writer's clock); an expired record counts as absent.
   */
  createIfAbsent(
    key: string,
    value: Uint8Array,
    options?: { ttlSeconds?: number },
  ): Promise<boolean>;
  /**
   * Replaces the record at `key` with `value` only if it is still at `version` (an atomic
   * compare-and-swap on the version a read gave). Resolves true when this call replaced it,
   * false when the record changed or vanished meanwhile. Of any number of concurrent calls for
   * one version, at most one resolves true. `ttlSeconds` as for
   * {@link KeyStore.createIfAbsent}.
   */
  replaceIf(
    key: string,
    version: string,
    value: Uint8Array,
    options?: { ttlSeconds?: number },
  ): Promise<boolean>;
  /** Deletes a record (no error when it is already gone). */
  delete(key: string): Promise<void>;
  /**
   * Calls `onChange` (with no detail: re-read with {@link KeyStore.list}) after records under
   * `prefix` change, until `signal` aborts. Returns at once; never throws for an outage.
   * `onChange` is also called once each time the watch is (re)established, the first time
   * included, since changes may have been missed while it was not; it may be called when
   * nothing under `prefix` changed (callers re-read, so that is harmless). Reconnects by itself
   * after an outage. Expiry of a TTL record is reported by etcd, not by Deno KV or memory.
   */
  watch(prefix: string, onChange: () => void, signal: AbortSignal): void;
  /**
   * The store's own clock now (ms), estimated from its last answer, or null when it gives none
   * (etcd: its HTTP `Date` header, to the second; Deno KV gives none). A fleet compares it with
   * its own clock to notice a clock that is wrong. Optional.
   */
  time?(): number | null;
  /** Releases connections and watches. */
  close(): Promise<void>;
}

/**
 * The store refused a request: a malformed key or prefix, a value over the size limit, or
 * (Deno KV) a record this store cannot have written. Not retried; {@link KeyStoreUnavailableError}
 * (a subclass) marks the errors that are about reachability instead. Messages are one line.
 *
 * @example
 * ```ts
 * import { KeyStoreError } from "@seed/session-tickets/fleet";
 * const e = new KeyStoreError("key must be 1..512 UTF-8 bytes");
 * console.log(e.name, e instanceof Error); // "KeyStoreError" true
 * ```
 */
export class KeyStoreError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was refused and why (never a stored value).
   * @param options `cause`: the underlying error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KeyStoreError";
  }
}

/**
 * The store could not be reached: a network error, a timeout, or no endpoint gave a usable
 * answer (etcd: an answer of the wrong shape or over `maxResponseBytes` counts as a failing
 * endpoint, and the next one is tried).
 *
 * @example
 * ```ts
 * import { KeyStoreUnavailableError } from "@seed/session-tickets/fleet";
 * console.log(new KeyStoreUnavailableError("etcd: all 3 endpoints down").name); // "KeyStoreUnavailableError"
 * ```
 */
export class KeyStoreUnavailableError extends KeyStoreError {
  /**
   * Creates the error.
   *
   * @param message What could not be reached and why.
   * @param options `cause`: the underlying error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KeyStoreUnavailableError";
  }
}

/**
 * Largest key, in UTF-8 bytes, that every store accepts (Deno KV limits a whole key to 2 KiB).
 *
 * @example
 * ```ts
 * import { MAX_STORE_KEY_BYTES } from "@seed/session-tickets/fleet";
 * console.log(MAX_STORE_KEY_BYTES); // 512
 * ```
 */
export const MAX_STORE_KEY_BYTES = 512;

/**
 * Largest value, in bytes, that every store accepts (Deno KV limits a value to 64 KiB).
 *
 * @example
 * ```ts
 * import { MAX_STORE_VALUE_BYTES } from "@seed/session-tickets/fleet";
 * console.log(MAX_STORE_VALUE_BYTES); // 49152
 * ```
 */
export const MAX_STORE_VALUE_BYTES = 48 * 1024;
