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
 *
 * @example
 * ```ts
 * import type { KeyStore } from "@seed/session-tickets";
 * async function keysOf(store: KeyStore) {
 *   return (await store.list("session-tickets/demo/keys/")).map((r) => r.key);
 * }
 * console.log(typeof keysOf);
 * ```
 */
export interface KeyStore {
  /** All records whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoredRecord[]>;
  /** One record, or `null`. */
  get(key: string): Promise<StoredRecord | null>;
  /**
   * Writes `value` at `key` only if no record is there (an atomic compare-and-set on
   * "absent"). Resolves true when this call created it, false when it already existed. Of any
   * number of concurrent calls for one key, exactly one resolves true.
   */
  createIfAbsent(key: string, value: Uint8Array, options?: { ttlSeconds?: number }): Promise<boolean>;
  /** Deletes a record (no error when it is already gone). */
  delete(key: string): Promise<void>;
  /**
   * Calls `onChange` (with no detail: re-read with {@link KeyStore.list}) after records under
   * `prefix` change, until `signal` aborts. Reconnects by itself after an outage and calls
   * `onChange` once reconnected, since changes may have been missed.
   */
  watch(prefix: string, onChange: () => void, signal: AbortSignal): void;
  /** Releases connections and watches. */
  close(): Promise<void>;
}

/**
 * The store could not be reached (network error, timeout, every endpoint down).
 *
 * @example
 * ```ts
 * import { KeyStoreUnavailableError } from "@seed/session-tickets";
 * console.log(new KeyStoreUnavailableError("etcd: all 3 endpoints down").name); // "KeyStoreUnavailableError"
 * ```
 */
export class KeyStoreUnavailableError extends Error {
  /**
   * Creates the error.
   *
   * @param message What could not be reached and why.
   */
  constructor(message: string) {
    super(message);
    this.name = "KeyStoreUnavailableError";
  }
}
