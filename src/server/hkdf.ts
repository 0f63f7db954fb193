/**
 * HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label and Derive-Secret (RFC 8446 §7.1),
 * synchronous, on the SHA-2 of `sha2.ts`: the one implementation that the ticket engine (the
 * resumption PSK of every TLS 1.3 ticket) and the TLS server's key schedule both use. A
 * handshake makes about thirty small HMAC calls; doing them without a promise each is several
 * times faster than Web Crypto here (`bench/tls_hash_bench.ts`).
 *
 * Secrets are returned as fresh `Uint8Array<ArrayBuffer>`s and never appear in error messages.
 * Caller mistakes (unknown hash, wrong lengths) raise `TlsAlert` internal_error (80).
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "./alert.ts";
import { HmacKey, sha2 } from "../crypto/sha2.ts";

/** The hash of a TLS 1.3 cipher suite. */
export type HashName = "SHA-256" | "SHA-384";

export function internal(message: string): TlsAlert {
  return new TlsAlert(AlertDescription.INTERNAL_ERROR, message);
}

/** Hash.length for `hash`, or internal_error for anything but SHA-256 / SHA-384. */
export function hashLength(hash: HashName): 32 | 48 {
  if (hash === "SHA-256") return 32;
  if (hash === "SHA-384") return 48;
  throw internal(`unsupported hash ${String(hash)}`);
}

export function checkBytes(what: string, value: Uint8Array, min: number, max: number): void {
  if (!(value instanceof Uint8Array)) throw internal(`${what} must be a Uint8Array`);
  if (value.length < min || value.length > max) {
    throw internal(
      min === max
        ? `${what} must be ${min} bytes, got ${value.length}`
        : `${what} must be ${min}..${max} bytes, got ${value.length}`,
    );
  }
}

export const EMPTY = new Uint8Array(0);
export const ZEROS: Record<HashName, Uint8Array> = {
  "SHA-256": new Uint8Array(32),
  "SHA-384": new Uint8Array(48),
};
export const EMPTY_HASH: Record<HashName, Uint8Array> = {
  "SHA-256": sha2("SHA-256", EMPTY),
  "SHA-384": sha2("SHA-384", EMPTY),
};

// "tls13 " + label, UTF-8, cached: the handshake uses a dozen labels over and over.
const LABELS = new Map<string, Uint8Array>();
const encoder = new TextEncoder();
export function fullLabel(label: string): Uint8Array {
  let full = LABELS.get(label);
  if (full === undefined) {
    if (typeof label !== "string") throw internal("HKDF-Expand-Label label must be a string");
    full = encoder.encode("tls13 " + label);
    if (full.length > 255) throw internal("HKDF-Expand-Label label longer than 249 bytes");
    if (LABELS.size < 64) LABELS.set(label, full);
  }
  return full;
}

// Scratch for expandLabel: the longest HkdfLabel (label and context of 255 bytes each) with the
// counter byte, and one HMAC output. Typed arrays are costly to allocate on Deno (each gets its
// own backing store), and everything here is synchronous, so no two calls share them at once.
const INFO = new Uint8Array(2 + 1 + 255 + 1 + 255 + 1);
const BLOCK = new Uint8Array(48);

/**
 * HKDF-Expand (RFC 5869 §2.3) with a prepared key. `info` carries one spare byte at its end for
 * the block counter, so the usual single-block case is one HMAC over `info` as given.
 */
function expand(key: HmacKey, info: Uint8Array, length: number): Uint8Array<ArrayBuffer> {
  const hLen = key.outputLength;
  const last = info.length - 1;
  if (length <= hLen) {
    info[last] = 1;
    if (length === hLen) return key.sign(info);
    // A shorter output (a traffic key or IV) is cut from T(1) in scratch, then wiped there.
    key.signInto(info, BLOCK, 0);
    const out = BLOCK.slice(0, length);
    BLOCK.fill(0, 0, hLen);
    return out;
  }
  const out = new Uint8Array(length);
  // Block input: T(i-1) | info | i (T(0) is empty).
  const block = new Uint8Array(hLen + info.length);
  block.set(info.subarray(0, last), hLen);
  let start: number = hLen;
  for (let i = 1, done = 0; done < length; i++, done += hLen) {
    block[block.length - 1] = i;
    key.signInto(block.subarray(start), block, 0);
    out.set(block.subarray(0, Math.min(hLen, length - done)), done);
    start = 0;
  }
  block.fill(0);
  return out;
}

