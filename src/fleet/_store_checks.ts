/**
 * Private: the argument checks and small async helpers every `KeyStore` shares, so the three
 * stores refuse the same inputs with the same `KeyStoreError` messages.
 *
 * @module
 */

import { KeyStoreError, MAX_STORE_KEY_BYTES, MAX_STORE_VALUE_BYTES } from "./key_store.ts";

const encoder = new TextEncoder();

/** The UTF-8 bytes of a prefix (possibly empty) of at most `MAX_STORE_KEY_BYTES`. */
export function prefixBytes(prefix: string): Uint8Array {
  const bytes = typeof prefix === "string" ? encoder.encode(prefix) : null;
  if (bytes === null || bytes.length > MAX_STORE_KEY_BYTES) {
    throw new KeyStoreError(`prefix must be a string of at most ${MAX_STORE_KEY_BYTES} bytes`);
  }
  return bytes;
}

/** The UTF-8 bytes of a record key of 1 to `MAX_STORE_KEY_BYTES` bytes. */
export function keyBytes(key: string): Uint8Array {
  const bytes = typeof key === "string" ? encoder.encode(key) : null;
  if (bytes === null || bytes.length === 0 || bytes.length > MAX_STORE_KEY_BYTES) {
    throw new KeyStoreError(`key must be a string of 1..${MAX_STORE_KEY_BYTES} UTF-8 bytes`);
  }
  return bytes;
}

/** Refuses anything but a `Uint8Array` of at most `MAX_STORE_VALUE_BYTES`. */
export function checkValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array) || value.length > MAX_STORE_VALUE_BYTES) {
    throw new KeyStoreError(`value must be a Uint8Array of at most ${MAX_STORE_VALUE_BYTES} bytes`);
  }
}

/** A TTL in seconds: absent, or a positive integer. */
export function checkTtl(ttl: number | undefined): number | undefined {
  if (ttl === undefined) return undefined;
  if (!Number.isSafeInteger(ttl) || ttl < 1) {
    throw new KeyStoreError("ttlSeconds must be a positive integer");
  }
  return ttl;
}

/** Calls a watch listener; a throwing one must not end the watch, so its error is rethrown later. */
export function safeCall(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
