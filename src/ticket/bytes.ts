/**
 * The byte helpers every layer shares, one home per rule (not exported from `mod.ts`):
 *
 * - {@link sameBytes}: plain equality, for bytes that are not secret (store values, DER, hello
 *   fields); it stops at the first difference.
 * - {@link constantTimeEqual}: equality in time that depends only on the length, for MACs,
 *   key names, Finished verify_data and binders.
 * - {@link asBufferBytes}: bytes as Web Crypto takes them, copied only off a `SharedArrayBuffer`.
 * - {@link concatBytes}: byte strings one after the other, in one new array.
 *
 * It sits in the ticket layer, the lowest that uses it, so the server, fleet, TLS and CLI layers
 * may import it. (The ticket layer's private byte helpers are in `_bytes.ts`.)
 *
 * @module
 */

/**
 * Whether two byte strings are equal, stopping at the first difference. Not for secrets: use
 * {@link constantTimeEqual} for those.
 *
 * @param a First bytes.
 * @param b Second bytes.
 * @returns Whether `a` and `b` have the same length and the same bytes.
 *
 * @example
 * ```ts
 * import { sameBytes } from "./bytes.ts";
 * console.log(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))); // true
 * console.log(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1]))); // false
 * ```
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Compares two byte strings in time that depends only on their length, with no early exit on
 * content (`CRYPTO_memcmp`, as `ssl/t1_lib.c:tls_decrypt_ticket` compares the MAC): for MACs,
 * ticket key names, Finished verify_data and binders. Lengths are public, so different lengths
 * are simply unequal at once. To compare part of an array, pass a `subarray`.
 *
 * @param a First bytes.
 * @param b Second bytes.
 * @returns Whether `a` and `b` hold the same bytes.
 * @throws {TypeError} If either is not a Uint8Array (its `length` could be undefined and the
 * compare vacuously true).
 *
 * @example
 * ```ts
 * import { constantTimeEqual } from "./bytes.ts";
 * console.log(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))); // true
 * console.log(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))); // false
 * console.log(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1]))); // false
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) {
    throw new TypeError("constantTimeEqual compares Uint8Arrays");
  }
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * `bytes` typed for `crypto.subtle`: the same view when it sits on an `ArrayBuffer`, a copy only
 * when it sits on a `SharedArrayBuffer`.
 *
 * @param bytes Any bytes.
 * @returns `bytes` itself, or a copy on its own `ArrayBuffer`.
 *
 * @example
 * ```ts
 * import { asBufferBytes } from "./bytes.ts";
 * const b = new Uint8Array(4);
 * console.log(asBufferBytes(b) === b); // true
 * const copy = asBufferBytes(new Uint8Array(new SharedArrayBuffer(4)));
 * console.log(copy.buffer instanceof ArrayBuffer); // true
 * ```
 */
export function asBufferBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.buffer instanceof ArrayBuffer) return bytes as Uint8Array<ArrayBuffer>;
  return new Uint8Array(bytes);
}

/**
 * The bytes of `parts`, one after the other, in one new array.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * console.log(Array.from(concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]))); // [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}