/** HKDF-Expand-Label with a prepared key; arguments already validated except the label. */
export function expandLabel(
  key: HmacKey,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array<ArrayBuffer> {
  const full = fullLabel(label);
  // HkdfLabel (RFC 8446 §7.1): uint16 length | opaque label<7..255> | opaque context<0..255>,
  // plus the HKDF-Expand counter byte, built in scratch (public bytes; the code is synchronous).
  const info = INFO.subarray(0, 2 + 1 + full.length + 1 + context.length + 1);
  info[0] = length >>> 8;
  info[1] = length & 0xff;
  info[2] = full.length;
  info.set(full, 3);
  info[3 + full.length] = context.length;
  info.set(context, 4 + full.length);
  return expand(key, info, length);
}

/**
 * HKDF-Extract (RFC 5869 §2.2): `HMAC-Hash(salt, IKM)`. An empty salt is the same as
 * Hash.length zero bytes.
 *
 * @param hash The suite hash.
 * @param salt The salt (any length).
 * @param ikm The input keying material (any length).
 * @returns The pseudorandom key, Hash.length bytes. Secret: do not log.
 * @throws {TlsAlert} internal_error (80) on a bad hash or a non-Uint8Array.
 *
 * @example
 * ```ts
 * import { hkdfExtract } from "./hkdf.ts";
 * // The early secret without a PSK (RFC 8448 §3).
 * const early = hkdfExtract("SHA-256", new Uint8Array(0), new Uint8Array(32));
 * console.log(early.toHex().slice(0, 16)); // "33ad0a1c607ec03b"
 * ```
 */
export function hkdfExtract(
  hash: HashName,
  salt: Uint8Array,
  ikm: Uint8Array,
): Uint8Array<ArrayBuffer> {
  hashLength(hash);
  checkBytes("HKDF salt", salt, 0, Number.MAX_SAFE_INTEGER);
  checkBytes("HKDF IKM", ikm, 0, Number.MAX_SAFE_INTEGER);
  return new HmacKey(hash, salt).sign(ikm);
}

/**
 * HKDF-Expand (RFC 5869 §2.3): the first `length` bytes of `T(1) | T(2) | …` with
 * `T(i) = HMAC(PRK, T(i-1) | info | i)`.
 *
 * @param hash The suite hash.
 * @param prk The pseudorandom key (at least one byte).
 * @param info The context information (any length).
 * @param length Output length, 1 … 255·Hash.length.
 * @returns `length` bytes.
 * @throws {TlsAlert} internal_error (80) on a bad hash, an empty key or a bad length.
 *
 * @example
 * ```ts
 * import { hkdfExpand } from "./hkdf.ts";
 * const okm = hkdfExpand("SHA-256", new Uint8Array(32).fill(1), new Uint8Array(0), 42);
 * console.log(okm.length); // 42
 * ```
 */
export function hkdfExpand(
  hash: HashName,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array<ArrayBuffer> {
  const hLen = hashLength(hash);
  checkBytes("HKDF PRK", prk, 1, Number.MAX_SAFE_INTEGER);
  checkBytes("HKDF info", info, 0, Number.MAX_SAFE_INTEGER);
  checkLength(length, 255 * hLen);
  const withCounter = new Uint8Array(info.length + 1);
  withCounter.set(info);
  return expand(new HmacKey(hash, prk), withCounter, length);
}

function checkLength(length: number, max: number): void {
  if (!Number.isInteger(length) || length < 1 || length > max) {
    throw internal(`HKDF output length must be 1..${max}`);
  }
}

/**
 * HKDF-Expand-Label (RFC 8446 §7.1): `HKDF-Expand(Secret, HkdfLabel, Length)` where `HkdfLabel`
 * is `uint16 Length | opaque "tls13 " + Label | opaque Context`.
 *
 * @param hash The suite hash.
 * @param secret The secret (at least one byte; in TLS always Hash.length).
 * @param label The label without the `"tls13 "` prefix, e.g. `"key"` (at most 249 bytes).
 * @param context The context (at most 255 bytes): a transcript hash, a ticket nonce, or empty.
 * @param length Output length, 1 … 255·Hash.length.
 * @returns `length` bytes. Secret: do not log.
 * @throws {TlsAlert} internal_error (80) on a bad hash, label, context or length.
 *
 * @example
 * ```ts
 * import { hkdfExpandLabel } from "./hkdf.ts";
 * const iv = hkdfExpandLabel("SHA-256", new Uint8Array(32), "iv", new Uint8Array(0), 12);
 * console.log(iv.length); // 12
 * ```
 */
export function hkdfExpandLabel(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array<ArrayBuffer> {
  const hLen = hashLength(hash);
  checkBytes("HKDF-Expand-Label secret", secret, 1, Number.MAX_SAFE_INTEGER);
  checkBytes("HKDF-Expand-Label context", context, 0, 255);
  checkLength(length, 255 * hLen);
  fullLabel(label);
  return expandLabel(new HmacKey(hash, secret), label, context, length);
}

/**
 * Derive-Secret (RFC 8446 §7.1): `HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages),
 * Hash.length)`, taking the transcript hash rather than the messages.
 *
 * @param hash The suite hash.
 * @param secret The stage secret, Hash.length bytes.
 * @param label The label without the `"tls13 "` prefix, e.g. `"c hs traffic"`.
 * @param transcriptHash `Transcript-Hash(Messages)`, Hash.length bytes (for no messages: the
 *   hash of the empty string).
 * @returns Hash.length bytes. Secret: do not log.
 * @throws {TlsAlert} internal_error (80) on a bad hash or lengths.
 *
 * @example
 * ```ts
 * import { deriveSecret } from "./hkdf.ts";
 * import { TranscriptHash } from "../tls/key_schedule.ts";
 * const empty = new TranscriptHash("SHA-384").digest();
 * const derived = deriveSecret("SHA-384", new Uint8Array(48), "derived", empty);
 * console.log(derived.length); // 48
 * ```
 */
export function deriveSecret(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  transcriptHash: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const hLen = hashLength(hash);
  checkBytes("Derive-Secret secret", secret, hLen, hLen);
  checkBytes("transcript hash", transcriptHash, hLen, hLen);
  fullLabel(label);
  return expandLabel(new HmacKey(hash, secret), label, transcriptHash, hLen);
}
