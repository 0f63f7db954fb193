/**
 * The server session cache: TLS 1.2 session-id resumption and TLS 1.3 stateful tickets
 * (`ssl/ssl_sess.c`: `SSL_CTX_add_session`, `lookup_sess_in_cache`, `SSL_CTX_remove_session`).
 *
 * @module
 */

import type { SslSession } from "../session/ssl_session.ts";

/**
 * OpenSSL's default cache size (`SSL_SESSION_CACHE_MAX_SIZE_DEFAULT`, 20 × 1024).
 *
 * @example
 * ```ts
 * import { DEFAULT_SESSION_CACHE_SIZE } from "@seed/session-tickets";
 * console.log(DEFAULT_SESSION_CACHE_SIZE); // 20480
 * ```
 */
export const DEFAULT_SESSION_CACHE_SIZE = 20 * 1024;

/**
 * A bounded session cache keyed by session id. When it is full, the session that expires first
 * (`time + timeout`; of equal ones, the one added first) makes room, as libssl's cache list,
 * ordered by `timeoutcmp`, gives up its tail; a lookup does not change that order
 * (`lookup_sess_in_cache`). A size of 0 turns the cache off (`SSL_SESS_CACHE_OFF`).
 *
 * @example
 * ```ts
 * import { SessionCache, SslSession } from "@seed/session-tickets";
 * const cache = new SessionCache(2);
 * const s = new SslSession({ sessionId: new Uint8Array(32).fill(1) });
 * cache.add(s);
 * console.log(cache.get(s.sessionId) === s, cache.size); // true 1
 * ```
 */
export class SessionCache {
  /** The most sessions kept; 0 means the cache is off. */
  readonly maxSize: number;
  #map = new Map<string, SslSession>();
  // Whether the map's insertion order is also expiry order (the usual case: one timeout for
  // all), so that the first entry is the one to evict without a scan.
  #inExpiryOrder = true;
  #lastExpiry = -Infinity;

  /** Creates a cache of at most `maxSize` sessions. @param maxSize 0 turns caching off. */
  constructor(maxSize = DEFAULT_SESSION_CACHE_SIZE) {
    this.maxSize = maxSize;
  }

  /** Number of cached sessions. */
  get size(): number {
    return this.#map.size;
  }

  /** Adds (or replaces) a session under its session id. Sessions without an id are not cached. */
  add(session: SslSession): void {
    if (this.maxSize <= 0 || session.sessionId.length === 0) return;
    const key = session.sessionId.toHex();
    this.#map.delete(key);
    if (this.#map.size === 0) {
      this.#inExpiryOrder = true;
      this.#lastExpiry = -Infinity;
    }
    const expiry = session.time + session.timeout;
    if (expiry < this.#lastExpiry) this.#inExpiryOrder = false;
    this.#lastExpiry = expiry;
    this.#map.set(key, session);
    if (this.#map.size > this.maxSize) this.#map.delete(this.#firstToExpire());
  }

  /** The key of the session that expires first; of equal ones, the one added first. */
  #firstToExpire(): string {
    let first = this.#map.keys().next().value!;
    if (this.#inExpiryOrder) return first;
    let earliest = Infinity;
    for (const [key, s] of this.#map) {
      const expiry = s.time + s.timeout;
      if (expiry < earliest) [earliest, first] = [expiry, key];
    }
    return first;
  }

  /** The session with this id, or `undefined`. */
  get(sessionId: Uint8Array): SslSession | undefined {
    return this.#map.get(sessionId.toHex());
  }

  /** Removes a session; returns whether it was there (`SSL_CTX_remove_session`). */
  remove(sessionId: Uint8Array): boolean {
    return this.#map.delete(sessionId.toHex());
  }

  /** Removes every session. */
  clear(): void {
    this.#map.clear();
  }
}
